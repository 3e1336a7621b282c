package backendtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

var closedCases = []testCase{
	{"EveryMethod", testClosedEveryMethod},
	{"EndsWatches", testClosedEndsWatches},
	{"EndsLeases", testClosedEndsLeases},
	{"CancelledContext", testCancelledContext},
}

// callEvery calls every Backend method but Compact and Close with ctx and
// returns each error by method name, and the stream of Watch if it
// returned one (the caller checks and closes it).
func callEvery(ctx context.Context, b backend.Backend) (map[string]error, backend.WatchStream) {
	errs := map[string]error{}
	_, _, errs["Get"] = b.Get(ctx, "/z/a", 0)
	_, errs["List"] = b.List(ctx, "/z/", backend.ListOptions{Recurse: 1})
	_, errs["Commit"] = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/z/commit", "x", backend.NoLease)}})
	_, errs["Create"] = b.Create(ctx, "/z/create", "x", backend.NoLease)
	_, errs["Update"] = b.Update(ctx, "/z/a", "changed")
	_, errs["Delete"] = b.Delete(ctx, "/z/a", backend.DeleteOptions{})
	_, errs["Delete(Recursive)"] = b.Delete(ctx, "/z", backend.DeleteOptions{Recursive: true})
	l, err := b.Lease(ctx, time.Second)
	errs["Lease"] = err
	if err == nil {
		_ = l.Close()
	}
	ws, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/z/", 0)}, 0)
	errs["Watch"] = err
	_, errs["Revision"] = b.Revision(ctx)
	return errs, ws
}

// testClosedEveryMethod: after Close, every method fails with ErrClosed;
// Close again is fine.
func testClosedEveryMethod(h *harness) {
	h.create("/z/a", "x")
	if err := h.b.Close(); err != nil {
		h.Fatalf("Close: %v", err)
	}
	errs, ws := callEvery(h.ctx, h.b)
	errs["Compact"] = h.b.Compact(h.ctx, 1)
	for _, name := range sortedKeys(errNames(errs)) {
		if !errors.Is(errs[name], backend.ErrClosed) {
			h.Errorf("%s on a closed backend = %v, want ErrClosed", name, errs[name])
		}
	}
	if ws != nil {
		// Tolerated only as a stream that ends at once with ErrClosed.
		s := &stream{h: h, ws: ws, seen: map[eventID]bool{}}
		if err := finalErr(s.end("Watch on a closed backend")); !errors.Is(err, backend.ErrClosed) {
			h.Errorf("stream of Watch on a closed backend ended with %v, want ErrClosed", err)
		}
		_ = ws.Close()
	}
	if err := h.b.Close(); err != nil {
		h.Errorf("second Close: %v", err)
	}
}

// errNames gives the keys of errs as a string map, for sortedKeys.
func errNames(errs map[string]error) map[string]string {
	m := make(map[string]string, len(errs))
	for k := range errs {
		m[k] = k
	}
	return m
}

// testClosedEndsWatches: closing the backend ends its open watch streams
// with ErrClosed and closes their channels.
func testClosedEndsWatches(h *harness) {
	r0 := h.rev()
	w1 := h.watch([]backend.Range{backend.PrefixAt("/z/", 0)}, r0+1)
	w2 := h.watch(backend.Subtree("/z"), 0)
	h.create("/z/a", "x")
	if evs := w1.events("before Close", 1); len(evs) == 1 && evs[0].KV.Path != "/z/a" {
		h.Errorf("before Close: event %s, want one of /z/a", fmtEvent(evs[0]))
	}
	w2.sync("before Close", h.rev())
	if err := h.b.Close(); err != nil {
		h.Fatalf("Close: %v", err)
	}
	for i, w := range []*stream{w1, w2} {
		rs := w.end(fmt.Sprintf("watch %d after the backend closed", i+1))
		if err := finalErr(rs); !errors.Is(err, backend.ErrClosed) {
			h.Errorf("watch %d after the backend closed: last Err %v, want ErrClosed", i+1, err)
		}
		if err := w.ws.Close(); err != nil {
			h.Errorf("watch %d: Close after the backend closed: %v", i+1, err)
		}
	}
}

// testClosedEndsLeases: closing the backend ends its leases with ErrClosed.
// The lease has no keys: on a shared store it outlives the backend, and its
// expiry must not write into a later subtest.
func testClosedEndsLeases(h *harness) {
	l := h.lease(30 * time.Second)
	if err := h.b.Close(); err != nil {
		h.Fatalf("Close: %v", err)
	}
	h.eventually("lease Done after the backend closed", func() (bool, string) {
		return isDone(l), fmt.Sprintf("Err() = %v", l.Err())
	})
	if err := l.Err(); !errors.Is(err, backend.ErrClosed) {
		h.Errorf("lease Err() after the backend closed = %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		h.Errorf("lease Close after the backend closed: %v", err)
	}
}

// testCancelledContext: every method called with a cancelled context fails
// with the context's error and writes nothing.
func testCancelledContext(h *harness) {
	c := h.create("/z/a", "x")
	r := h.update("/z/a", "y")
	errs, ws := callEvery(cancelled(), h.b)
	errs["Compact"] = h.b.Compact(cancelled(), r)
	if l, err := h.b.Lease(h.ctx, 30*time.Second); err == nil {
		errs["Lease.Revoke"] = l.Revoke(cancelled())
		_ = l.Close()
	}
	for _, name := range sortedKeys(errNames(errs)) {
		if name == "Watch" && errs[name] == nil {
			continue // checked below
		}
		if !errors.Is(errs[name], context.Canceled) {
			h.Errorf("%s with a cancelled context = %v, want context.Canceled", name, errs[name])
		}
	}
	if ws != nil {
		// A Watch may return a stream that ends with the context's error.
		s := &stream{h: h, ws: ws, seen: map[eventID]bool{}}
		if err := finalErr(s.end("Watch with a cancelled context")); !errors.Is(err, context.Canceled) {
			h.Errorf("stream of Watch with a cancelled context ended with %v, want context.Canceled", err)
		}
		_ = ws.Close()
	}
	h.wantRev(r, "after calls with a cancelled context")
	h.wantKV("/z/a after calls with a cancelled context", h.get("/z/a"), backend.KeyValue{Path: "/z/a", Value: "y", CreateRevision: c, ModRevision: r, Version: 2})
	h.missing("/z/commit")
	h.missing("/z/create")
	// The refused compaction did nothing: the older version can be read.
	if v := h.getAt("/z/a", c).Value; v != "x" {
		h.Errorf("Get at %d after a cancelled Compact(%d) = %q, want %q", c, r, v, "x")
	}
	if l, err := h.b.Lease(h.ctx, 30*time.Second); err == nil {
		_ = l.Close()
	}
}
