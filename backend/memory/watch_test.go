package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
)

func TestWatchLiveEvents(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/w/a", "0") // 2

	ws, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/w/", 0), backend.Key("/solo")}, 0)
	assert.NilError(t, err)
	defer ws.Close()

	put(t, b, "/w/a", "1")      // 3
	put(t, b, "/w/a/deep", "x") // 4: another depth, not watched
	put(t, b, "/solo", "s")     // 5
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{
		backend.Put("/w/b", "2", 0),
		backend.Put("/other", "o", 0),
		backend.Delete(backend.Key("/w/a")),
	}}) // 6
	assert.NilError(t, err)

	resp := recv(t, ws)
	assert.Equal(t, resp.Revision, int64(3))
	assert.DeepEqual(t, events(resp), []event{{Type: backend.EventPut, Path: "/w/a", Value: "1", Rev: 3, Prev: "0", IsPrev: true}})
	assert.Equal(t, resp.Events[0].KV.Version, int64(2))
	assert.Equal(t, resp.Events[0].KV.CreateRevision, int64(2))

	resp = recv(t, ws)
	assert.Equal(t, resp.Revision, int64(5))
	assert.DeepEqual(t, events(resp), []event{{Type: backend.EventPut, Path: "/solo", Value: "s", Rev: 5}})
	assert.Assert(t, resp.Events[0].IsCreate())

	resp = recv(t, ws)
	assert.Equal(t, resp.Revision, int64(6))
	assert.DeepEqual(t, events(resp), []event{
		{Type: backend.EventPut, Path: "/w/b", Value: "2", Rev: 6},
		{Type: backend.EventDelete, Path: "/w/a", Rev: 6, Prev: "1", IsPrev: true},
	})
	assert.DeepEqual(t, resp.Events[1].KV, backend.KeyValue{Path: "/w/a", ModRevision: 6})
	assertNoResponse(t, ws, 6)
}

func TestWatchOverlappingRangesDeliverOnce(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/o/a", "0")
	ws, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/o/", 0), backend.Key("/o/a"), backend.PrefixAt("/", 2)}, 0)
	assert.NilError(t, err)
	defer ws.Close()
	put(t, b, "/o/a", "1")
	resp := recv(t, ws)
	assert.Equal(t, len(resp.Events), 1)

	// And in a replay.
	ws2, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/o/", 0), backend.Key("/o/a")}, 1)
	assert.NilError(t, err)
	defer ws2.Close()
	resp = recv(t, ws2)
	assert.DeepEqual(t, events(resp), []event{
		{Type: backend.EventPut, Path: "/o/a", Value: "0", Rev: 2},
		{Type: backend.EventPut, Path: "/o/a", Value: "1", Rev: 3, Prev: "0", IsPrev: true},
	})
}

func TestWatchFromOldRevision(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/h/a", "1") // 2
	put(t, b, "/h/b", "1") // 3
	put(t, b, "/x", "1")   // 4
	_, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{
		backend.Put("/h/b", "2", 0),
		backend.Delete(backend.Key("/h/a")),
		backend.Put("/h/c", "1", 0),
	}}) // 5

	assert.NilError(t, err)
	ws, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/h/", 0)}, 3)
	assert.NilError(t, err)
	defer ws.Close()

	// The replay comes as one batch, like etcd's catch-up, at the current
	// revision; events of one revision in write order.
	resp := recv(t, ws)
	assert.Equal(t, resp.Revision, int64(5))
	assert.DeepEqual(t, events(resp), []event{
		{Type: backend.EventPut, Path: "/h/b", Value: "1", Rev: 3},
		{Type: backend.EventPut, Path: "/h/b", Value: "2", Rev: 5, Prev: "1", IsPrev: true},
		{Type: backend.EventDelete, Path: "/h/a", Rev: 5, Prev: "1", IsPrev: true},
		{Type: backend.EventPut, Path: "/h/c", Value: "1", Rev: 5},
	})

	put(t, b, "/h/a", "new") // 6: live, right after the replay
	resp = recv(t, ws)
	assert.DeepEqual(t, events(resp), []event{{Type: backend.EventPut, Path: "/h/a", Value: "new", Rev: 6}})
}

