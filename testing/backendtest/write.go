package backendtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

var writeCases = []testCase{
	{"CreateCollision", testCreateCollision},
	{"UpdateVanished", testUpdateVanished},
	{"UpdateKeepsLease", testUpdateKeepsLease},
	{"DeleteKey", testDeleteKey},
	{"DeleteMustExist", testDeleteMustExist},
	{"DeleteRecursive", testDeleteRecursive},
	{"DeleteMaxDepth", testDeleteMaxDepth},
	{"DeletePrefix", testDeletePrefix},
	{"RevisionsWithErrors", testRevisionsWithErrors},
}

// testRevisionsWithErrors: the revision returned with an error (see
// backend.Backend) is the store's current revision when the store answered
// "no" (ErrNotFound, ErrCollision, ErrVanished), and 0 when the request
// failed (a future or compacted revision).
func testRevisionsWithErrors(h *harness) {
	h.create("/w/e", "v")
	cur := h.rev()
	if r, err := h.b.Create(h.ctx, "/w/e", "x", backend.NoLease); err == nil || r != cur {
		h.Errorf("Create of an existing key = %d, %v; want %d with ErrCollision", r, err, cur)
	}
	if r, err := h.b.Update(h.ctx, "/w/missing", "x"); err == nil || r != cur {
		h.Errorf("Update of a missing key = %d, %v; want %d with ErrVanished", r, err, cur)
	}
	if _, r, err := h.b.Get(h.ctx, "/w/missing", 0); err == nil || r != cur {
		h.Errorf("Get of a missing key: revision %d, %v; want %d with ErrNotFound", r, err, cur)
	}
	_, r, err := h.b.Get(h.ctx, "/w/e", cur+100)
	h.wantErr("Get at a future revision", err, backend.ErrFutureRevision, "/w/e")
	if r != 0 {
		h.Errorf("Get at a future revision: revision %d, want 0", r)
	}
}

// testCreateCollision: Create of an existing key fails with ErrCollision
// naming it and changes nothing; a deleted key can be created again.
func testCreateCollision(h *harness) {
	r := h.create("/w/k", "first")
	_, err := h.b.Create(h.ctx, "/w/k", "second", backend.NoLease)
	h.wantErr("Create of an existing key", err, backend.ErrCollision, "/w/k")
	h.wantRev(r, "after the collision")
	h.wantKV("after the collision", h.get("/w/k"), backend.KeyValue{Path: "/w/k", Value: "first", CreateRevision: r, ModRevision: r, Version: 1})

	// An empty value is a present key too.
	h.create("/w/empty", "")
	_, err = h.b.Create(h.ctx, "/w/empty", "x", backend.NoLease)
	h.wantErr("Create of an existing key with an empty value", err, backend.ErrCollision, "/w/empty")

	if _, err := h.b.Delete(h.ctx, "/w/k", backend.DeleteOptions{MustExist: true}); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	r2 := h.create("/w/k", "again")
	h.wantKV("re-created", h.get("/w/k"), backend.KeyValue{Path: "/w/k", Value: "again", CreateRevision: r2, ModRevision: r2, Version: 1})
}

// testUpdateVanished: Update of a missing key fails with ErrVanished naming
// it and creates nothing, also for a deleted key or a path with children.
func testUpdateVanished(h *harness) {
	h.create("/w/gone", "x")
	if _, err := h.b.Delete(h.ctx, "/w/gone", backend.DeleteOptions{MustExist: true}); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	h.create("/w/dir/child", "x")
	before := h.rev()
	for _, p := range []string{"/w/never", "/w/gone", "/w/dir"} {
		_, err := h.b.Update(h.ctx, p, "v")
		h.wantErr(fmt.Sprintf("Update(%q)", p), err, backend.ErrVanished, p)
		h.missing(p)
	}
	h.wantRev(before, "after failed updates")
}

