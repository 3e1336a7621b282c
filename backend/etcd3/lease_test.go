package etcd3_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// poll waits until cond holds, failing the test when ctx ends first.
func poll(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// remaining returns the lease's remaining TTL in seconds as etcd reports
// it (-1 once it is gone).
func remaining(ctx context.Context, t *testing.T, cli *clientv3.Client, l backend.Lease) int64 {
	t.Helper()
	resp, err := cli.TimeToLive(ctx, clientv3.LeaseID(l.ID()))
	assert.NilError(t, err)
	return resp.TTL
}

func TestLeaseTTLIsRoundedUpToSeconds(t *testing.T) {
	ctx := testCtx(t)
	b := sdptest.NewBackend(t)
	for ask, want := range map[time.Duration]time.Duration{
		0:                       time.Second,
		time.Millisecond:        time.Second,
		1500 * time.Millisecond: 2 * time.Second,
		3 * time.Second:         3 * time.Second,
	} {
		l, err := b.Lease(ctx, ask)
		assert.NilError(t, err)
		assert.Equal(t, l.TTL(), want, "asked for %v", ask)
		assert.NilError(t, l.Revoke(ctx))
	}
	// etcd's maximum TTL is 9e9 s: the longest Duration is beyond it.
	_, err := b.Lease(ctx, time.Duration(math.MaxInt64))
	assert.ErrorIs(t, err, backend.ErrInvalidValue)
}

func TestLeaseIsKeptAlive(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{})
	raw := e.Client(t)
	l, err := b.Lease(ctx, 3*time.Second)
	assert.NilError(t, err)
	defer l.Close()
	_, err = b.Create(ctx, "/alive", "1", l.ID())
	assert.NilError(t, err)
	kv, _, err := b.Get(ctx, "/alive", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Lease, l.ID())

	// Keep-alives go every TTL/3: the remaining TTL (whole seconds, rounded
	// down) drops to 1, then a keep-alive brings it back to 2.
	start := time.Now()
	for time.Since(start) < l.TTL() {
		poll(ctx, t, "remaining TTL drops", func() bool { return remaining(ctx, t, raw, l) == 1 })
		poll(ctx, t, "keep-alive refreshes the TTL", func() bool { return remaining(ctx, t, raw, l) == 2 })
	}
	select {
	case <-l.Done():
		t.Fatalf("lease ended: %v", l.Err())
	default:
	}
	assert.NilError(t, l.Err())
	// The key outlived the TTL it was created with.
	_, _, err = b.Get(ctx, "/alive", 0)
	assert.NilError(t, err)
}

func TestLeaseCloseStopsKeepAliveWithoutRevoking(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{})
	raw := e.Client(t)
	l, err := b.Lease(ctx, time.Second)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/k", "1", l.ID())
	assert.NilError(t, err)

	assert.NilError(t, l.Close())
	assert.NilError(t, l.Close()) // idempotent
	<-l.Done()
	assert.ErrorIs(t, l.Err(), backend.ErrClosed)
	assert.Assert(t, remaining(ctx, t, raw, l) >= 0, "Close revoked the lease")

	// The key vanishes by itself once the TTL runs out.
	poll(ctx, t, "the key expires", func() bool {
		_, _, err := b.Get(ctx, "/k", 0)
		return errors.Is(err, backend.ErrNotFound)
	})
	// Revoking now finds nothing to revoke.
	assert.ErrorIs(t, l.Revoke(ctx), backend.ErrLeaseExpired)
}

func TestLeaseRevoke(t *testing.T) {
	ctx := testCtx(t)
	b := sdptest.NewBackend(t)
	l, err := b.Lease(ctx, time.Minute)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/k", "1", l.ID())
	assert.NilError(t, err)
	assert.NilError(t, l.Revoke(ctx))
	<-l.Done()
	assert.ErrorIs(t, l.Err(), backend.ErrLeaseExpired)
	_, _, err = b.Get(ctx, "/k", 0)
	assert.ErrorIs(t, err, backend.ErrNotFound)
	assert.ErrorIs(t, l.Revoke(ctx), backend.ErrLeaseExpired)
	_, err = b.Create(ctx, "/k", "1", l.ID())
	assert.ErrorIs(t, err, backend.ErrLeaseExpired)
	assert.NilError(t, l.Close())
}

func TestLeaseRevokedElsewhereEndsWithErrLeaseExpired(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{})
	l, err := b.Lease(ctx, 3*time.Second)
	assert.NilError(t, err)
	defer l.Close()
	_, err = e.Client(t).Revoke(ctx, clientv3.LeaseID(l.ID()))
	assert.NilError(t, err)
	// The next keep-alive (one goes every TTL/3) learns that the lease is
	// gone.
	select {
	case <-l.Done():
	case <-ctx.Done():
		t.Fatal("lease still alive after being revoked")
	}
	assert.ErrorIs(t, l.Err(), backend.ErrLeaseExpired)
}

func TestLeaseLostWithTheServerEndsWithErrUnavailable(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	// The etcd client waits DialTimeout+1s for the first keep-alive answer,
	// then a TTL for each next one.
	b := e.Backend(t, etcd3.Config{DialTimeout: time.Second, RequestTimeout: 200 * time.Millisecond})
	l, err := b.Lease(ctx, time.Second)
	assert.NilError(t, err)
	defer l.Close()
	e.Stop()
	// Keep-alives go unanswered for a TTL; the store cannot say whether the
	// lease lives on.
	select {
	case <-l.Done():
	case <-ctx.Done():
		t.Fatal("lease still alive a minute after its server stopped")
	}
	assert.ErrorIs(t, l.Err(), backend.ErrUnavailable)
}

// TestLeaseTTLAsGranted checks that a lease reports the TTL the server
// granted: Debian's etcd 3.4, with its default 1 s election timeout, raises
// 1 s to its minimum of 2 s (memory.WithMinLeaseTTL copies that rule).
func TestLeaseTTLAsGranted(t *testing.T) {
	b := sdptest.NewDebianEtcd(t).Backend(t, etcd3.Config{})
	for asked, want := range map[time.Duration]time.Duration{time.Second: 2 * time.Second, 3 * time.Second: 3 * time.Second} {
		l, err := b.Lease(context.Background(), asked)
		assert.NilError(t, err)
		assert.Equal(t, l.TTL(), want, "asked %v", asked)
		assert.NilError(t, l.Close())
	}
}
