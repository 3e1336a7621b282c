package backendtest

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

var watchCases = []testCase{
	{"Events", testWatchEvents},
	{"FromNextWrite", testWatchFromNextWrite},
	{"Ranges", testWatchRanges},
	{"OverlappingRanges", testWatchOverlappingRanges},
	{"TxnOneRevision", testWatchTxnOneRevision},
	{"RecursiveDelete", testWatchRecursiveDelete},
	{"Resume", testWatchResume},
	{"ResumeOverAKeyGone", testWatchResumeOverAKeyGone},
	{"FutureFromRev", testWatchFutureFromRev},
	{"Compacted", testWatchCompacted},
	{"IdleAcrossCompaction", testWatchIdleAcrossCompaction},
	{"CaughtUpAcrossCompaction", testWatchCaughtUpAcrossCompaction},
	{"FromTheFirstRevision", testWatchFromTheFirstRevision},
	{"FromCompactRevision", testWatchFromCompactRevision},
	{"Progress", testWatchProgress},
	{"CancelContext", testWatchCancelContext},
	{"CloseStream", testWatchCloseStream},
}

// testWatchEvents: puts and deletes of a key come in order with their
// type, the key after the change, and the key before it (nil on create).
func testWatchEvents(h *harness) {
	const p = "/w/k"
	l := h.lease(30 * time.Second)
	r0 := h.rev()
	w := h.watch([]backend.Range{backend.Key(p)}, r0+1)

	h.create(p, "one")
	kv1 := h.get(p)
	h.commit(backend.Txn{Then: []backend.Op{backend.Put(p, "two", l.ID())}})
	kv2 := h.get(p)
	h.create("/w/other", "x")
	h.create(p+"/child", "x")
	del, err := h.b.Delete(h.ctx, p, backend.DeleteOptions{MustExist: true})
	if err != nil {
		h.Fatalf("Delete: %v", err)
	}
	h.create(p, "three")
	kv4 := h.get(p)

	evs := w.sync("events of one key", kv4.ModRevision)
	h.wantEvents("events of one key", evs, []backend.Event{
		putEvent(kv1, nil),
		putEvent(kv2, &kv1),
		deleteEvent(kv2, del.Revision),
		putEvent(kv4, nil),
	})
	if len(evs) == 4 {
		for i, want := range []bool{true, false, false, true} {
			if evs[i].IsCreate() != want {
				h.Errorf("event %d IsCreate() = %v, want %v", i, evs[i].IsCreate(), want)
			}
		}
	}
}

// testWatchFromNextWrite: fromRev 0 starts at the next write: earlier
// writes are not replayed.
func testWatchFromNextWrite(h *harness) {
	h.create("/w/a", "before")
	w := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, 0)
	if evs := w.sync("after watching from 0", h.rev()); len(evs) != 0 {
		h.Errorf("watch from 0 replayed %s, want nothing", fmtEvents(evs))
	}
	prev := h.get("/w/a")
	h.update("/w/a", "after")
	h.wantEvents("watch from 0", w.sync("watch from 0", h.rev()), []backend.Event{putEvent(h.get("/w/a"), &prev)})
}

// testWatchRanges: one stream serves several ranges; keys outside them
// (other keys, other depths, longer names) are not delivered.
func testWatchRanges(h *harness) {
	r0 := h.rev()
	w := h.watch([]backend.Range{
		backend.Key("/w/a"),
		backend.PrefixAt("/w/p/", 0),
		backend.PrefixAt("/w/q/", 4),
	}, r0+1)
	var want []backend.Event
	put := func(p string, inRange bool) {
		var prev *backend.KeyValue
		if kv, _, err := h.b.Get(h.ctx, p, 0); err == nil {
			prev = ptr(kv)
		}
		h.put(p, "v")
		if inRange {
			want = append(want, putEvent(h.get(p), prev))
		}
	}
	put("/w/a", true)
	put("/w/ab", false)
	put("/w/a/b", false)
	put("/w/p/x", true)
	put("/w/p", false)
	put("/w/px", false)
	put("/w/p/x/y", false)
	put("/w/q/x", false)
	put("/w/q/x/y", true)
	put("/w/q/x/y/z", false)
	put("/other", false)
	put("/w/p/x", true)
	put("/w/a", true)
	h.wantEvents("several ranges", w.sync("several ranges", h.rev()), want)
}

