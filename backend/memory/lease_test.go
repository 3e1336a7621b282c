package memory_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newFake(t *testing.T) (*memory.Backend, *memory.FakeClock) {
	clock := memory.NewFakeClock(epoch)
	return newBackend(t, memory.WithClock(clock)), clock
}

func isDone(l backend.Lease) bool {
	select {
	case <-l.Done():
		return true
	default:
		return false
	}
}

func TestLeaseTTLRounding(t *testing.T) {
	ctx := context.Background()
	b, _ := newFake(t)
	for _, tc := range []struct{ in, want time.Duration }{
		{0, time.Second},
		{-time.Second, time.Second},
		{time.Millisecond, time.Second},
		{time.Second, time.Second},
		{1500 * time.Millisecond, 2 * time.Second},
		{10 * time.Second, 10 * time.Second},
		{math.MaxInt64, math.MaxInt64 / time.Second * time.Second},
	} {
		l, err := b.Lease(ctx, tc.in)
		assert.NilError(t, err)
		assert.Equal(t, l.TTL(), tc.want, "ttl %v", tc.in)
		assert.NilError(t, l.Err())
	}
}

func TestKeptAliveLeaseNeverExpires(t *testing.T) {
	ctx := context.Background()
	b, clock := newFake(t)
	l, err := b.Lease(ctx, time.Second)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/live", "1", l.ID())
	assert.NilError(t, err)

	clock.Advance(time.Hour)
	assert.Equal(t, get(t, b, "/live").Lease, l.ID())
	assert.Assert(t, !isDone(l))
	assert.Equal(t, clock.Pending(), 0, "no timer while kept alive")
}

func TestClosedLeaseExpiresAfterTTL(t *testing.T) {
	ctx := context.Background()
	b, clock := newFake(t)
	l, err := b.Lease(ctx, 5*time.Second)
	assert.NilError(t, err)
	other, err := b.Lease(ctx, 5*time.Second)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/l/b", "1", l.ID())
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/l/a", "1", l.ID())
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/l", "1", l.ID())
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/l/c", "1", other.ID())
	assert.NilError(t, err)
	rev := put(t, b, "/plain", "1") // 6

	ws, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/", 0), backend.PrefixAt("/l/", 0)}, 0)
	assert.NilError(t, err)
	defer ws.Close()

	clock.Advance(time.Minute) // kept alive so far
	assert.NilError(t, l.Close())
	assert.NilError(t, l.Close(), "idempotent")
	assert.Assert(t, isDone(l), "the handle ends at Close")
	assert.Assert(t, errors.Is(l.Err(), backend.ErrClosed), "%v", l.Err())

	clock.Advance(4 * time.Second)
	assert.Equal(t, get(t, b, "/l/a").Value, "1", "not expired before its TTL")
	clock.Advance(time.Second)

	// All keys gone in one revision, with delete events in stored-key order.
	for _, p := range []string{"/l", "/l/a", "/l/b"} {
		_, _, err := b.Get(ctx, p, 0)
		assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%s: %v", p, err)
	}
	assert.Equal(t, get(t, b, "/l/c").Value, "1", "another lease's key stays")
	assert.Equal(t, get(t, b, "/plain").Value, "1")
	r, _ := b.Revision(ctx)
	assert.Equal(t, r, rev+1)

	resp := recv(t, ws)
	assert.Equal(t, resp.Revision, rev+1)
	assert.DeepEqual(t, events(resp), []event{
		{Type: backend.EventDelete, Path: "/l", Rev: rev + 1, Prev: "1", IsPrev: true},
		{Type: backend.EventDelete, Path: "/l/a", Rev: rev + 1, Prev: "1", IsPrev: true},
		{Type: backend.EventDelete, Path: "/l/b", Rev: rev + 1, Prev: "1", IsPrev: true},
	})
	assert.Equal(t, resp.Events[1].Prev.Lease, l.ID())

	err = l.Revoke(ctx)
	assert.Assert(t, errors.Is(err, backend.ErrLeaseExpired), "revoking an expired lease: %v", err)
	_, err = b.Create(ctx, "/new", "1", l.ID())
	assert.Assert(t, errors.Is(err, backend.ErrLeaseExpired), "attaching to an expired lease: %v", err)
}

func TestRevokeDeletesKeysAtOnce(t *testing.T) {
	ctx := context.Background()
	b, _ := newFake(t)
	l, err := b.Lease(ctx, time.Hour)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/r/a", "1", l.ID())
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/r/b", "1", l.ID())
	assert.NilError(t, err)

	assert.NilError(t, l.Revoke(ctx))
	assert.Assert(t, isDone(l))
	assert.Assert(t, errors.Is(l.Err(), backend.ErrLeaseExpired), "%v", l.Err())
	res, err := b.List(ctx, "/r/", backend.ListOptions{})
	assert.NilError(t, err)
	assert.Equal(t, len(res.KVs), 0)
	assert.Equal(t, res.Revision, int64(4), "both keys deleted at one revision")

	err = l.Revoke(ctx)
	assert.Assert(t, errors.Is(err, backend.ErrLeaseExpired), "%v", err)
	assert.NilError(t, l.Close())
	assert.Assert(t, errors.Is(l.Err(), backend.ErrLeaseExpired), "the first reason stays: %v", l.Err())
}

func TestRevokeLeaseWithoutKeys(t *testing.T) {
	ctx := context.Background()
	b, _ := newFake(t)
	l, err := b.Lease(ctx, time.Second)
	assert.NilError(t, err)
	assert.NilError(t, l.Revoke(ctx))
	rev, _ := b.Revision(ctx)
	assert.Equal(t, rev, int64(1), "nothing deleted, no new revision")
}

