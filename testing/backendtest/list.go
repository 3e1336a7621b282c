package backendtest

import (
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

var listCases = []testCase{
	{"Depth", testListDepth},
	{"Recurse", testListRecurse},
	{"Depths", testListDepths},
	{"Values", testListValues},
	{"OlderRevision", testListOlderRevision},
	{"Paging", testListPaging},
	{"Empty", testListEmpty},
	{"FutureRevisionNoDepths", testListFutureRevisionNoDepths},
}

// testListFutureRevisionNoDepths: a List at a future revision fails with
// ErrFutureRevision even when it selects no depth at all (nothing to
// read), as one that reads does.
func testListFutureRevisionNoDepths(h *harness) {
	h.create("/l/a", "v")
	future := h.rev() + 10
	for name, opts := range map[string]backend.ListOptions{
		"no depths":    {Depths: []int{}, Revision: future},
		"a depth":      {Revision: future},
		"depth 0 of /": {Depths: []int{-1}, Revision: future},
	} {
		_, err := h.b.List(h.ctx, "/l/", opts)
		h.wantErr("List at a future revision with "+name, err, backend.ErrFutureRevision, "/l/")
	}
	if res, err := h.b.List(h.ctx, "/l/", backend.ListOptions{Depths: []int{}}); err != nil || len(res.KVs) != 0 {
		h.Errorf("List with no depths = %v, %v; want nothing and no error", res.KVs, err)
	}
}

// listTree is the fixture of the list tests: keys at depths 1 to 4, with
// siblings that share a prefix ("/pb", "/pbx"; "/pb/a", "/pb/ab").
var listTree = map[string]string{
	"/pb":       "v-pb",
	"/pbx":      "v-pbx",
	"/pc":       "v-pc",
	"/pb/a":     "v-a",
	"/pb/ab":    "v-ab",
	"/pb/b":     "v-b",
	"/pb/a/b":   "v-a-b",
	"/pb/a/c":   "v-a-c",
	"/pb/ab/x":  "v-ab-x",
	"/pb/a/b/c": "v-a-b-c",
	"/pbx/y":    "v-pbx-y",
}

// writeListTree writes listTree and returns the revision of its last key.
func writeListTree(h *harness) int64 {
	h.Helper()
	return h.putAll(listTree)
}

// testListDepth: a prefix lists only the keys at its own depth; "/" after a
// path selects its children, without it the path and its siblings.
func testListDepth(h *harness) {
	last := writeListTree(h)
	cases := []struct {
		prefix string
		want   []string
	}{
		{"/pb/", []string{"/pb/a", "/pb/ab", "/pb/b"}},
		{"/pb", []string{"/pb", "/pbx"}},
		{"/pb/a", []string{"/pb/a", "/pb/ab"}},
		{"/pb/a/", []string{"/pb/a/b", "/pb/a/c"}},
		{"/pb/a/b/", []string{"/pb/a/b/c"}},
		{"/", []string{"/pb", "/pbx", "/pc"}},
		{"/p", []string{"/pb", "/pbx", "/pc"}},
		{"/pbx/", []string{"/pbx/y"}},
		{"/pc/", nil},
	}
	for _, c := range cases {
		res := h.list(c.prefix, backend.ListOptions{})
		h.wantPaths(fmt.Sprintf("List(%q)", c.prefix), res.KVs, c.want...)
		if res.Revision != last {
			h.Errorf("List(%q).Revision = %d, want the store revision %d", c.prefix, res.Revision, last)
		}
		if res.More {
			h.Errorf("List(%q).More = true without a Limit", c.prefix)
		}
	}
}

// testListRecurse: Recurse adds levels below the prefix's depth, and the
// result is sorted by path across depths.
func testListRecurse(h *harness) {
	writeListTree(h)
	cases := []struct {
		prefix  string
		recurse int
		want    []string
	}{
		{"/pb/", 1, []string{"/pb/a", "/pb/a/b", "/pb/a/c", "/pb/ab", "/pb/ab/x", "/pb/b"}},
		{"/pb/", 2, []string{"/pb/a", "/pb/a/b", "/pb/a/b/c", "/pb/a/c", "/pb/ab", "/pb/ab/x", "/pb/b"}},
		{"/pb/", 20, []string{"/pb/a", "/pb/a/b", "/pb/a/b/c", "/pb/a/c", "/pb/ab", "/pb/ab/x", "/pb/b"}},
		{"/", 1, []string{"/pb", "/pb/a", "/pb/ab", "/pb/b", "/pbx", "/pbx/y", "/pc"}},
		{"/pb", 1, []string{"/pb", "/pb/a", "/pb/ab", "/pb/b", "/pbx", "/pbx/y"}},
		{"/pb/a/", 5, []string{"/pb/a/b", "/pb/a/b/c", "/pb/a/c"}},
	}
	for _, c := range cases {
		res := h.list(c.prefix, backend.ListOptions{Recurse: c.recurse})
		h.wantPaths(fmt.Sprintf("List(%q, Recurse %d)", c.prefix, c.recurse), res.KVs, c.want...)
	}
}

// testListDepths: Depths selects exactly the levels given (relative to the
// prefix's depth) and overrides Recurse; an empty, non-nil Depths lists
// nothing.
func testListDepths(h *harness) {
	writeListTree(h)
	cases := []struct {
		prefix string
		opts   backend.ListOptions
		want   []string
	}{
		{"/pb/", backend.ListOptions{Depths: []int{1}}, []string{"/pb/a/b", "/pb/a/c", "/pb/ab/x"}},
		{"/pb/", backend.ListOptions{Depths: []int{0, 2}}, []string{"/pb/a", "/pb/a/b/c", "/pb/ab", "/pb/b"}},
		{"/pb/", backend.ListOptions{Depths: []int{2, 0}}, []string{"/pb/a", "/pb/a/b/c", "/pb/ab", "/pb/b"}},
		{"/pb/", backend.ListOptions{Depths: []int{2}, Recurse: 1}, []string{"/pb/a/b/c"}},
		{"/", backend.ListOptions{Depths: []int{1}}, []string{"/pb/a", "/pb/ab", "/pb/b", "/pbx/y"}},
		{"/pb/", backend.ListOptions{Depths: []int{5}}, nil},
		{"/pb/", backend.ListOptions{Depths: []int{}, Recurse: 2}, nil},
	}
	for _, c := range cases {
		res := h.list(c.prefix, c.opts)
		h.wantPaths(fmt.Sprintf("List(%q, Depths %v, Recurse %d)", c.prefix, c.opts.Depths, c.opts.Recurse), res.KVs, c.want...)
	}
}

// testListValues: WithValues returns values; without it values are empty
// but every other field is set as Get returns it.
func testListValues(h *harness) {
	writeListTree(h)
	h.update("/pb/a", "v-a2") // Version 2, CreateRevision != ModRevision
	l := h.lease(30 * time.Second)
	h.createLease("/pb/leased", "v-l", l.ID())
	want := []string{"/pb/a", "/pb/a/b", "/pb/a/c", "/pb/ab", "/pb/ab/x", "/pb/b", "/pb/leased"}
	full := h.list("/pb/", backend.ListOptions{Recurse: 1, WithValues: true})
	h.wantPaths("List with values", full.KVs, want...)
	keys := h.list("/pb/", backend.ListOptions{Recurse: 1})
	h.wantPaths("List keys only", keys.KVs, want...)
	for i, kv := range full.KVs {
		h.wantKV(fmt.Sprintf("List with values, %s", kv.Path), kv, h.get(kv.Path))
		if i < len(keys.KVs) {
			kv.Value = ""
			h.wantKV(fmt.Sprintf("List keys only, %s", kv.Path), keys.KVs[i], kv)
		}
	}
}

// testListOlderRevision: List at an older revision sees the keys and values
// as they were then.
func testListOlderRevision(h *harness) {
	r1 := writeListTree(h)
	old := h.list("/pb/", backend.ListOptions{Recurse: 2, WithValues: true})
	h.update("/pb/a", "changed")
	if _, err := h.b.Delete(h.ctx, "/pb/b", backend.DeleteOptions{MustExist: true}); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	h.create("/pb/new", "x")
	h.create("/pb/a/new", "x")
	now := h.rev()

	res := h.list("/pb/", backend.ListOptions{Recurse: 2, WithValues: true, Revision: r1})
	h.wantPaths("List at the older revision", res.KVs, paths(old.KVs)...)
	for i := range min(len(res.KVs), len(old.KVs)) {
		h.wantKV("List at the older revision", res.KVs[i], old.KVs[i])
	}
	if res.Revision != r1 && res.Revision != now {
		h.Errorf("List at %d: Revision = %d, want %d (the revision read) or %d (the store revision)", r1, res.Revision, r1, now)
	}
	cur := h.list("/pb/", backend.ListOptions{Recurse: 2})
	h.wantPaths("List now", cur.KVs, "/pb/a", "/pb/a/b", "/pb/a/b/c", "/pb/a/c", "/pb/a/new", "/pb/ab", "/pb/ab/x", "/pb/new")
	if cur.Revision != now {
		h.Errorf("List now: Revision = %d, want %d", cur.Revision, now)
	}
}

// testListPaging: After and Limit page through a list across depths; pages
// read at the first page's revision give exactly the keys of one List, even
// when the store changes between pages.
func testListPaging(h *harness) {
	writeListTree(h)
	base := backend.ListOptions{Recurse: 3, WithValues: true}
	all := h.list("/", base)
	wantAll := sortedKeys(listTree)
	h.wantPaths("List of everything", all.KVs, wantAll...)

	for _, limit := range []int{1, 2, 3, 4, len(wantAll) - 1, len(wantAll), len(wantAll) + 1} {
		var got []backend.KeyValue
		opts := base
		opts.Limit = limit
		first := true
		for page := 0; page <= len(wantAll)+1; page++ {
			res := h.list("/", opts)
			if first {
				opts.Revision = res.Revision
				first = false
				// Writes between pages must not show in later pages.
				h.create(fmt.Sprintf("/pb/a/zz%d", limit), "late")
				h.update("/pc", fmt.Sprintf("late%d", limit))
			}
			if len(res.KVs) > limit {
				h.Errorf("Limit %d: a page has %d keys", limit, len(res.KVs))
			}
			got = append(got, res.KVs...)
			if !res.More {
				break
			}
			if len(res.KVs) == 0 {
				h.Fatalf("Limit %d: an empty page with More set", limit)
			}
			opts.After = res.KVs[len(res.KVs)-1].Path
		}
		h.wantPaths(fmt.Sprintf("pages of Limit %d", limit), got, wantAll...)
		for i := range min(len(got), len(all.KVs)) {
			h.wantKV(fmt.Sprintf("pages of Limit %d", limit), got[i], all.KVs[i])
		}
		// Put the fixture back for the next limit.
		if _, err := h.b.Delete(h.ctx, fmt.Sprintf("/pb/a/zz%d", limit), backend.DeleteOptions{MustExist: true}); err != nil {
			h.Fatalf("Delete: %v", err)
		}
		h.update("/pc", "v-pc")
		all = h.list("/", base)
	}

	// More is set exactly when keys were left out.
	n := len(wantAll)
	if res := h.list("/", backend.ListOptions{Recurse: 3, Limit: n}); res.More || len(res.KVs) != n {
		h.Errorf("Limit = number of keys: %d keys, More %v; want %d, false", len(res.KVs), res.More, n)
	}
	if res := h.list("/", backend.ListOptions{Recurse: 3, Limit: n - 1}); !res.More || len(res.KVs) != n-1 {
		h.Errorf("Limit = number of keys - 1: %d keys, More %v; want %d, true", len(res.KVs), res.More, n-1)
	}
	// After alone skips every path up to and including it, present or not.
	h.wantPaths(`After "/pb/a/b"`, h.list("/", backend.ListOptions{Recurse: 3, After: "/pb/a/b"}).KVs,
		"/pb/a/b/c", "/pb/a/c", "/pb/ab", "/pb/ab/x", "/pb/b", "/pbx", "/pbx/y", "/pc")
	h.wantPaths(`After "/pb/aa" (not a key)`, h.list("/", backend.ListOptions{Recurse: 3, After: "/pb/aa"}).KVs,
		"/pb/ab", "/pb/ab/x", "/pb/b", "/pbx", "/pbx/y", "/pc")
	h.wantPaths(`After "/pc"`, h.list("/", backend.ListOptions{Recurse: 3, After: "/pc"}).KVs)
	h.wantPaths(`Limit 2 After "/pb/ab"`, h.list("/pb/", backend.ListOptions{Recurse: 1, After: "/pb/ab", Limit: 2}).KVs,
		"/pb/ab/x", "/pb/b")
}

// testListEmpty: a prefix with no keys lists nothing, at the store
// revision.
func testListEmpty(h *harness) {
	r := h.create("/other", "x")
	res := h.list("/nothing/", backend.ListOptions{Recurse: 3, WithValues: true})
	if len(res.KVs) != 0 || res.More || res.Revision != r {
		h.Errorf("List of an empty prefix = %d keys, More %v, Revision %d; want 0, false, %d", len(res.KVs), res.More, res.Revision, r)
	}
}
