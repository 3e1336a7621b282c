package etcd3_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// collect reads w as a watcher following the SPI does, until it has seen an
// event at revision upTo or later: when the stream ends with
// ErrUnavailable it watches again from the last revision seen plus one. It
// fails the test on any other end, on an event out of revision order, and
// when ctx ends. The stream it ends with is closed by the test's cleanup.
func collect(ctx context.Context, t *testing.T, b backend.Backend, w backend.WatchStream, ranges []backend.Range, upTo int64) []backend.Event {
	t.Helper()
	var events []backend.Event
	var last int64
	for last < upTo {
		select {
		case r, ok := <-w.Responses():
			if !ok {
				t.Fatalf("watch closed without an error after revision %d", last)
			}
			if r.Err != nil {
				if !errors.Is(r.Err, backend.ErrUnavailable) {
					t.Fatalf("watch ended with %v after revision %d", r.Err, last)
				}
				var err error
				t.Logf("watching again from revision %d after %v", last+1, r.Err)
				w, err = b.Watch(ctx, ranges, last+1)
				assert.NilError(t, err)
				t.Cleanup(func() { w.Close() })
				continue
			}
			for _, ev := range r.Events {
				if ev.KV.ModRevision < last {
					t.Fatalf("event at revision %d after one at %d", ev.KV.ModRevision, last)
				}
				last = ev.KV.ModRevision
				events = append(events, ev)
			}
		case <-ctx.Done():
			t.Fatalf("waiting for revision %d: %v (last seen %d)", upTo, ctx.Err(), last)
		}
	}
	return events
}

func TestWatchAcrossARestartHasNoGapNorDuplicate(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{Prefix: "/app"})
	ranges := []backend.Range{backend.PrefixAt("/pb/", 0)}
	w, err := b.Watch(ctx, ranges, 0)
	assert.NilError(t, err)
	t.Cleanup(func() { w.Close() })

	var revs []int64
	put := func(path, value string) {
		t.Helper()
		r, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put(path, value, backend.NoLease)}})
		assert.NilError(t, err)
		revs = append(revs, r.Revision)
	}
	put("/pb/a", "1")
	put("/pb/b", "1")
	e.Stop()
	e.Restart(t)
	put("/pb/a", "2")
	put("/pb/c", "1")

	events := collect(ctx, t, b, w, ranges, revs[len(revs)-1])
	got := make([]int64, len(events))
	for i, ev := range events {
		got[i] = ev.KV.ModRevision
	}
	assert.DeepEqual(t, got, revs)
	assert.Equal(t, events[2].KV.Value, "2")
	assert.Equal(t, events[2].Prev.Value, "1")
}

func TestWatchFiltersTheCoveringInterval(t *testing.T) {
	ctx := testCtx(t)
	b := sdptest.NewBackend(t)
	// One etcd watch covers "2/a/x" to "2/c/...": "/b/y" is inside it but in
	// no range, "/a/x/deep" is at another depth.
	ranges := []backend.Range{backend.Key("/a/x"), backend.PrefixAt("/c/", 0)}
	w, err := b.Watch(ctx, ranges, 0)
	assert.NilError(t, err)
	defer w.Close()
	var want []int64
	for _, p := range []string{"/b/y", "/a/x", "/a/x/deep", "/c/1", "/b/z", "/c/2"} {
		r, err := b.Create(ctx, p, "v", backend.NoLease)
		assert.NilError(t, err)
		if p == "/a/x" || p == "/c/1" || p == "/c/2" {
			want = append(want, r)
		}
	}
	events := collect(ctx, t, b, w, ranges, want[len(want)-1])
	var got []int64
	var paths []string
	for _, ev := range events {
		got = append(got, ev.KV.ModRevision)
		paths = append(paths, ev.KV.Path)
	}
	assert.DeepEqual(t, got, want)
	assert.DeepEqual(t, paths, []string{"/a/x", "/c/1", "/c/2"})
}