func TestRevokeAfterClose(t *testing.T) {
	ctx := context.Background()
	b, clock := newFake(t)
	l, err := b.Lease(ctx, 10*time.Second)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/a", "1", l.ID())
	assert.NilError(t, err)
	assert.NilError(t, l.Close())
	assert.NilError(t, l.Revoke(ctx), "the lease lives on until its TTL runs out")
	_, _, err = b.Get(ctx, "/a", 0)
	assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
	assert.Equal(t, clock.Pending(), 0, "revoke stops the expiry timer")
}

func TestExpireLeaseHook(t *testing.T) {
	ctx := context.Background()
	b, _ := newFake(t)
	l, err := b.Lease(ctx, time.Hour)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/e", "1", l.ID())
	assert.NilError(t, err)

	assert.NilError(t, b.ExpireLease(l.ID()))
	assert.Assert(t, isDone(l))
	assert.Assert(t, errors.Is(l.Err(), backend.ErrLeaseExpired), "%v", l.Err())
	_, _, err = b.Get(ctx, "/e", 0)
	assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)

	err = b.ExpireLease(l.ID())
	assert.Assert(t, errors.Is(err, backend.ErrLeaseExpired), "%v", err)
	err = b.ExpireLease(12345)
	assert.Assert(t, errors.Is(err, backend.ErrLeaseExpired), "%v", err)
}

func TestLeaseAttachment(t *testing.T) {
	ctx := context.Background()
	b, _ := newFake(t)
	l1, err := b.Lease(ctx, time.Hour)
	assert.NilError(t, err)
	l2, err := b.Lease(ctx, time.Hour)
	assert.NilError(t, err)
	assert.Assert(t, l1.ID() != l2.ID() && l1.ID() != backend.NoLease)

	// A put with an unknown lease writes nothing.
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/ok", "1", 0), backend.Put("/bad", "1", 999)}})
	assert.Assert(t, errors.Is(err, backend.ErrLeaseExpired), "%v", err)
	_, _, err = b.Get(ctx, "/ok", 0)
	assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
	// ...but only the chosen branch's leases are checked, as in etcd.
	res, err := b.Commit(ctx, backend.Txn{
		If:   []backend.Compare{cmp(backend.Key("/x"), backend.Version, backend.Greater, 0)},
		Then: []backend.Op{backend.Put("/bad", "1", 999)},
	})
	assert.NilError(t, err)
	assert.Assert(t, !res.Succeeded)

	_, err = b.Create(ctx, "/moved", "1", l1.ID())
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/detached", "1", l1.ID())
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/kept", "1", l1.ID())
	assert.NilError(t, err)
	put(t, b, "/detached", "2") // NoLease detaches
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/moved", "2", l2.ID())}})
	assert.NilError(t, err)
	_, err = b.Update(ctx, "/kept", "2") // Update keeps the lease
	assert.NilError(t, err)
	assert.Equal(t, get(t, b, "/kept").Lease, l1.ID())
	assert.Equal(t, get(t, b, "/detached").Lease, backend.NoLease)
	assert.Equal(t, get(t, b, "/moved").Lease, l2.ID())

	assert.NilError(t, l1.Revoke(ctx))
	_, _, err = b.Get(ctx, "/kept", 0)
	assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
	assert.Equal(t, get(t, b, "/detached").Value, "2")
	assert.Equal(t, get(t, b, "/moved").Value, "2")

	// A key deleted and created again without a lease is not the lease's.
	_, err = b.Create(ctx, "/again", "1", l2.ID())
	assert.NilError(t, err)
	_, err = b.Delete(ctx, "/again", backend.DeleteOptions{})
	assert.NilError(t, err)
	put(t, b, "/again", "2")
	assert.NilError(t, l2.Revoke(ctx))
	assert.Equal(t, get(t, b, "/again").Value, "2")
}

func TestCloseEndsLeases(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	l, err := b.Lease(ctx, time.Second)
	assert.NilError(t, err)
	closed, err := b.Lease(ctx, time.Hour)
	assert.NilError(t, err)
	assert.NilError(t, closed.Close()) // arms a real timer
	assert.NilError(t, b.Close())
	assert.Assert(t, isDone(l))
	assert.Assert(t, errors.Is(l.Err(), backend.ErrClosed), "%v", l.Err())
	err = l.Revoke(ctx)
	assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
	assert.NilError(t, l.Close())
}

func TestRealClockExpiry(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	l, err := b.Lease(ctx, time.Second)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/rt", "1", l.ID())
	assert.NilError(t, err)
	assert.NilError(t, l.Close())
	waitFor(t, "the key of a closed lease to expire", func() bool {
		_, _, err := b.Get(ctx, "/rt", 0)
		return errors.Is(err, backend.ErrNotFound)
	})
}

// TestMinLeaseTTL grants leases below the minimum TTL at the minimum, as
// etcd does (Debian's etcd 3.4 with its default settings grants 2 s for
// 1 s), and reports what it granted.
func TestMinLeaseTTL(t *testing.T) {
	b := memory.New(memory.WithMinLeaseTTL(1500 * time.Millisecond))
	defer b.Close()
	for asked, want := range map[time.Duration]time.Duration{
		time.Second: 2 * time.Second, 2 * time.Second: 2 * time.Second, 3 * time.Second: 3 * time.Second,
	} {
		l, err := b.Lease(context.Background(), asked)
		assert.NilError(t, err)
		assert.Equal(t, l.TTL(), want, "asked %v", asked)
		assert.NilError(t, l.Close())
	}
}