// testWatchOverlappingRanges: an event in several overlapping ranges is
// delivered once.
func testWatchOverlappingRanges(h *harness) {
	r0 := h.rev()
	w := h.watch([]backend.Range{
		backend.PrefixAt("/w/", 0),
		backend.Key("/w/a"),
		backend.PrefixAt("/w/a", 0),
		backend.PrefixAt("/", 2),
		backend.Key("/w/a"),
	}, r0+1)
	h.create("/w/a", "1")
	a1 := h.get("/w/a")
	h.create("/w/b", "1")
	b1 := h.get("/w/b")
	h.update("/w/a", "2")
	a2 := h.get("/w/a")
	h.wantEvents("overlapping ranges", w.sync("overlapping ranges", h.rev()), []backend.Event{
		putEvent(a1, nil), putEvent(b1, nil), putEvent(a2, &a1),
	})
}

// testWatchTxnOneRevision: the events of a multi-key commit share its
// revision; on one range they come in the order of the commit's ops.
func testWatchTxnOneRevision(h *harness) {
	h.create("/w/c", "c")
	h.create("/w/x/y/z", "z")
	c, z := h.get("/w/c"), h.get("/w/x/y/z")
	r0 := h.rev()
	one := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, r0+1)
	many := h.watch(backend.Subtree("/w"), r0+1)
	res := h.commit(backend.Txn{Then: []backend.Op{
		backend.Put("/w/b", "b", backend.NoLease),
		backend.Put("/w/x/y", "y", backend.NoLease),
		backend.Put("/w/a", "a", backend.NoLease),
		backend.Delete(backend.Key("/w/c")),
		backend.Delete(backend.Key("/w/x/y/z")),
	}})
	r := res.Revision
	b, y, a := h.get("/w/b"), h.get("/w/x/y"), h.get("/w/a")
	h.wantEvents("one range", one.sync("one range", r), []backend.Event{
		putEvent(b, nil), putEvent(a, nil), deleteEvent(c, r),
	})
	got := many.sync("subtree", r)
	sort.Slice(got, func(i, j int) bool { return got[i].KV.Path < got[j].KV.Path })
	h.wantEvents("subtree (sorted by path)", got, []backend.Event{
		putEvent(a, nil), putEvent(b, nil), deleteEvent(c, r), putEvent(y, nil), deleteEvent(z, r),
	})
}

// testWatchRecursiveDelete: a recursive delete reports every key it
// deleted, at one revision.
func testWatchRecursiveDelete(h *harness) {
	h.putAll(map[string]string{"/w/a": "1", "/w/a/b": "2", "/w/a/b/c": "3", "/w/ab": "4"})
	a, ab, abc := h.get("/w/a"), h.get("/w/a/b"), h.get("/w/a/b/c")
	r0 := h.rev()
	w := h.watch(backend.Subtree("/w"), r0+1)
	res, err := h.b.Delete(h.ctx, "/w/a", backend.DeleteOptions{Recursive: true})
	if err != nil {
		h.Fatalf("Delete: %v", err)
	}
	r := r0 + 1
	if res != (backend.DeleteResult{Revision: r, Deleted: 3}) {
		h.Errorf("Delete = %+v, want {Revision:%d Deleted:3}", res, r)
	}
	got := w.sync("recursive delete", r)
	sort.Slice(got, func(i, j int) bool { return got[i].KV.Path < got[j].KV.Path })
	h.wantEvents("recursive delete (sorted by path)", got, []backend.Event{
		deleteEvent(a, r), deleteEvent(ab, r), deleteEvent(abc, r),
	})
}

// testWatchResume: a watch from an older revision replays exactly the
// events from that revision on, then continues live.
func testWatchResume(h *harness) {
	r1 := h.create("/w/a", "1")
	a1 := h.get("/w/a")
	h.update("/w/a", "2")
	a2 := h.get("/w/a")
	r3 := h.create("/w/b", "1")
	b1 := h.get("/w/b")
	r4 := r3 + 1
	if _, err := h.b.Delete(h.ctx, "/w/a", backend.DeleteOptions{MustExist: true}); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	h.update("/w/b", "2")
	b2 := h.get("/w/b")

	all := []backend.Event{
		putEvent(a1, nil), putEvent(a2, &a1), putEvent(b1, nil), deleteEvent(a2, r4), putEvent(b2, &b1),
	}
	ranges := []backend.Range{backend.PrefixAt("/w/", 0)}
	h.wantEvents("resume from r1", h.watch(ranges, r1).sync("resume from r1", b2.ModRevision), all)
	w := h.watch(ranges, r3)
	h.wantEvents("resume from r3", w.sync("resume from r3", b2.ModRevision), all[2:])
	h.update("/w/b", "3")
	h.wantEvents("live after the replay", w.sync("live after the replay", h.rev()), []backend.Event{putEvent(h.get("/w/b"), &b2)})
}

