package backendtest

import (
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

var commitCases = []testCase{
	{"CompareKey", testCommitCompareKey},
	{"CompareMissingKey", testCommitCompareMissingKey},
	{"CompareRange", testCommitCompareRange},
	{"DetectCreatedInRange", testCommitDetectCreatedInRange},
	{"Branches", testCommitBranches},
	{"NoWriteNoRevision", testCommitNoWriteNoRevision},
	{"ManyOpsOneRevision", testCommitManyOpsOneRevision},
	{"DeleteRanges", testCommitDeleteRanges},
	{"PutLease", testCommitPutLease},
	{"InvalidTxn", testCommitInvalidTxn},
	{"TooLarge", testCommitTooLarge},
	{"OrderOfChecks", testCommitOrderOfChecks},
}

const branchKey = "/c/branch"

// wantCompare commits a txn with the single compare c, whose Then branch
// writes "then" and Else branch "else" to branchKey, and checks which
// branch ran and that it took one revision.
func (h *harness) wantCompare(c backend.Compare, want bool) {
	h.Helper()
	what := fmt.Sprintf("compare %s %v %s %d", fmtRanges([]backend.Range{c.Range}), targetName(c.Target), opName(c.Op), c.Value)
	before := h.rev()
	res, err := h.b.Commit(h.ctx, backend.Txn{
		If:   []backend.Compare{c},
		Then: []backend.Op{backend.Put(branchKey, "then", backend.NoLease)},
		Else: []backend.Op{backend.Put(branchKey, "else", backend.NoLease)},
	})
	if err != nil {
		h.Errorf("%s: %v", what, err)
		return
	}
	if res.Succeeded != want {
		h.Errorf("%s: Succeeded = %v, want %v", what, res.Succeeded, want)
	}
	if res.Revision != before+1 {
		h.Errorf("%s: Revision = %d, want %d", what, res.Revision, before+1)
	}
	wantVal := map[bool]string{true: "then", false: "else"}[want]
	if got := h.value(branchKey); got != wantVal {
		h.Errorf("%s: %s = %q, want %q", what, branchKey, got, wantVal)
	}
}

func cmp(r backend.Range, t backend.CompareTarget, op backend.CompareOp, v int64) backend.Compare {
	return backend.Compare{Range: r, Target: t, Op: op, Value: v}
}

func targetName(t backend.CompareTarget) string {
	switch t {
	case backend.ModRevision:
		return "ModRevision"
	case backend.CreateRevision:
		return "CreateRevision"
	case backend.Version:
		return "Version"
	}
	return fmt.Sprintf("Target(%d)", int(t))
}

func opName(o backend.CompareOp) string {
	switch o {
	case backend.Equal:
		return "=="
	case backend.NotEqual:
		return "!="
	case backend.Less:
		return "<"
	case backend.Greater:
		return ">"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// wantOrdered runs the four relations of target against v, of a key or
// range whose field is exactly v.
func (h *harness) wantOrdered(r backend.Range, target backend.CompareTarget, v int64) {
	h.Helper()
	h.wantCompare(cmp(r, target, backend.Equal, v), true)
	h.wantCompare(cmp(r, target, backend.Equal, v-1), false)
	h.wantCompare(cmp(r, target, backend.Equal, v+1), false)
	h.wantCompare(cmp(r, target, backend.NotEqual, v), false)
	h.wantCompare(cmp(r, target, backend.NotEqual, v+1), true)
	h.wantCompare(cmp(r, target, backend.Less, v+1), true)
	h.wantCompare(cmp(r, target, backend.Less, v), false)
	h.wantCompare(cmp(r, target, backend.Greater, v-1), true)
	h.wantCompare(cmp(r, target, backend.Greater, v), false)
}

// testCommitCompareKey: every target and relation on a present key.
func testCommitCompareKey(h *harness) {
	c := h.create("/c/k", "1")
	h.create("/c/other", "x")
	m := h.update("/c/k", "2")
	h.create("/c/k/child", "x") // keys below do not count
	k := backend.Key("/c/k")
	h.wantOrdered(k, backend.ModRevision, m)
	h.wantOrdered(k, backend.CreateRevision, c)
	h.wantOrdered(k, backend.Version, 2)
}

// testCommitCompareMissingKey: a missing key compares as if every field
// were 0, also a key that existed once.
func testCommitCompareMissingKey(h *harness) {
	h.create("/c/gone", "x")
	if _, err := h.b.Delete(h.ctx, "/c/gone", backend.DeleteOptions{MustExist: true}); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	h.create("/c/missing/child", "x")
	for _, p := range []string{"/c/missing", "/c/gone"} {
		k := backend.Key(p)
		for _, t := range []backend.CompareTarget{backend.ModRevision, backend.CreateRevision, backend.Version} {
			h.wantCompare(cmp(k, t, backend.Equal, 0), true)
			h.wantCompare(cmp(k, t, backend.NotEqual, 0), false)
			h.wantCompare(cmp(k, t, backend.Less, 1), true)
			h.wantCompare(cmp(k, t, backend.Less, 0), false)
			h.wantCompare(cmp(k, t, backend.Greater, 0), false)
			h.wantCompare(cmp(k, t, backend.Greater, -1), true)
		}
	}
}

// testCommitCompareRange: on a prefix range every key must satisfy the
// compare; an empty range compares as a missing key; the range holds only
// the keys at its depth.
func testCommitCompareRange(h *harness) {
	r1 := h.create("/c/r/a", "x")
	r2 := h.create("/c/r/b", "x")
	h.update("/c/r/b", "y")
	m := h.update("/c/r/a", "y")
	deep := h.create("/c/r/a/deep", "x") // depth 4: outside the depth-3 range

	rg := backend.PrefixAt("/c/r/", 0)
	// CreateRevision: a = r1, b = r2.
	h.wantCompare(cmp(rg, backend.CreateRevision, backend.Less, r2+1), true)
	h.wantCompare(cmp(rg, backend.CreateRevision, backend.Less, r2), false)
	h.wantCompare(cmp(rg, backend.CreateRevision, backend.Greater, r1-1), true)
	h.wantCompare(cmp(rg, backend.CreateRevision, backend.Greater, r1), false)
	h.wantCompare(cmp(rg, backend.CreateRevision, backend.Equal, r1), false)
	h.wantCompare(cmp(rg, backend.CreateRevision, backend.NotEqual, r1), false)
	h.wantCompare(cmp(rg, backend.CreateRevision, backend.NotEqual, deep), true)
	// Version: both 2.
	h.wantOrdered(rg, backend.Version, 2)
	// ModRevision: b < a = m.
	h.wantCompare(cmp(rg, backend.ModRevision, backend.Less, m+1), true)
	h.wantCompare(cmp(rg, backend.ModRevision, backend.Less, m), false)

	// A range at an explicit depth holds the keys at that depth only.
	h.wantOrdered(backend.PrefixAt("/c/r/", 4), backend.CreateRevision, deep)
	h.wantOrdered(backend.PrefixAt("/c/r/a", 4), backend.Version, 1)

	// An empty range compares as a missing key.
	for _, e := range []backend.Range{backend.PrefixAt("/c/none/", 0), backend.PrefixAt("/c/r/", 6)} {
		for _, t := range []backend.CompareTarget{backend.ModRevision, backend.CreateRevision, backend.Version} {
			h.wantCompare(cmp(e, t, backend.Equal, 0), true)
			h.wantCompare(cmp(e, t, backend.Less, 1), true)
			h.wantCompare(cmp(e, t, backend.Greater, 0), false)
			h.wantCompare(cmp(e, t, backend.NotEqual, 0), false)
		}
	}
}

// testCommitDetectCreatedInRange: the transaction pattern: after listing a
// range at snapshot s, "CreateRevision(range) < s+1" holds while no key was
// created in it (changing or deleting keys does not count) and fails once
// one is.
func testCommitDetectCreatedInRange(h *harness) {
	h.create("/c/r/a", "x")
	h.create("/c/r/b", "x")
	snap := h.list("/c/r/", backend.ListOptions{}).Revision
	guard := cmp(backend.PrefixAt("/c/r/", 0), backend.CreateRevision, backend.Less, snap+1)

	h.update("/c/r/a", "changed")
	h.wantCompare(guard, true)
	if _, err := h.b.Delete(h.ctx, "/c/r/b", backend.DeleteOptions{MustExist: true}); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	h.wantCompare(guard, true)
	h.create("/c/r/a/below", "x") // another depth
	h.create("/c/rr", "x")        // another prefix
	h.wantCompare(guard, true)
	h.create("/c/r/new", "x")
	h.wantCompare(guard, false)

	// The same on a range that was empty at the snapshot.
	snap = h.list("/c/e/", backend.ListOptions{}).Revision
	guard = cmp(backend.PrefixAt("/c/e/", 0), backend.CreateRevision, backend.Less, snap+1)
	h.wantCompare(guard, true)
	h.create("/c/e/x", "x")
	h.wantCompare(guard, false)
}

// testCommitBranches: Then runs when every compare holds, Else otherwise;
// an empty If always holds.
func testCommitBranches(h *harness) {
	m := h.create("/c/k", "v")
	yes := cmp(backend.Key("/c/k"), backend.ModRevision, backend.Equal, m)
	no := cmp(backend.Key("/c/k"), backend.Version, backend.Equal, 5)
	cases := []struct {
		name string
		If   []backend.Compare
		want bool
	}{
		{"empty If", nil, true},
		{"one true", []backend.Compare{yes}, true},
		{"one false", []backend.Compare{no}, false},
		{"true and false", []backend.Compare{yes, no}, false},
		{"false and true", []backend.Compare{no, yes}, false},
		{"true and true", []backend.Compare{yes, yes}, true},
	}
	for i, c := range cases {
		then, els := fmt.Sprintf("/c/then%d", i), fmt.Sprintf("/c/else%d", i)
		before := h.rev()
		res := h.commit(backend.Txn{
			If:   c.If,
			Then: []backend.Op{backend.Put(then, "t", backend.NoLease), backend.Put("/c/both", "then", backend.NoLease)},
			Else: []backend.Op{backend.Put(els, "e", backend.NoLease), backend.Put("/c/both", "else", backend.NoLease)},
		})
		if res.Succeeded != c.want || res.Revision != before+1 || res.Deleted != 0 {
			h.Errorf("%s: result %+v, want Succeeded %v, Revision %d, Deleted 0", c.name, res, c.want, before+1)
		}
		ran, skipped := then, els
		if !c.want {
			ran, skipped = els, then
		}
		if kv := h.get(ran); kv.ModRevision != res.Revision {
			h.Errorf("%s: %s written at %d, want %d", c.name, ran, kv.ModRevision, res.Revision)
		}
		h.missing(skipped)
		if got, want := h.value("/c/both"), map[bool]string{true: "then", false: "else"}[c.want]; got != want {
			h.Errorf("%s: /c/both = %q, want %q", c.name, got, want)
		}
	}
}

// testCommitNoWriteNoRevision: a commit whose chosen branch writes nothing
// (no ops, or deletes of missing keys) does not move the revision, and
// returns the current one.
func testCommitNoWriteNoRevision(h *harness) {
	h.create("/c/k", "v")
	r := h.rev()
	no := cmp(backend.Key("/c/k"), backend.Version, backend.Equal, 9)
	cases := []struct {
		name string
		txn  backend.Txn
		want bool
	}{
		{"empty txn", backend.Txn{}, true},
		{"compare only", backend.Txn{If: []backend.Compare{no}}, false},
		{"false compare, empty Else", backend.Txn{If: []backend.Compare{no}, Then: []backend.Op{backend.Put("/c/x", "x", backend.NoLease)}}, false},
		{"delete of a missing key", backend.Txn{Then: []backend.Op{backend.Delete(backend.Key("/c/missing"))}}, true},
		{"delete of an empty range", backend.Txn{Then: []backend.Op{backend.Delete(backend.PrefixAt("/c/none/", 0)), backend.Delete(backend.PrefixAt("/c/k/", 0))}}, true},
	}
	for _, c := range cases {
		res := h.commit(c.txn)
		if res != (backend.TxnResult{Succeeded: c.want, Revision: r}) {
			h.Errorf("%s: result %+v, want {Succeeded:%v Revision:%d Deleted:0}", c.name, res, c.want, r)
		}
		h.wantRev(r, c.name)
	}
	h.missing("/c/x")
}

// testCommitManyOpsOneRevision: all ops of a branch happen at one new
// revision.
func testCommitManyOpsOneRevision(h *harness) {
	c := h.create("/c/a", "old")
	h.create("/c/gone", "x")
	before := h.rev()
	res := h.commit(backend.Txn{Then: []backend.Op{
		backend.Put("/c/a", "new", backend.NoLease),
		backend.Put("/c/b", "b", backend.NoLease),
		backend.Put("/c/b/deep", "d", backend.NoLease),
		backend.Delete(backend.Key("/c/gone")),
	}})
	r := before + 1
	if res != (backend.TxnResult{Succeeded: true, Revision: r, Deleted: 1}) {
		h.Errorf("result %+v, want {Succeeded:true Revision:%d Deleted:1}", res, r)
	}
	h.wantRev(r, "after a four-op commit")
	h.wantKV("/c/a", h.get("/c/a"), backend.KeyValue{Path: "/c/a", Value: "new", CreateRevision: c, ModRevision: r, Version: 2})
	h.wantKV("/c/b", h.get("/c/b"), backend.KeyValue{Path: "/c/b", Value: "b", CreateRevision: r, ModRevision: r, Version: 1})
	h.wantKV("/c/b/deep", h.get("/c/b/deep"), backend.KeyValue{Path: "/c/b/deep", Value: "d", CreateRevision: r, ModRevision: r, Version: 1})
	h.missing("/c/gone")
}

// testCommitDeleteRanges: a delete op removes one key or every key of a
// prefix range at its depth, and Deleted counts the keys removed; deleting
// a key twice in one branch is allowed (as in etcd) and counts it once.
func testCommitDeleteRanges(h *harness) {
	h.putAll(map[string]string{
		"/d/a": "x", "/d/ab": "x", "/d/b": "x", "/d/a/x": "x", "/d/a/y": "x", "/dx": "x", "/d": "x",
	})
	before := h.rev()
	res := h.commit(backend.Txn{Then: []backend.Op{backend.Delete(backend.PrefixAt("/d/a", 0))}})
	if res != (backend.TxnResult{Succeeded: true, Revision: before + 1, Deleted: 2}) {
		h.Errorf("delete PrefixAt(/d/a): %+v, want {Succeeded:true Revision:%d Deleted:2}", res, before+1)
	}
	h.wantPaths("left after deleting /d/a*", h.list("/", backend.ListOptions{Recurse: 2}).KVs, "/d", "/d/a/x", "/d/a/y", "/d/b", "/dx")

	res = h.commit(backend.Txn{Then: []backend.Op{
		backend.Delete(backend.PrefixAt("/d/", 3)),
		backend.Delete(backend.Key("/d/a/x")),
		backend.Delete(backend.Key("/d/b")),
		backend.Delete(backend.Key("/d/b")),
	}})
	if res != (backend.TxnResult{Succeeded: true, Revision: before + 2, Deleted: 3}) {
		h.Errorf("overlapping deletes: %+v, want {Succeeded:true Revision:%d Deleted:3}", res, before+2)
	}
	h.wantPaths("left after overlapping deletes", h.list("/", backend.ListOptions{Recurse: 2}).KVs, "/d", "/dx")

	// Deleted counts the chosen branch only.
	h.putAll(map[string]string{"/d/1": "x", "/d/2": "x"})
	res = h.commit(backend.Txn{
		If:   []backend.Compare{cmp(backend.Key("/d"), backend.Version, backend.Equal, 0)},
		Then: []backend.Op{backend.Delete(backend.Key("/d/1"))},
		Else: []backend.Op{backend.Delete(backend.PrefixAt("/d/", 0)), backend.Delete(backend.Key("/dx"))},
	})
	if res.Succeeded || res.Deleted != 3 {
		h.Errorf("Else deleting 3 keys: %+v, want Succeeded false, Deleted 3", res)
	}
	h.wantPaths("left after Else", h.list("/", backend.ListOptions{Recurse: 2}).KVs, "/d")
}

// testCommitPutLease: a put attaches the key to its lease, a put with
// NoLease detaches it (so revoking the lease leaves it), and a put with a
// revoked lease fails with ErrLeaseExpired writing nothing.
func testCommitPutLease(h *harness) {
	l := h.lease(30 * time.Second)
	res := h.commit(backend.Txn{Then: []backend.Op{
		backend.Put("/c/l1", "a", l.ID()),
		backend.Put("/c/l2", "b", l.ID()),
	}})
	for _, p := range []string{"/c/l1", "/c/l2"} {
		if got := h.get(p).Lease; got != l.ID() {
			h.Errorf("%s: Lease = %d, want %d", p, got, l.ID())
		}
	}
	r := h.commit(backend.Txn{Then: []backend.Op{backend.Put("/c/l1", "a2", backend.NoLease)}}).Revision
	if r != res.Revision+1 {
		h.Errorf("detaching put: revision %d, want %d", r, res.Revision+1)
	}
	h.wantKV("after put with NoLease", h.get("/c/l1"), backend.KeyValue{Path: "/c/l1", Value: "a2", CreateRevision: res.Revision, ModRevision: r, Version: 2})
	if err := l.Revoke(h.ctx); err != nil {
		h.Fatalf("Revoke: %v", err)
	}
	h.missing("/c/l2")
	if got := h.value("/c/l1"); got != "a2" {
		h.Errorf("detached key after Revoke = %q, want %q", got, "a2")
	}
	before := h.rev()
	_, err := h.b.Commit(h.ctx, backend.Txn{Then: []backend.Op{
		backend.Put("/c/l3", "x", backend.NoLease),
		backend.Put("/c/l4", "x", l.ID()),
	}})
	h.wantErr("Commit putting with a revoked lease", err, backend.ErrLeaseExpired, "")
	h.wantRev(before, "after the failed commit")
	h.missing("/c/l3")
	h.missing("/c/l4")
}

// testCommitInvalidTxn: writing a key twice in a branch, or putting a key
// inside a range the branch deletes, fails with ErrInvalidTxn and writes
// nothing, whichever branch is chosen; keys at another depth than a deleted
// range are not inside it.
func testCommitInvalidTxn(h *harness) {
	h.putAll(map[string]string{"/t/a": "x", "/t/b": "x"})
	before := h.rev()
	put := func(p string) backend.Op { return backend.Put(p, "new", backend.NoLease) }
	yes := cmp(backend.Key("/t/a"), backend.Version, backend.Equal, 1)
	cases := []struct {
		name string
		txn  backend.Txn
	}{
		{"put twice", backend.Txn{Then: []backend.Op{put("/t/c"), put("/t/a"), put("/t/a")}}},
		{"put and delete the key", backend.Txn{Then: []backend.Op{put("/t/a"), backend.Delete(backend.Key("/t/a"))}}},
		{"delete the key and put it", backend.Txn{Then: []backend.Op{backend.Delete(backend.Key("/t/a")), put("/t/a")}}},
		{"put inside a deleted range", backend.Txn{Then: []backend.Op{backend.Delete(backend.PrefixAt("/t/", 0)), put("/t/z")}}},
		{"put before a deleted range", backend.Txn{Then: []backend.Op{put("/t/z"), backend.Delete(backend.PrefixAt("/t/", 0))}}},
		{"invalid Else, Then chosen", backend.Txn{If: []backend.Compare{yes}, Then: []backend.Op{put("/t/c")}, Else: []backend.Op{put("/t/b"), put("/t/b")}}},
		{"invalid Then, Else chosen", backend.Txn{If: []backend.Compare{cmp(backend.Key("/t/a"), backend.Version, backend.Equal, 7)}, Then: []backend.Op{put("/t/b"), put("/t/b")}, Else: []backend.Op{put("/t/c")}}},
	}
	for _, c := range cases {
		_, err := h.b.Commit(h.ctx, c.txn)
		h.wantErr(c.name, err, backend.ErrInvalidTxn, "")
	}
	h.wantRev(before, "after invalid commits")
	h.missing("/t/c")
	h.missing("/t/z")

	// Valid: the same key in Then and Else; a put at another depth than a
	// deleted range, or outside it.
	res := h.commit(backend.Txn{
		If:   []backend.Compare{yes},
		Then: []backend.Op{backend.Delete(backend.PrefixAt("/t/", 0)), put("/t/b/deep"), put("/tz")},
		Else: []backend.Op{put("/tz")},
	})
	if res != (backend.TxnResult{Succeeded: true, Revision: before + 1, Deleted: 2}) {
		h.Errorf("valid commit: %+v, want {Succeeded:true Revision:%d Deleted:2}", res, before+1)
	}
	h.wantPaths("after the valid commit", h.list("/", backend.ListOptions{Recurse: 2}).KVs, "/t/b/deep", "/tz")
}

// testCommitTooLarge: a backend that is a backend.Limiter rejects a commit
// with more than MaxTxnOps compares, or ops in either branch, with
// ErrTxnTooLarge, writing nothing; exactly MaxTxnOps is fine.
func testCommitTooLarge(h *harness) {
	lim, ok := h.b.(backend.Limiter)
	if !ok {
		h.Skip("backend does not implement backend.Limiter")
	}
	n := lim.MaxTxnOps()
	if n <= 0 {
		h.Fatalf("MaxTxnOps() = %d, want > 0", n)
	}
	puts := func(k int, prefix string) []backend.Op {
		ops := make([]backend.Op, k)
		for i := range ops {
			ops[i] = backend.Put(fmt.Sprintf("%s%04d", prefix, i), "x", backend.NoLease)
		}
		return ops
	}
	cmps := func(k int) []backend.Compare {
		cs := make([]backend.Compare, k)
		for i := range cs {
			cs[i] = cmp(backend.Key(fmt.Sprintf("/big/c%04d", i)), backend.Version, backend.Equal, 0)
		}
		return cs
	}
	h.create("/big/marker", "x")
	before := h.rev()
	cases := []struct {
		name string
		txn  backend.Txn
	}{
		{"too many compares", backend.Txn{If: cmps(n + 1), Then: puts(1, "/big/a")}},
		{"too many Then ops", backend.Txn{Then: puts(n+1, "/big/b")}},
		{"too many Else ops", backend.Txn{If: cmps(1), Then: puts(1, "/big/c"), Else: puts(n+1, "/big/d")}},
	}
	for _, c := range cases {
		_, err := h.b.Commit(h.ctx, c.txn)
		h.wantErr(fmt.Sprintf("%s (MaxTxnOps %d)", c.name, n), err, backend.ErrTxnTooLarge, "")
	}
	h.wantRev(before, "after rejected commits")
	if got := h.list("/big/", backend.ListOptions{}).KVs; len(got) != 1 {
		h.Errorf("keys under /big/ after rejected commits: %q, want only /big/marker", paths(got))
	}

	res := h.commit(backend.Txn{If: cmps(n), Then: puts(n, "/big/e"), Else: puts(n, "/big/f")})
	if !res.Succeeded || res.Revision != before+1 {
		h.Errorf("commit of exactly MaxTxnOps: %+v, want Succeeded at %d", res, before+1)
	}
	if got := h.list("/big/e", backend.ListOptions{}).KVs; len(got) != n {
		h.Errorf("commit of exactly MaxTxnOps wrote %d keys, want %d", len(got), n)
	}
}

// testCommitOrderOfChecks: a commit with several faults fails for the
// first in the documented order (compares, Then, Else, each branch's
// duplicate keys, the size), and CommitRead checks its reads before the
// commit.
func testCommitOrderOfChecks(h *harness) {
	n := defaultMaxTxnOps
	if lim, ok := h.b.(backend.Limiter); ok {
		n = lim.MaxTxnOps()
	}
	big := make([]backend.Op, n+1)
	for i := range big {
		big[i] = backend.Put(fmt.Sprintf("/big/%04d", i), "x", backend.NoLease)
	}
	bad := backend.Put("/o/bad//path", "x", backend.NoLease)
	twice := []backend.Op{backend.Put("/o/twice", "1", backend.NoLease), backend.Put("/o/twice", "2", backend.NoLease)}
	before := h.rev()
	cases := []struct {
		name   string
		txn    backend.Txn
		reads  []string
		target error
		path   string
	}{
		{"bad path in a too large commit", backend.Txn{Then: append([]backend.Op{bad}, big...)}, nil, backend.ErrInvalidPath, "/o/bad//path"},
		{"bad path in Else of a too large commit", backend.Txn{Then: big, Else: []backend.Op{bad}}, nil, backend.ErrInvalidPath, "/o/bad//path"},
		{"duplicate key in a too large commit", backend.Txn{Then: append(append([]backend.Op{}, big...), twice...)}, nil, backend.ErrInvalidTxn, "/o/twice"},
		{"bad compare before a bad op", backend.Txn{If: []backend.Compare{cmp(backend.Key("/o/c//x"), backend.Version, backend.Equal, 0)}, Then: []backend.Op{bad}}, nil, backend.ErrInvalidPath, "/o/c//x"},
		{"bad Then before a duplicate in Then", backend.Txn{Then: append([]backend.Op{bad}, twice...)}, nil, backend.ErrInvalidPath, "/o/bad//path"},
		{"bad read before a bad commit", backend.Txn{Then: []backend.Op{bad}}, []string{"/o/read//x"}, backend.ErrInvalidPath, "/o/read//x"},
		{"bad commit with good reads", backend.Txn{Then: append(append([]backend.Op{}, big...), twice...)}, []string{"/o/r"}, backend.ErrInvalidTxn, "/o/twice"},
	}
	for _, c := range cases {
		var err error
		if c.reads == nil {
			_, err = h.b.Commit(h.ctx, c.txn)
		} else if cr, ok := h.b.(backend.CommitReader); ok {
			_, err = cr.CommitRead(h.ctx, c.txn, c.reads)
		} else {
			continue
		}
		h.wantErr(c.name, err, c.target, c.path)
	}
	h.wantRev(before, "after rejected commits")
}
