package backendtest

import (
	"errors"

	"github.com/sdpconfig/sdpconfig/backend"
)

var compactionCases = []testCase{
	{"Reads", testCompactionReads},
	{"Again", testCompactionAgain},
	{"Future", testCompactionFuture},
	{"KeepsNewest", testCompactionKeepsNewest},
}

// testCompactionReads: after Compact(rev), Get and List below rev fail with
// ErrCompacted; at rev and above they work.
func testCompactionReads(h *harness) {
	r1 := h.create("/x/a", "1")
	r2 := h.update("/x/a", "2")
	h.create("/x/b", "1")
	r4 := h.update("/x/a", "4")
	if err := h.b.Compact(h.ctx, r2); err != nil {
		h.Fatalf("Compact(%d): %v", r2, err)
	}
	_, _, err := h.b.Get(h.ctx, "/x/a", r1)
	if !errors.Is(err, backend.ErrCompacted) {
		h.Errorf("Get at %d (compacted at %d) = %v, want ErrCompacted", r1, r2, err)
	}
	_, _, err = h.b.Get(h.ctx, "/x/missing", r1)
	if !errors.Is(err, backend.ErrCompacted) {
		h.Errorf("Get of a missing key at %d (compacted at %d) = %v, want ErrCompacted", r1, r2, err)
	}
	_, err = h.b.List(h.ctx, "/x/", backend.ListOptions{Revision: r1})
	if !errors.Is(err, backend.ErrCompacted) {
		h.Errorf("List at %d (compacted at %d) = %v, want ErrCompacted", r1, r2, err)
	}
	_, err = h.b.List(h.ctx, "/x/", backend.ListOptions{Revision: r1, Recurse: 2, WithValues: true, Limit: 1})
	if !errors.Is(err, backend.ErrCompacted) {
		h.Errorf("List with options at %d (compacted at %d) = %v, want ErrCompacted", r1, r2, err)
	}

	h.wantKV("Get at the compact revision", h.getAt("/x/a", r2), backend.KeyValue{Path: "/x/a", Value: "2", CreateRevision: r1, ModRevision: r2, Version: 2})
	h.missingAt("/x/b", r2)
	res := h.list("/x/", backend.ListOptions{Revision: r2, WithValues: true})
	h.wantPaths("List at the compact revision", res.KVs, "/x/a")
	if len(res.KVs) == 1 && res.KVs[0].Value != "2" {
		h.Errorf("List at the compact revision: /x/a = %q, want %q", res.KVs[0].Value, "2")
	}
	h.wantKV("Get now", h.get("/x/a"), backend.KeyValue{Path: "/x/a", Value: "4", CreateRevision: r1, ModRevision: r4, Version: 3})
	h.wantPaths("List now", h.list("/x/", backend.ListOptions{}).KVs, "/x/a", "/x/b")
}

// testCompactionAgain: compacting at or below an earlier compaction fails
// with ErrCompacted; above it works; compacting at the store revision
// works.
func testCompactionAgain(h *harness) {
	r1 := h.create("/x/a", "1")
	r2 := h.update("/x/a", "2")
	r3 := h.update("/x/a", "3")
	if err := h.b.Compact(h.ctx, r2); err != nil {
		h.Fatalf("Compact(%d): %v", r2, err)
	}
	for _, r := range []int64{r2, r1} {
		if err := h.b.Compact(h.ctx, r); !errors.Is(err, backend.ErrCompacted) {
			h.Errorf("Compact(%d) after Compact(%d) = %v, want ErrCompacted", r, r2, err)
		}
	}
	if err := h.b.Compact(h.ctx, r3); err != nil {
		h.Errorf("Compact(%d) at the store revision after Compact(%d): %v", r3, r2, err)
	}
	_, _, err := h.b.Get(h.ctx, "/x/a", r2)
	if !errors.Is(err, backend.ErrCompacted) {
		h.Errorf("Get at %d after Compact(%d) = %v, want ErrCompacted", r2, r3, err)
	}
	h.wantRev(r3, "compaction writes nothing")
}

// testCompactionFuture: compacting, reading or listing above the store
// revision fails with ErrFutureRevision.
func testCompactionFuture(h *harness) {
	r := h.create("/x/a", "1")
	if err := h.b.Compact(h.ctx, r+1); !errors.Is(err, backend.ErrFutureRevision) {
		h.Errorf("Compact(%d) with the store at %d = %v, want ErrFutureRevision", r+1, r, err)
	}
	if _, _, err := h.b.Get(h.ctx, "/x/a", r+1); !errors.Is(err, backend.ErrFutureRevision) {
		h.Errorf("Get at %d with the store at %d = %v, want ErrFutureRevision", r+1, r, err)
	}
	if _, err := h.b.List(h.ctx, "/x/", backend.ListOptions{Revision: r + 1}); !errors.Is(err, backend.ErrFutureRevision) {
		h.Errorf("List at %d with the store at %d = %v, want ErrFutureRevision", r+1, r, err)
	}
	if _, err := h.b.List(h.ctx, "/x/", backend.ListOptions{Revision: r + 50, Recurse: 1}); !errors.Is(err, backend.ErrFutureRevision) {
		h.Errorf("List at %d with the store at %d = %v, want ErrFutureRevision", r+50, r, err)
	}
	// Also a List that selects no depth, which needs no range read on
	// etcd: the revision is checked all the same.
	if _, err := h.b.List(h.ctx, "/x/", backend.ListOptions{Revision: r + 1, Depths: []int{}}); !errors.Is(err, backend.ErrFutureRevision) {
		h.Errorf("List of no depth at %d with the store at %d = %v, want ErrFutureRevision", r+1, r, err)
	}
	// The failed compaction did nothing.
	h.wantKV("Get at r after a refused compaction", h.getAt("/x/a", r), backend.KeyValue{Path: "/x/a", Value: "1", CreateRevision: r, ModRevision: r, Version: 1})
	h.wantRev(r, "after refused calls")
}

// testCompactionKeepsNewest: compaction keeps each key's newest version
// (with its create revision and version) and deleted keys stay deleted.
func testCompactionKeepsNewest(h *harness) {
	c := h.create("/x/a", "1")
	h.update("/x/a", "2")
	m := h.update("/x/a", "3")
	h.create("/x/gone", "x")
	if _, err := h.b.Delete(h.ctx, "/x/gone", backend.DeleteOptions{MustExist: true}); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	r := h.create("/x/b", "b")
	if err := h.b.Compact(h.ctx, r); err != nil {
		h.Fatalf("Compact(%d): %v", r, err)
	}
	h.wantKV("after compaction", h.get("/x/a"), backend.KeyValue{Path: "/x/a", Value: "3", CreateRevision: c, ModRevision: m, Version: 3})
	h.missing("/x/gone")
	h.wantPaths("List after compaction", h.list("/x/", backend.ListOptions{Revision: r}).KVs, "/x/a", "/x/b")
	// Writes continue from the same revision.
	if got := h.update("/x/a", "4"); got != r+1 {
		h.Errorf("write after compaction at %d: revision %d, want %d", r, got, r+1)
	}
	h.wantKV("written after compaction", h.get("/x/a"), backend.KeyValue{Path: "/x/a", Value: "4", CreateRevision: c, ModRevision: r + 1, Version: 4})
}