func TestCloseEndsStreamsAndLeases(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b, err := etcd3.New(ctx, etcd3.Config{Endpoints: e.Endpoints()})
	assert.NilError(t, err)
	w1, err := b.Watch(ctx, []backend.Range{backend.Key("/a")}, 0)
	assert.NilError(t, err)
	w2, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/", 0)}, 1)
	assert.NilError(t, err)
	l, err := b.Lease(ctx, time.Minute)
	assert.NilError(t, err)

	assert.NilError(t, b.Close())
	for _, w := range []backend.WatchStream{w1, w2} {
		var last backend.WatchResponse
		for r := range w.Responses() {
			last = r
		}
		assert.ErrorIs(t, last.Err, backend.ErrClosed)
		assert.NilError(t, w.Close())
		assert.ErrorIs(t, w.RequestProgress(ctx), backend.ErrClosed)
	}
	<-l.Done()
	assert.ErrorIs(t, l.Err(), backend.ErrClosed)
	assert.NilError(t, b.Close()) // idempotent

	_, _, err = b.Get(ctx, "/a", 0)
	assert.ErrorIs(t, err, backend.ErrClosed)
	_, err = b.Create(ctx, "/a", "1", backend.NoLease)
	assert.ErrorIs(t, err, backend.ErrClosed)
	_, err = b.Watch(ctx, nil, 0)
	assert.ErrorIs(t, err, backend.ErrClosed)
	_, err = b.Lease(ctx, time.Second)
	assert.ErrorIs(t, err, backend.ErrClosed)
	// The lease was not revoked: it lives on in the store until its TTL.
	ttl, err := e.Client(t).TimeToLive(ctx, clientv3.LeaseID(l.ID()))
	assert.NilError(t, err)
	assert.Assert(t, ttl.TTL > 0, "lease revoked by Close: %+v", ttl)
}

func TestNewFromClientLeavesTheClientOpen(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	cli := e.Client(t)
	b, err := etcd3.NewFromClient(cli, etcd3.Config{Prefix: "/x"})
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/a", "1", backend.NoLease)
	assert.NilError(t, err)
	w, err := b.Watch(ctx, []backend.Range{backend.Key("/a")}, 0)
	assert.NilError(t, err)
	l, err := b.Lease(ctx, time.Minute)
	assert.NilError(t, err)
	assert.NilError(t, b.Close())
	for range w.Responses() {
	}
	<-l.Done()

	// The client still works; goleak (TestMain) checks that the backend's
	// goroutines ended although the client lives on.
	resp, err := cli.Get(ctx, "2/x/a")
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 1)
}

func TestWatchProgressWhileCatchingUpAndBeforeTheStartRevision(t *testing.T) {
	ctx := testCtx(t)
	b := sdptest.NewBackend(t)
	var last int64
	for range 20 {
		r, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", "v", backend.NoLease)}})
		assert.NilError(t, err)
		last = r.Revision
	}
	// From an old revision: etcd drops a progress request until the watch
	// has caught up; the stream asks again until it is answered, after
	// every event.
	w, err := b.Watch(ctx, []backend.Range{backend.Key("/a")}, 1)
	assert.NilError(t, err)
	defer w.Close()
	assert.NilError(t, w.RequestProgress(ctx))
	n := 0
	for r := range w.Responses() {
		assert.NilError(t, r.Err)
		n += len(r.Events)
		if len(r.Events) == 0 {
			assert.Assert(t, r.Revision >= last)
			break
		}
	}
	assert.Equal(t, n, 20)

	// From a revision the store has not reached: etcd ignores progress
	// requests, the stream answers with the store's revision.
	f, err := b.Watch(ctx, []backend.Range{backend.Key("/a")}, last+5)
	assert.NilError(t, err)
	defer f.Close()
	assert.NilError(t, f.RequestProgress(ctx))
	r := <-f.Responses()
	assert.NilError(t, r.Err)
	assert.Equal(t, len(r.Events), 0)
	assert.Equal(t, r.Revision, last)
}

// TestWatchFromRevisionOneOnDebianEtcd: on a server whose progress is
// checked, a watch from revision 1 (sdpcfg watch --rev 1) replays the
// history; it hung when the stream tried to count its ranges at
// revision 0.
func TestWatchFromRevisionOneOnDebianEtcd(t *testing.T) {
	d := sdptest.NewDebianEtcd(t)
	b := d.Backend(t, etcd3.Config{})
	ctx := testCtx(t)
	rev, err := b.Create(ctx, "/w/a", "1", backend.NoLease)
	assert.NilError(t, err)
	w, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/w/", 0)}, 1)
	assert.NilError(t, err)
	defer w.Close()
	assert.NilError(t, w.RequestProgress(ctx))
	var got []backend.Event
	for len(got) == 0 {
		select {
		case resp := <-w.Responses():
			assert.NilError(t, resp.Err)
			got = append(got, resp.Events...)
		case <-ctx.Done():
			t.Fatalf("no event of the watch from revision 1: %v", ctx.Err())
		}
	}
	assert.Equal(t, got[0].KV.ModRevision, rev)
}