// testUpdateKeepsLease: Update keeps the key's lease, so revoking the lease
// still deletes it; a key with no lease stays without one.
func testUpdateKeepsLease(h *harness) {
	l := h.lease(30 * time.Second)
	c := h.createLease("/w/leased", "a", l.ID())
	h.create("/w/free", "a")
	r := h.update("/w/leased", "b")
	h.wantKV("updated leased key", h.get("/w/leased"), backend.KeyValue{Path: "/w/leased", Value: "b", CreateRevision: c, ModRevision: r, Version: 2, Lease: l.ID()})
	h.update("/w/free", "b")
	if got := h.get("/w/free").Lease; got != backend.NoLease {
		h.Errorf("updated key with no lease: Lease = %d, want NoLease", got)
	}
	if err := l.Revoke(h.ctx); err != nil {
		h.Fatalf("Revoke: %v", err)
	}
	h.missing("/w/leased")
	if got := h.value("/w/free"); got != "b" {
		h.Errorf("/w/free after Revoke = %q, want %q", got, "b")
	}
}

// deleteOK deletes path with opts and checks the result: want keys deleted,
// at one new revision (or none when want is 0).
func (h *harness) deleteOK(path string, opts backend.DeleteOptions, want int64) {
	h.Helper()
	before := h.rev()
	res, err := h.b.Delete(h.ctx, path, opts)
	if err != nil {
		h.Errorf("Delete(%q, %+v): %v", path, opts, err)
		return
	}
	wantRev := before
	if want > 0 {
		wantRev++
	}
	if res != (backend.DeleteResult{Revision: wantRev, Deleted: want}) {
		h.Errorf("Delete(%q, %+v) = %+v, want {Revision:%d Deleted:%d}", path, opts, res, wantRev, want)
	}
	h.wantRev(wantRev, fmt.Sprintf("after Delete(%q, %+v)", path, opts))
}

// testDeleteKey: a plain delete removes the key only, not its children nor
// its siblings; deleting a missing key deletes nothing at no revision.
func testDeleteKey(h *harness) {
	h.putAll(map[string]string{"/w": "x", "/w/a": "x", "/wx": "x"})
	h.deleteOK("/w", backend.DeleteOptions{}, 1)
	h.missing("/w")
	h.wantPaths("left", h.list("/", backend.ListOptions{Recurse: 1}).KVs, "/w/a", "/wx")
	h.deleteOK("/w", backend.DeleteOptions{}, 0)
	h.deleteOK("/never", backend.DeleteOptions{}, 0)
}

// testDeleteMustExist: with MustExist, a delete that would delete nothing
// fails with ErrVanished naming the path and deletes nothing; one that
// deletes something succeeds.
func testDeleteMustExist(h *harness) {
	h.putAll(map[string]string{"/w/a/b": "x", "/w/keep": "x"})
	before := h.rev()
	for _, c := range []struct {
		path string
		opts backend.DeleteOptions
	}{
		{"/w/never", backend.DeleteOptions{MustExist: true}},
		{"/w/a", backend.DeleteOptions{MustExist: true}}, // has a child, is no key
		{"/w/never", backend.DeleteOptions{MustExist: true, Recursive: true}},
		{"/w/x", backend.DeleteOptions{MustExist: true, Prefix: true}},
		{"/w/x", backend.DeleteOptions{MustExist: true, Prefix: true, Recursive: true}},
	} {
		_, err := h.b.Delete(h.ctx, c.path, c.opts)
		h.wantErr(fmt.Sprintf("Delete(%q, %+v)", c.path, c.opts), err, backend.ErrVanished, c.path)
	}
	h.wantRev(before, "after failed deletes")
	h.wantPaths("keys after failed deletes", h.list("/w/", backend.ListOptions{Recurse: 1}).KVs, "/w/a/b", "/w/keep")

	// A recursive delete of a path that is no key but has keys below it
	// deletes those, so MustExist is satisfied.
	h.deleteOK("/w/a", backend.DeleteOptions{MustExist: true, Recursive: true}, 1)
	h.deleteOK("/w/keep", backend.DeleteOptions{MustExist: true}, 1)
	h.wantPaths("keys at the end", h.list("/w/", backend.ListOptions{Recurse: 1}).KVs)
}

