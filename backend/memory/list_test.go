package memory_test

import (
	"context"
	"errors"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

func seedTree(t *testing.T, b *memory.Backend) {
	t.Helper()
	for _, p := range []string{"/pb", "/pb/a", "/pb/b", "/pb/a/x", "/pb/a/y", "/pb/a/x/deep", "/pbx", "/pbx/c", "/q"} {
		put(t, b, p, "v"+p)
	}
}

func TestListDepths(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	seedTree(t, b)

	for _, tc := range []struct {
		name   string
		prefix string
		opts   backend.ListOptions
		want   []string
	}{
		{"root level", "/", backend.ListOptions{}, []string{"/pb", "/pbx", "/q"}},
		{"prefix mid-segment", "/pb", backend.ListOptions{}, []string{"/pb", "/pbx"}},
		{"children", "/pb/", backend.ListOptions{}, []string{"/pb/a", "/pb/b"}},
		{"recurse 1", "/pb/", backend.ListOptions{Recurse: 1}, []string{"/pb/a", "/pb/a/x", "/pb/a/y", "/pb/b"}},
		{"recurse 5", "/pb/", backend.ListOptions{Recurse: 5}, []string{"/pb/a", "/pb/a/x", "/pb/a/x/deep", "/pb/a/y", "/pb/b"}},
		{"prefix recurse", "/pb", backend.ListOptions{Recurse: 1}, []string{"/pb", "/pb/a", "/pb/b", "/pbx", "/pbx/c"}},
		{"depths exactly", "/pb/", backend.ListOptions{Depths: []int{2, 1}}, []string{"/pb/a/x", "/pb/a/x/deep", "/pb/a/y"}},
		{"depths deduplicated", "/pb/", backend.ListOptions{Depths: []int{0, 0}}, []string{"/pb/a", "/pb/b"}},
		{"empty depths", "/pb/", backend.ListOptions{Depths: []int{}}, nil},
		{"no match", "/nothing/", backend.ListOptions{Recurse: 3}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := b.List(ctx, tc.prefix, tc.opts)
			assert.NilError(t, err)
			if tc.want == nil {
				assert.Equal(t, len(res.KVs), 0)
			} else {
				assert.DeepEqual(t, paths(res.KVs), tc.want)
			}
			assert.Equal(t, res.Revision, int64(10))
			assert.Assert(t, !res.More)
		})
	}
}

func TestListValuesAndMetadata(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/k/a", "1")
	put(t, b, "/k/a", "2")

	res, err := b.List(ctx, "/k/", backend.ListOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, res.KVs, []backend.KeyValue{{Path: "/k/a", CreateRevision: 2, ModRevision: 3, Version: 2}})

	res, err = b.List(ctx, "/k/", backend.ListOptions{WithValues: true})
	assert.NilError(t, err)
	assert.DeepEqual(t, res.KVs, []backend.KeyValue{{Path: "/k/a", Value: "2", CreateRevision: 2, ModRevision: 3, Version: 2}})
}

func TestListPaging(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	seedTree(t, b)

	var got []string
	after := ""
	pages := 0
	for {
		res, err := b.List(ctx, "/", backend.ListOptions{Recurse: 3, After: after, Limit: 2})
		assert.NilError(t, err)
		got = append(got, paths(res.KVs)...)
		pages++
		if !res.More {
			assert.Assert(t, len(res.KVs) <= 2)
			break
		}
		assert.Equal(t, len(res.KVs), 2)
		after = res.KVs[len(res.KVs)-1].Path
	}
	assert.DeepEqual(t, got, []string{"/pb", "/pb/a", "/pb/a/x", "/pb/a/x/deep", "/pb/a/y", "/pb/b", "/pbx", "/pbx/c", "/q"})
	assert.Equal(t, pages, 5)

	res, err := b.List(ctx, "/", backend.ListOptions{Recurse: 3, Limit: 9})
	assert.NilError(t, err)
	assert.Equal(t, len(res.KVs), 9)
	assert.Assert(t, !res.More, "exactly Limit keys is not more")
}