// testWatchFutureFromRev: a watch from a revision not reached yet delivers
// the events from that revision on.
func testWatchFutureFromRev(h *harness) {
	r0 := h.rev()
	w := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, r0+3)
	h.create("/w/a", "1")
	h.create("/w/b", "1")
	h.create("/w/c", "1")
	c := h.get("/w/c")
	prev := h.get("/w/a")
	h.update("/w/a", "2")
	h.wantEvents("watch from revision+3", w.sync("watch from revision+3", h.rev()), []backend.Event{
		putEvent(c, nil), putEvent(h.get("/w/a"), &prev),
	})
}

// testWatchCompacted: a watch from a compacted revision, or from the
// compact revision itself, ends at once with ErrCompacted and the revision
// after the compact one as CompactRevision, then the channel closes.
func testWatchCompacted(h *harness) {
	r1 := h.create("/w/a", "1")
	h.update("/w/a", "2")
	r3 := h.update("/w/a", "3")
	h.update("/w/a", "4")
	if err := h.b.Compact(h.ctx, r3); err != nil {
		h.Fatalf("Compact(%d): %v", r3, err)
	}
	for _, from := range []int64{r1, r3 - 1, r3} {
		w := h.watch([]backend.Range{backend.Key("/w/a"), backend.PrefixAt("/w/", 0)}, from)
		rs := w.end("watch from a compacted revision")
		if len(rs) != 1 {
			h.Errorf("watch from %d (compacted at %d): %d responses, want exactly one with ErrCompacted", from, r3, len(rs))
		}
		last := backend.WatchResponse{}
		if len(rs) > 0 {
			last = rs[len(rs)-1]
		}
		if !errors.Is(last.Err, backend.ErrCompacted) || last.CompactRevision != r3+1 || len(last.Events) != 0 {
			h.Errorf("watch from %d (compacted at %d): last response Err %v, CompactRevision %d, %d events; want ErrCompacted, %d, none",
				from, r3, last.Err, last.CompactRevision, len(last.Events), r3+1)
		}
	}
}

// testWatchFromCompactRevision: a watch from the revision after the
// compaction works, with the previous values the compact revision holds;
// one from the compact revision itself fails (a server before etcd 3.4.34
// loses the deletes made at it), here after a delete at that revision.
func testWatchFromCompactRevision(h *harness) {
	h.create("/w/a", "1")
	h.update("/w/a", "2")
	h.create("/w/b", "1")
	b1 := h.get("/w/b")
	h.create("/w/d", "1")
	h.deleteOK("/w/d", backend.DeleteOptions{}, 1)
	rc := h.rev()
	h.update("/w/a", "3")
	a3 := h.get("/w/a")
	a2 := h.getAt("/w/a", rc)
	h.create("/w/c", "1")
	c1 := h.get("/w/c")
	h.update("/w/b", "2")
	b2 := h.get("/w/b")
	if err := h.b.Compact(h.ctx, rc); err != nil {
		h.Fatalf("Compact(%d): %v", rc, err)
	}
	w := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, rc+1)
	h.wantEvents("watch from the revision after the compaction", w.sync("watch from the revision after the compaction", b2.ModRevision), []backend.Event{
		putEvent(a3, &a2), // a2 is the newest version of a at rc: kept
		putEvent(c1, nil),
		putEvent(b2, &b1),
	})
	rs := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, rc).end("watch from the compact revision")
	if len(rs) != 1 || !errors.Is(rs[0].Err, backend.ErrCompacted) || rs[0].CompactRevision != rc+1 {
		h.Errorf("watch from the compact revision %d: responses %+v, want one with ErrCompacted and CompactRevision %d", rc, rs, rc+1)
	}
}

// testWatchProgress: RequestProgress gets an event-less response whose
// Revision is at least the store revision, also with nothing to report.
func testWatchProgress(h *harness) {
	h.create("/w/a", "1")
	w := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, h.rev()+1)
	if evs := w.sync("progress with no writes", h.rev()); len(evs) != 0 {
		h.Errorf("progress with no writes: events %s", fmtEvents(evs))
	}
	h.create("/other", "x") // a write outside the range
	if evs := w.sync("progress after a write elsewhere", h.rev()); len(evs) != 0 {
		h.Errorf("progress after a write elsewhere: events %s", fmtEvents(evs))
	}
	prev := h.get("/w/a")
	h.update("/w/a", "2")
	h.create("/other2", "x")
	h.wantEvents("progress after writes", w.sync("progress after writes", h.rev()), []backend.Event{putEvent(h.get("/w/a"), &prev)})
}

