package backendtest

import (
	"errors"

	"github.com/sdpconfig/sdpconfig/backend"
)

var getCases = []testCase{
	{"Missing", testGetMissing},
	{"KeyLifecycle", testGetKeyLifecycle},
	{"OlderRevision", testGetOlderRevision},
	{"NoDirectories", testGetNoDirectories},
	{"FutureRevision", testGetFutureRevision},
}

// testGetMissing: a missing key is ErrNotFound naming the path, and the
// store revision is returned with it.
func testGetMissing(h *harness) {
	h.create("/g/other", "v")
	want := h.rev()
	_, rev, err := h.b.Get(h.ctx, "/g/missing", 0)
	h.wantErr(`Get("/g/missing")`, err, backend.ErrNotFound, "/g/missing")
	if rev != want {
		h.Errorf(`Get("/g/missing") returned revision %d, want the store revision %d`, rev, want)
	}
}

// testGetKeyLifecycle: CreateRevision, ModRevision and Version after a
// create, a put, a put of the same value, a delete and a re-create; every
// write moves the revision by exactly one and Get returns the store
// revision.
func testGetKeyLifecycle(h *harness) {
	const p = "/g/k"
	r1 := h.create(p, "one")
	kv, rev, err := h.b.Get(h.ctx, p, 0)
	if err != nil {
		h.Fatalf("Get after create: %v", err)
	}
	h.wantKV("after create", kv, backend.KeyValue{Path: p, Value: "one", CreateRevision: r1, ModRevision: r1, Version: 1})
	if rev != r1 {
		h.Errorf("Get after create returned revision %d, want %d", rev, r1)
	}

	r2 := h.update(p, "two")
	h.wantKV("after update", h.get(p), backend.KeyValue{Path: p, Value: "two", CreateRevision: r1, ModRevision: r2, Version: 2})

	// Writing the same value again is still a write.
	r3 := h.put(p, "two")
	if r3 != r2+1 {
		h.Errorf("put of the same value returned revision %d, want %d", r3, r2+1)
	}
	h.wantKV("after put of the same value", h.get(p), backend.KeyValue{Path: p, Value: "two", CreateRevision: r1, ModRevision: r3, Version: 3})

	res, err := h.b.Delete(h.ctx, p, backend.DeleteOptions{})
	if err != nil {
		h.Fatalf("Delete: %v", err)
	}
	r4 := r3 + 1
	if res != (backend.DeleteResult{Revision: r4, Deleted: 1}) {
		h.Errorf("Delete = %+v, want {Revision:%d Deleted:1}", res, r4)
	}
	_, rev, err = h.b.Get(h.ctx, p, 0)
	h.wantErr("Get after delete", err, backend.ErrNotFound, p)
	if rev != r4 {
		h.Errorf("Get after delete returned revision %d, want %d", rev, r4)
	}

	// A re-created key starts a new life: new CreateRevision, Version 1.
	r5 := h.create(p, "again")
	if r5 != r4+1 {
		h.Errorf("re-create returned revision %d, want %d", r5, r4+1)
	}
	h.wantKV("after re-create", h.get(p), backend.KeyValue{Path: p, Value: "again", CreateRevision: r5, ModRevision: r5, Version: 1})
	h.wantRev(r5, "after five writes")
}

// testGetOlderRevision: Get at an older revision sees the key as it was
// then, including before it existed and while it was deleted.
func testGetOlderRevision(h *harness) {
	const p = "/g/k"
	r0 := h.create("/g/before", "x")
	r1 := h.create(p, "one")
	r2 := h.update(p, "two")
	r3 := h.create("/g/unrelated", "x")
	if _, err := h.b.Delete(h.ctx, p, backend.DeleteOptions{MustExist: true}); err != nil {
		h.Fatalf("Delete: %v", err)
	}
	r4 := r3 + 1
	r5 := h.create(p, "three")

	h.missingAt(p, r0)
	h.wantKV("Get at r1", h.getAt(p, r1), backend.KeyValue{Path: p, Value: "one", CreateRevision: r1, ModRevision: r1, Version: 1})
	want2 := backend.KeyValue{Path: p, Value: "two", CreateRevision: r1, ModRevision: r2, Version: 2}
	h.wantKV("Get at r2", h.getAt(p, r2), want2)
	h.wantKV("Get at r3 (after an unrelated write)", h.getAt(p, r3), want2)
	h.missingAt(p, r4)
	h.wantKV("Get at r5", h.getAt(p, r5), backend.KeyValue{Path: p, Value: "three", CreateRevision: r5, ModRevision: r5, Version: 1})

	// The revision returned with an older read is the revision read or
	// the current one (etcd returns the current one in its header).
	_, rev, err := h.b.Get(h.ctx, p, r2)
	if err != nil {
		h.Fatalf("Get at r2: %v", err)
	}
	if rev != r2 && rev != r5 {
		h.Errorf("Get at r2 returned revision %d, want %d (the revision read) or %d (the store revision)", rev, r2, r5)
	}
}

// testGetNoDirectories: keys are flat; a path with keys below it is not a
// key itself, and a key's children are not the key.
func testGetNoDirectories(h *harness) {
	h.create("/g/a/b", "x")
	h.missing("/g/a")
	h.missing("/g")
	h.create("/g/a", "parent")
	if v := h.get("/g/a").Value; v != "parent" {
		h.Errorf(`Get("/g/a") = %q, want "parent"`, v)
	}
	if v := h.get("/g/a/b").Value; v != "x" {
		h.Errorf(`Get("/g/a/b") = %q, want "x"`, v)
	}
}

// testGetFutureRevision: reading above the store revision fails with
// ErrFutureRevision.
func testGetFutureRevision(h *harness) {
	r := h.create("/g/k", "v")
	_, _, err := h.b.Get(h.ctx, "/g/k", r+1)
	if !errors.Is(err, backend.ErrFutureRevision) {
		h.Errorf("Get at revision+1 = %v, want ErrFutureRevision", err)
	}
	_, _, err = h.b.Get(h.ctx, "/g/missing", r+100)
	if !errors.Is(err, backend.ErrFutureRevision) {
		h.Errorf("Get of a missing key at revision+100 = %v, want ErrFutureRevision", err)
	}
	h.wantKV("Get at the store revision", h.getAt("/g/k", r), backend.KeyValue{Path: "/g/k", Value: "v", CreateRevision: r, ModRevision: r, Version: 1})
}
