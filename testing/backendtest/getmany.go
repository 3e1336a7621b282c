package backendtest

import (
	"errors"
	"fmt"

	"github.com/sdpconfig/sdpconfig/backend"
)

// getManyCases check the optional backend.MultiGetter; each is skipped for
// a backend that does not implement it.
var getManyCases = []testCase{
	{"Table", testGetManyTable},
	{"Errors", testGetManyErrors},
}

// multiGetter returns h's backend as a MultiGetter, or skips the test.
func (h *harness) multiGetter() backend.MultiGetter {
	h.Helper()
	mg, ok := h.b.(backend.MultiGetter)
	if !ok {
		h.Skip("the backend does not implement backend.MultiGetter")
	}
	return mg
}

// testGetManyTable: GetMany returns the keys present, in the order asked,
// each as Get has it at the same revision, and that revision.
func testGetManyTable(h *harness) {
	mg := h.multiGetter()
	h.create("/gm/a", "1")
	r2 := h.create("/gm/b", "1")
	h.update("/gm/a", "2")
	h.create("/gm/c", "1")
	now := h.rev()
	for _, tc := range []struct {
		rev     int64
		paths   []string
		want    []string
		wantRev int64
	}{
		{0, []string{"/gm/c", "/gm/none", "/gm/a"}, []string{"/gm/c", "/gm/a"}, now},
		{r2, []string{"/gm/a", "/gm/b", "/gm/c"}, []string{"/gm/a", "/gm/b"}, r2},
		{0, nil, nil, now},
		{r2, nil, nil, r2},
	} {
		what := fmt.Sprintf("GetMany(%q, %d)", tc.paths, tc.rev)
		kvs, rev, err := mg.GetMany(h.ctx, tc.paths, tc.rev)
		if err != nil {
			h.Fatalf("%s: %v", what, err)
		}
		if rev != tc.wantRev {
			h.Errorf("%s: revision %d, want %d", what, rev, tc.wantRev)
		}
		h.wantPaths(what, kvs, tc.want...)
		for _, kv := range kvs {
			h.wantKV(what, kv, h.getAt(kv.Path, tc.wantRev))
		}
	}
}

// testGetManyErrors: the paths are checked first, then the count, then the
// revision, as Get checks it.
func testGetManyErrors(h *harness) {
	mg := h.multiGetter()
	r1 := h.create("/gme/a", "1")
	h.update("/gme/a", "2")
	r3 := h.update("/gme/a", "3")
	_, _, err := mg.GetMany(h.ctx, []string{"/gme/a", "bad"}, 0)
	h.wantErr("GetMany of an invalid path", err, backend.ErrInvalidPath, "bad")
	l, ok := h.b.(backend.Limiter)
	if !ok {
		h.Fatalf("a backend.MultiGetter must be a backend.Limiter too: its limit says how many keys GetMany reads")
	}
	limit := l.MaxTxnOps()
	many := make([]string, limit+1)
	for i := range many {
		many[i] = fmt.Sprintf("/gme/k%d", i)
	}
	_, _, err = mg.GetMany(h.ctx, many, 0)
	h.wantErr("GetMany of one key more than MaxTxnOps", err, backend.ErrTxnTooLarge, "")
	_, _, err = mg.GetMany(h.ctx, []string{"/gme/a"}, r3+1000)
	h.wantErr("GetMany at a future revision", err, backend.ErrFutureRevision, "")
	if err := h.b.Compact(h.ctx, r3); err != nil {
		h.Fatalf("Compact(%d): %v", r3, err)
	}
	_, _, err = mg.GetMany(h.ctx, []string{"/gme/a"}, r1)
	if !errors.Is(err, backend.ErrCompacted) {
		h.Errorf("GetMany at %d (compacted at %d) = %v, want ErrCompacted", r1, r3, err)
	}
}