// testWatchCancelContext: cancelling the watch's context ends the stream
// with the context's error and closes the channel.
func testWatchCancelContext(h *harness) {
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	ws, err := h.b.Watch(ctx, []backend.Range{backend.PrefixAt("/w/", 0)}, 0)
	if err != nil {
		h.Fatalf("Watch: %v", err)
	}
	h.Cleanup(func() { _ = ws.Close() })
	s := &stream{h: h, ws: ws, seen: map[eventID]bool{}}
	s.sync("before cancelling", h.rev())
	cancel()
	rs := s.end("after cancelling the context")
	if err := finalErr(rs); !errors.Is(err, context.Canceled) {
		h.Errorf("last response after cancelling: Err %v, want context.Canceled", err)
	}
	if err := ws.Close(); err != nil {
		h.Errorf("Close after the context ended: %v", err)
	}
}

// testWatchCloseStream: Close ends the stream and closes the channel; a
// second Close is fine.
func testWatchCloseStream(h *harness) {
	w := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, 0)
	w.sync("before Close", h.rev())
	if err := w.ws.Close(); err != nil {
		h.Errorf("Close: %v", err)
	}
	w.end("after Close")
	if err := w.ws.Close(); err != nil {
		h.Errorf("second Close: %v", err)
	}
	h.create("/w/a", "after close") // must not block or panic
}

// testWatchResumeOverAKeyGone: a watch from an older revision replays a
// key created and deleted since, which the store's state no longer shows
// (etcd before 3.4.25 answers progress requests before the replay: found
// by the differential test).
func testWatchResumeOverAKeyGone(h *harness) {
	from := h.rev() + 1
	c := h.create("/w/gone", "1")
	h.deleteOK("/w/gone", backend.DeleteOptions{}, 1)
	d := h.rev()
	h.create("/w/other", "1") // outside the watched range
	kv := backend.KeyValue{Path: "/w/gone", Value: "1", CreateRevision: c, ModRevision: c, Version: 1}
	w := h.watch([]backend.Range{backend.Key("/w/gone"), backend.PrefixAt("/w/gone/", 0)}, from)
	h.wantEvents("watch from before a key created and deleted", w.sync("watch from before a key created and deleted", h.rev()), []backend.Event{
		putEvent(kv, nil), deleteEvent(kv, d),
	})
}

// testWatchIdleAcrossCompaction: a watch with nothing to report while the
// store compacts past its start still answers progress, then reports the
// next write.
func testWatchIdleAcrossCompaction(h *harness) {
	w := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, 0)
	h.create("/x/a", "1")
	h.create("/x/b", "1")
	if err := h.b.Compact(h.ctx, h.rev()); err != nil {
		h.Fatalf("Compact(%d): %v", h.rev(), err)
	}
	h.create("/x/c", "1")
	if evs := w.sync("progress after a compaction", h.rev()); len(evs) != 0 {
		h.Errorf("progress after a compaction: events %s", fmtEvents(evs))
	}
	h.create("/w/a", "1")
	h.wantEvents("a write after the compaction", w.sync("a write after the compaction", h.rev()), []backend.Event{putEvent(h.get("/w/a"), nil)})
}

// testWatchCaughtUpAcrossCompaction: a watch from a past revision that has
// caught up (a progress notification says so) goes on when the store
// compacts right after, past its start: it is not lagging. (etcd before
// 3.4.25 answers progress while it still counts the watch as catching up,
// and cancels such a watch on a compaction: found by the differential
// test.)
func testWatchCaughtUpAcrossCompaction(h *harness) {
	from := h.create("/x/a", "1") // outside the range: nothing to catch up on
	h.create("/x/b", "1")
	w := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, from)
	if evs := w.sync("catching up", h.rev()); len(evs) != 0 {
		h.Fatalf("catching up: events %s, want none", fmtEvents(evs))
	}
	h.create("/w/a", "1")
	if err := h.b.Compact(h.ctx, h.rev()); err != nil {
		h.Fatalf("Compact(%d): %v", h.rev(), err)
	}
	h.wantEvents("after the compaction", w.sync("after the compaction", h.rev()), []backend.Event{putEvent(h.get("/w/a"), nil)})
}

// testWatchFromTheFirstRevision: a watch from revision 1 replays the whole
// history of its ranges (sdpcfg watch --rev 1 hung on etcd 3.4: the stream
// could not count its ranges at revision 0).
func testWatchFromTheFirstRevision(h *harness) {
	h.create("/w/a", "1")
	if _, err := h.b.List(h.ctx, "/w/", backend.ListOptions{Revision: 1}); errors.Is(err, backend.ErrCompacted) {
		h.Skip("the shared store was compacted past revision 1 by an earlier subtest")
	}
	w := h.watch([]backend.Range{backend.PrefixAt("/w/", 0)}, 1)
	h.wantEvents("watch from revision 1", w.sync("watch from revision 1", h.rev()), []backend.Event{putEvent(h.get("/w/a"), nil)})
}