// testDeleteRecursive: Recursive removes the key and its whole subtree at
// one revision, but not siblings that merely share a string prefix.
func testDeleteRecursive(h *harness) {
	h.putAll(map[string]string{
		"/pb": "x", "/pb/a": "x", "/pb/a/b": "x", "/pb/a/b/c": "x", "/pb/z": "x",
		"/pbx": "x", "/pbx/y": "x", "/pc": "x", "/pb-x/y": "x",
	})
	h.deleteOK("/pb", backend.DeleteOptions{Recursive: true}, 5)
	h.wantPaths("left", h.list("/", backend.ListOptions{Recurse: 5}).KVs, "/pb-x/y", "/pbx", "/pbx/y", "/pc")
	h.deleteOK("/pb", backend.DeleteOptions{Recursive: true}, 0)
	h.deleteOK("/pbx/y", backend.DeleteOptions{Recursive: true}, 1)
}

// testDeleteMaxDepth: MaxDepth bounds how many levels below the path a
// recursive delete reaches; it defaults to backend.MaxDepth.
func testDeleteMaxDepth(h *harness) {
	h.putAll(map[string]string{"/m": "x", "/m/1": "x", "/m/1/2": "x", "/m/1/2/3": "x", "/m/b": "x"})
	h.deleteOK("/m", backend.DeleteOptions{Recursive: true, MaxDepth: 1}, 3)
	h.wantPaths("left after MaxDepth 1", h.list("/", backend.ListOptions{Recurse: 5}).KVs, "/m/1/2", "/m/1/2/3")
	h.deleteOK("/m", backend.DeleteOptions{Recursive: true, MaxDepth: 2}, 1)
	h.wantPaths("left after MaxDepth 2", h.list("/", backend.ListOptions{Recurse: 5}).KVs, "/m/1/2/3")

	// The default reaches exactly backend.MaxDepth levels down.
	chain := func(levels int) string {
		var b strings.Builder
		b.WriteString("/deep")
		for i := 1; i <= levels; i++ {
			fmt.Fprintf(&b, "/s%d", i)
		}
		return b.String()
	}
	reached, beyond := chain(backend.MaxDepth), chain(backend.MaxDepth+1)
	h.putAll(map[string]string{reached: "x", beyond: "x", chain(1): "x"})
	h.deleteOK("/deep", backend.DeleteOptions{Recursive: true}, 2)
	h.missing(reached)
	h.get(beyond)
	h.deleteOK("/deep", backend.DeleteOptions{Recursive: true, MaxDepth: backend.MaxDepth + 1}, 1)
	h.missing(beyond)
}

// testDeletePrefix: Prefix deletes every key at the path's depth starting
// with it; with Recursive, the keys below those as well.
func testDeletePrefix(h *harness) {
	cases := []struct {
		path string
		opts backend.DeleteOptions
		left []string
	}{
		{"/pb/a", backend.DeleteOptions{Prefix: true},
			[]string{"/pb", "/pb/a/b", "/pb/a/b/c", "/pb/a/c", "/pb/ab/x", "/pb/b", "/pbx", "/pbx/y", "/pc"}},
		{"/pb/", backend.DeleteOptions{Prefix: true},
			[]string{"/pb", "/pb/a/b", "/pb/a/b/c", "/pb/a/c", "/pb/ab/x", "/pbx", "/pbx/y", "/pc"}},
		{"/pb", backend.DeleteOptions{Prefix: true},
			[]string{"/pb/a", "/pb/a/b", "/pb/a/b/c", "/pb/a/c", "/pb/ab", "/pb/ab/x", "/pb/b", "/pbx/y", "/pc"}},
		{"/pb/a", backend.DeleteOptions{Prefix: true, Recursive: true},
			[]string{"/pb", "/pb/b", "/pbx", "/pbx/y", "/pc"}},
		{"/pb/", backend.DeleteOptions{Prefix: true, Recursive: true},
			[]string{"/pb", "/pbx", "/pbx/y", "/pc"}},
		{"/pb/", backend.DeleteOptions{Prefix: true, Recursive: true, MaxDepth: 1},
			[]string{"/pb", "/pb/a/b/c", "/pbx", "/pbx/y", "/pc"}},
		{"/pb", backend.DeleteOptions{Prefix: true, Recursive: true},
			[]string{"/pc"}},
	}
	for _, c := range cases {
		h.putAll(listTree)
		n := int64(len(listTree) - len(c.left))
		h.deleteOK(c.path, c.opts, n)
		h.wantPaths(fmt.Sprintf("left after Delete(%q, %+v)", c.path, c.opts), h.list("/", backend.ListOptions{Recurse: 5}).KVs, c.left...)
	}
}
