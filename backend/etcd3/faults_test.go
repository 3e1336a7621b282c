package etcd3_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestCommitToAStoppedServerIsIndeterminate(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{RequestTimeout: 300 * time.Millisecond})
	_, err := b.Create(ctx, "/a", "1", backend.NoLease)
	assert.NilError(t, err)
	e.Stop()
	// Let the client see the connection go first: a commit sent as it
	// closes fails with its EOF (ErrUnavailable), not with the deadline.
	sdptest.WaitFor(t, "a read to fail on the stopped server", func() bool {
		rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, _, err := b.Get(rctx, "/a", 0)
		return err != nil
	})

	// The caller's deadline passes while the commit waits for the server.
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = b.Update(dctx, "/a", "2")
	cancel()
	wantPathErr(t, err, backend.ErrIndeterminate, "update", "/a")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// With no deadline of its own, the backend's RequestTimeout passes.
	bg := context.Background()
	_, err = b.Commit(bg, backend.Txn{Then: []backend.Op{backend.Put("/b", "1", backend.NoLease)}})
	wantPathErr(t, err, backend.ErrIndeterminate, "commit", "/b")
	assert.ErrorIs(t, err, backend.ErrUnavailable)
	_, err = b.Delete(bg, "/a", backend.DeleteOptions{})
	wantPathErr(t, err, backend.ErrIndeterminate, "delete", "/a")

	// A context that ended before the commit was sent is just that.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b.Create(cctx, "/c", "1", backend.NoLease)
	wantPathErr(t, err, context.Canceled, "create", "/c")
	assert.Assert(t, !errors.Is(err, backend.ErrIndeterminate), "%v", err)

	// Nothing was retried behind our back: after a restart the store holds
	// exactly what was committed before the stop.
	e.Restart(t)
	kv, _, err := b.Get(ctx, "/a", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "1")
	_, _, err = b.Get(ctx, "/b", 0)
	assert.ErrorIs(t, err, backend.ErrNotFound)
}

func TestReadsRetryUntilTheServerIsBack(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{
		RequestTimeout: 200 * time.Millisecond,
		Retry:          etcd3.RetryConfig{MaxAttempts: 1000, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond},
	})
	_, err := b.Create(ctx, "/a", "1", backend.NoLease)
	assert.NilError(t, err)
	e.Stop()

	type result struct {
		kv  backend.KeyValue
		err error
	}
	got := make(chan result, 1)
	go func() {
		kv, _, err := b.Get(context.Background(), "/a", 0)
		got <- result{kv, err}
	}()
	e.Restart(t)
	r := <-got
	assert.NilError(t, r.err)
	assert.Equal(t, r.kv.Value, "1")
}

func TestReadsGiveUpWithErrUnavailable(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{
		RequestTimeout: 100 * time.Millisecond,
		Retry:          etcd3.RetryConfig{MaxAttempts: 3, InitialInterval: 10 * time.Millisecond},
	})
	e.Stop()
	// Requests with no deadline of their own get RequestTimeout per attempt.
	bg := context.Background()
	_, _, err := b.Get(bg, "/a", 0)
	wantPathErr(t, err, backend.ErrUnavailable, "get", "/a")
	assert.ErrorContains(t, err, "after 3 attempts")
	_, err = b.List(bg, "/", backend.ListOptions{})
	wantPathErr(t, err, backend.ErrUnavailable, "list", "/")
	_, err = b.Revision(bg)
	assert.ErrorIs(t, err, backend.ErrUnavailable)
	_, err = b.Lease(bg, time.Second)
	assert.ErrorIs(t, err, backend.ErrUnavailable)

	// The caller's context bounds the retries.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, _, err = b.Get(cctx, "/a", 0)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestNewFailsWhenNobodyAnswers(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	eps := e.Endpoints()
	e.Stop()
	_, err := etcd3.New(ctx, etcd3.Config{Endpoints: eps, DialTimeout: 200 * time.Millisecond})
	assert.ErrorIs(t, err, backend.ErrUnavailable)
	assert.ErrorContains(t, err, eps[0])
}

func TestBackendOverAClusterSurvivesLosingTheLeader(t *testing.T) {
	ctx := testCtx(t)
	c := sdptest.NewCluster(t, 3)
	b := c.Backend(t, etcd3.Config{RequestTimeout: 2 * time.Second})
	rev, err := b.Create(ctx, "/a", "1", backend.NoLease)
	assert.NilError(t, err)
	w, err := b.Watch(ctx, []backend.Range{backend.Key("/a")}, rev)
	assert.NilError(t, err)
	defer w.Close()

	lead, err := c.WaitLeader(ctx)
	assert.NilError(t, err)
	c.Stop(lead)
	kv, _, err := b.Get(ctx, "/a", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "1")
	_, err = c.WaitLeader(ctx)
	assert.NilError(t, err)
	rev2, err := b.Update(ctx, "/a", "2")
	for errors.Is(err, backend.ErrIndeterminate) { // the leader's loss may cost an attempt
		var kv backend.KeyValue
		kv, _, err = b.Get(ctx, "/a", 0)
		assert.NilError(t, err)
		if kv.Value == "2" {
			rev2 = kv.ModRevision
			break
		}
		rev2, err = b.Update(ctx, "/a", "2")
	}
	assert.NilError(t, err)

	// The watch saw the create and the update, or ended with ErrUnavailable
	// (it requires a leader) and is resumed from where it stopped.
	events := collect(ctx, t, b, w, []backend.Range{backend.Key("/a")}, rev2)
	assert.Equal(t, len(events), 2)
	assert.Equal(t, events[0].KV.ModRevision, rev)
	assert.Equal(t, events[1].KV.ModRevision, rev2)
	assert.Equal(t, events[1].KV.Value, "2")
}