func TestListAtOldRevision(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/d/a", "1")
	r := put(t, b, "/d/b", "1")
	put(t, b, "/d/c", "1")
	_, err := b.Delete(ctx, "/d/a", backend.DeleteOptions{})
	assert.NilError(t, err)
	put(t, b, "/d/b", "2")

	res, err := b.List(ctx, "/d/", backend.ListOptions{Revision: r, WithValues: true})
	assert.NilError(t, err)
	assert.DeepEqual(t, paths(res.KVs), []string{"/d/a", "/d/b"})
	assert.Equal(t, res.KVs[1].Value, "1")
	assert.Equal(t, res.Revision, int64(6))

	res, err = b.List(ctx, "/d/", backend.ListOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, paths(res.KVs), []string{"/d/b", "/d/c"})

	_, err = b.List(ctx, "/d/", backend.ListOptions{Revision: 7})
	assert.Assert(t, errors.Is(err, backend.ErrFutureRevision), "%v", err)
}

func TestListInvalidPrefix(t *testing.T) {
	b := newBackend(t)
	for _, p := range []string{"", "pb", "/a//b", "/a/\xff"} {
		_, err := b.List(context.Background(), p, backend.ListOptions{})
		assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%q: %v", p, err)
	}
}

func TestCompaction(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/a", "1")                                      // 2
	put(t, b, "/gone", "x")                                   // 3
	r4 := put(t, b, "/a", "2")                                // 4
	_, err := b.Delete(ctx, "/gone", backend.DeleteOptions{}) // 5
	assert.NilError(t, err)
	put(t, b, "/a", "3") // 6

	assert.NilError(t, b.Compact(ctx, 5))

	_, _, err = b.Get(ctx, "/a", r4)
	assert.Assert(t, errors.Is(err, backend.ErrCompacted), "%v", err)
	_, err = b.List(ctx, "/", backend.ListOptions{Revision: 4})
	assert.Assert(t, errors.Is(err, backend.ErrCompacted), "%v", err)

	kv, _, err := b.Get(ctx, "/a", 5)
	assert.NilError(t, err, "reading at the compact revision works")
	assert.Equal(t, kv.Value, "2")
	_, _, err = b.Get(ctx, "/gone", 5)
	assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
	kv, _, err = b.Get(ctx, "/a", 6)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "3")
	assert.Equal(t, kv.Version, int64(3), "compaction keeps versions")

	res, err := b.List(ctx, "/", backend.ListOptions{Revision: 5})
	assert.NilError(t, err)
	assert.DeepEqual(t, paths(res.KVs), []string{"/a"})

	err = b.Compact(ctx, 5)
	assert.Assert(t, errors.Is(err, backend.ErrCompacted), "%v", err)
	err = b.Compact(ctx, 3)
	assert.Assert(t, errors.Is(err, backend.ErrCompacted), "%v", err)
	err = b.Compact(ctx, 7)
	assert.Assert(t, errors.Is(err, backend.ErrFutureRevision), "%v", err)
	assert.NilError(t, b.Compact(ctx, 6))

	rev, err := b.Revision(ctx)
	assert.NilError(t, err)
	assert.Equal(t, rev, int64(6), "compaction is not a write")
}

func TestClosedBackend(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	put(t, b, "/a", "1")
	assert.NilError(t, b.Close())
	assert.NilError(t, b.Close(), "Close is idempotent")

	checks := map[string]error{}
	_, _, checks["get"] = b.Get(ctx, "/a", 0)
	_, checks["list"] = b.List(ctx, "/", backend.ListOptions{})
	_, checks["commit"] = b.Commit(ctx, backend.Txn{})
	_, checks["create"] = b.Create(ctx, "/b", "1", backend.NoLease)
	_, checks["update"] = b.Update(ctx, "/a", "1")
	_, checks["delete"] = b.Delete(ctx, "/a", backend.DeleteOptions{})
	_, checks["lease"] = b.Lease(ctx, 0)
	_, checks["watch"] = b.Watch(ctx, []backend.Range{backend.Key("/a")}, 0)
	_, checks["revision"] = b.Revision(ctx)
	checks["compact"] = b.Compact(ctx, 1)
	checks["expire"] = b.ExpireLease(1)
	for op, err := range checks {
		assert.Assert(t, errors.Is(err, backend.ErrClosed), "%s: %v", op, err)
	}
}