func TestWatchFutureRevision(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	ws, err := b.Watch(ctx, []backend.Range{backend.Key("/f")}, 3)
	assert.NilError(t, err)
	defer ws.Close()
	put(t, b, "/f", "2") // 2: before the start
	put(t, b, "/f", "3") // 3
	resp := recv(t, ws)
	assert.DeepEqual(t, events(resp), []event{{Type: backend.EventPut, Path: "/f", Value: "3", Rev: 3, Prev: "2", IsPrev: true}})
}

func TestWatchCompacted(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/c", "1") // 2
	put(t, b, "/c", "2") // 3
	put(t, b, "/c", "3") // 4
	assert.NilError(t, b.Compact(ctx, 3))

	ws, err := b.Watch(ctx, []backend.Range{backend.Key("/c")}, 2)
	assert.NilError(t, err)
	resp := recv(t, ws)
	assert.Assert(t, errors.Is(resp.Err, backend.ErrCompacted), "%v", resp.Err)
	assert.Equal(t, resp.CompactRevision, int64(4))
	assert.Equal(t, len(resp.Events), 0)
	recvClosed(t, ws)
	assert.NilError(t, ws.Close())

	// From the compact revision itself fails too (a watch starts after
	// it); from the next, the previous value at the compact revision is
	// there.
	ws, err = b.Watch(ctx, []backend.Range{backend.Key("/c")}, 3)
	assert.NilError(t, err)
	resp = recv(t, ws)
	assert.Assert(t, errors.Is(resp.Err, backend.ErrCompacted), "%v", resp.Err)
	assert.Equal(t, resp.CompactRevision, int64(4))
	recvClosed(t, ws)
	assert.NilError(t, ws.Close())
	ws, err = b.Watch(ctx, []backend.Range{backend.Key("/c")}, 4)
	assert.NilError(t, err)
	defer ws.Close()
	resp = recv(t, ws)
	assert.NilError(t, resp.Err)
	assert.DeepEqual(t, events(resp), []event{
		{Type: backend.EventPut, Path: "/c", Value: "3", Rev: 4, Prev: "2", IsPrev: true},
	})
}

func TestWatchProgress(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	ws, err := b.Watch(ctx, []backend.Range{backend.Key("/p")}, 0)
	assert.NilError(t, err)
	defer ws.Close()
	put(t, b, "/p", "1")     // 2
	put(t, b, "/other", "1") // 3
	assert.NilError(t, ws.RequestProgress(ctx))
	resp := recv(t, ws)
	assert.Equal(t, resp.Revision, int64(2), "events first")
	resp = recv(t, ws)
	assert.Equal(t, len(resp.Events), 0)
	assert.Equal(t, resp.Revision, int64(3), "then progress at the current revision")
}

func TestWatchCloseAndCancel(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	ws, err := b.Watch(ctx, []backend.Range{backend.Key("/k")}, 0)
	assert.NilError(t, err)
	put(t, b, "/k", "1")
	assert.NilError(t, ws.Close())
	assert.NilError(t, ws.Close(), "idempotent")
	for range ws.Responses() { // at most the response already buffered
	}
	err = ws.RequestProgress(ctx)
	assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)

	cctx, cancel := context.WithCancel(ctx)
	ws, err = b.Watch(cctx, []backend.Range{backend.Key("/k")}, 0)
	assert.NilError(t, err)
	cancel()
	resp := recv(t, ws)
	assert.Assert(t, errors.Is(resp.Err, context.Canceled), "%v", resp.Err)
	recvClosed(t, ws)
	assert.NilError(t, ws.Close())
}

func TestBackendCloseEndsWatches(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	ws, err := b.Watch(ctx, []backend.Range{backend.Key("/k")}, 0)
	assert.NilError(t, err)
	for i := range 10 { // responses the consumer never reads
		put(t, b, "/k", fmt.Sprint(i))
	}
	assert.NilError(t, b.Close())
	var last backend.WatchResponse
	for resp := range ws.Responses() {
		last = resp
	}
	assert.Assert(t, errors.Is(last.Err, backend.ErrClosed), "%v", last.Err)
	assert.NilError(t, ws.Close())
}

func TestWatchersNeverBlockWriters(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	ws, err := b.Watch(ctx, []backend.Range{backend.Key("/k")}, 0)
	assert.NilError(t, err)
	defer ws.Close()
	const n = 2000
	for i := range n { // nobody reads meanwhile
		put(t, b, "/k", fmt.Sprint(i))
	}
	for i := range n {
		resp := recv(t, ws)
		assert.Equal(t, resp.Events[0].KV.Value, fmt.Sprint(i))
		assert.Equal(t, resp.Revision, int64(i+2))
	}
}

// A consumer cut by DropWatches resumes from the last revision it saw plus
// one and misses nothing, while writes continue.
func TestDropWatchesResumeWithoutGap(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := newBackend(t)
	const total = 300

	writerDone := make(chan error, 1)
	start := func() {
		for i := range total {
			if _, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/n", fmt.Sprint(i), 0)}}); err != nil {
				writerDone <- err
				return
			}
		}
		writerDone <- nil
	}

	var seen []string
	var last int64
	drops := 0
	for len(seen) < total {
		ws, err := b.Watch(ctx, []backend.Range{backend.Key("/n")}, last+1)
		assert.NilError(t, err)
		if start != nil { // the first stream is open: write concurrently
			go start()
			start = nil
		}
	stream:
		for {
			resp := recv(t, ws)
			if resp.Err != nil {
				assert.Assert(t, errors.Is(resp.Err, backend.ErrUnavailable), "%v", resp.Err)
				recvClosed(t, ws)
				break stream
			}
			for _, ev := range resp.Events {
				assert.Assert(t, ev.KV.ModRevision > last, "revision %d after %d", ev.KV.ModRevision, last)
				last = ev.KV.ModRevision
				seen = append(seen, ev.KV.Value)
			}
			if len(seen) >= total {
				break stream
			}
			if len(seen)/50 > drops { // cut the stream every 50 events
				drops++
				b.DropWatches()
			}
		}
		assert.NilError(t, ws.Close())
	}
	assert.NilError(t, <-writerDone)
	assert.Assert(t, drops >= 1)
	for i, v := range seen {
		assert.Equal(t, v, fmt.Sprint(i), "gap or reorder at %d", i)
	}
}

func TestDropWatchesDropsUnreadResponses(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	ws, err := b.Watch(ctx, []backend.Range{backend.Key("/n")}, 0)
	assert.NilError(t, err)
	for i := range 10 {
		put(t, b, "/n", fmt.Sprint(i)) // revisions 2..11
	}
	for i := range 3 {
		assert.Equal(t, recv(t, ws).Events[0].KV.Value, fmt.Sprint(i))
	}
	b.DropWatches()
	var last backend.WatchResponse
	for resp := range ws.Responses() { // at most one buffered response, then the error
		last = resp
	}
	assert.Assert(t, errors.Is(last.Err, backend.ErrUnavailable), "%v", last.Err)
	assert.NilError(t, ws.Close())

	ws, err = b.Watch(ctx, []backend.Range{backend.Key("/n")}, 5) // last seen was 4
	assert.NilError(t, err)
	defer ws.Close()
	resp := recv(t, ws)
	var got []string
	for _, ev := range resp.Events {
		got = append(got, ev.KV.Value)
	}
	assert.DeepEqual(t, got, []string{"3", "4", "5", "6", "7", "8", "9"})
	assert.Equal(t, resp.Revision, int64(11))
}
