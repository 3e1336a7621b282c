package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

func cmp(r backend.Range, target backend.CompareTarget, op backend.CompareOp, v int64) backend.Compare {
	return backend.Compare{Range: r, Target: target, Op: op, Value: v}
}

func TestCompareSingleKey(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/a", "1") // rev 2, version 1
	put(t, b, "/a", "2") // rev 3, version 2

	for _, tc := range []struct {
		c    backend.Compare
		want bool
	}{
		{cmp(backend.Key("/a"), backend.ModRevision, backend.Equal, 3), true},
		{cmp(backend.Key("/a"), backend.ModRevision, backend.Equal, 2), false},
		{cmp(backend.Key("/a"), backend.ModRevision, backend.Less, 4), true},
		{cmp(backend.Key("/a"), backend.CreateRevision, backend.Equal, 2), true},
		{cmp(backend.Key("/a"), backend.CreateRevision, backend.Greater, 2), false},
		{cmp(backend.Key("/a"), backend.Version, backend.Equal, 2), true},
		{cmp(backend.Key("/a"), backend.Version, backend.NotEqual, 2), false},
		// A missing key compares as zeros.
		{cmp(backend.Key("/missing"), backend.CreateRevision, backend.Equal, 0), true},
		{cmp(backend.Key("/missing"), backend.ModRevision, backend.Less, 1), true},
		{cmp(backend.Key("/missing"), backend.Version, backend.Greater, 0), false},
	} {
		res, err := b.Commit(ctx, backend.Txn{If: []backend.Compare{tc.c}})
		assert.NilError(t, err)
		assert.Equal(t, res.Succeeded, tc.want, "%+v", tc.c)
		assert.Equal(t, res.Revision, int64(3))
	}
}

func TestCompareRange(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/r/a", "1")   // 2
	put(t, b, "/r/b", "1")   // 3
	put(t, b, "/r/b/c", "1") // 4: another depth, not in the range

	r := backend.PrefixAt("/r/", 0)
	for _, tc := range []struct {
		c    backend.Compare
		want bool
	}{
		// Holds only if every key of the range holds.
		{cmp(r, backend.CreateRevision, backend.Less, 4), true},
		{cmp(r, backend.CreateRevision, backend.Less, 3), false},
		{cmp(r, backend.ModRevision, backend.Greater, 1), true},
		// The range is one depth: /r/b/c at depth 3 is not in it.
		{cmp(backend.PrefixAt("/r/", 2), backend.CreateRevision, backend.Less, 4), true},
		{cmp(backend.PrefixAt("/r/", 3), backend.CreateRevision, backend.Equal, 4), true},
		// An empty range compares as a missing key.
		{cmp(backend.PrefixAt("/none/", 0), backend.CreateRevision, backend.Equal, 0), true},
		{cmp(backend.PrefixAt("/none/", 0), backend.CreateRevision, backend.Greater, 0), false},
	} {
		res, err := b.Commit(ctx, backend.Txn{If: []backend.Compare{tc.c}})
		assert.NilError(t, err)
		assert.Equal(t, res.Succeeded, tc.want, "%+v", tc.c)
	}
}

func TestCommitBranches(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/x", "0")

	txn := backend.Txn{
		If:   []backend.Compare{cmp(backend.Key("/x"), backend.ModRevision, backend.Equal, 2)},
		Then: []backend.Op{backend.Put("/x", "then", 0), backend.Put("/y", "then", 0)},
		Else: []backend.Op{backend.Put("/z", "else", 0)},
	}
	res, err := b.Commit(ctx, txn)
	assert.NilError(t, err)
	assert.DeepEqual(t, res, backend.TxnResult{Succeeded: true, Revision: 3})
	assert.Equal(t, get(t, b, "/x").Value, "then")
	assert.Equal(t, get(t, b, "/y").ModRevision, int64(3), "both puts at one revision")

	res, err = b.Commit(ctx, txn)
	assert.NilError(t, err)
	assert.DeepEqual(t, res, backend.TxnResult{Succeeded: false, Revision: 4})
	assert.Equal(t, get(t, b, "/z").Value, "else")
	assert.Equal(t, get(t, b, "/x").Value, "then")
}

func TestCommitDeletedCount(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/d/a", "1")
	put(t, b, "/d/b", "1")
	put(t, b, "/e", "1")

	res, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{
		backend.Delete(backend.PrefixAt("/d/", 0)),
		backend.Delete(backend.Key("/d/a")), // already deleted by the range: counted once
		backend.Delete(backend.Key("/e")),
		backend.Put("/f", "1", 0),
	}})
	assert.NilError(t, err)
	assert.DeepEqual(t, res, backend.TxnResult{Succeeded: true, Revision: 5, Deleted: 3})
}

func TestInvalidTxn(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/a", "1")
	for _, tc := range []struct {
		name string
		txn  backend.Txn
	}{
		{"put twice", backend.Txn{Then: []backend.Op{backend.Put("/k", "1", 0), backend.Put("/k", "2", 0)}}},
		{"put and delete", backend.Txn{Then: []backend.Op{backend.Put("/k", "1", 0), backend.Delete(backend.Key("/k"))}}},
		{"delete then put", backend.Txn{Then: []backend.Op{backend.Delete(backend.Key("/k")), backend.Put("/k", "1", 0)}}},
		{"put in deleted range", backend.Txn{Then: []backend.Op{backend.Delete(backend.PrefixAt("/p/", 0)), backend.Put("/p/k", "1", 0)}}},
		{"duplicate in the branch not taken", backend.Txn{
			Then: []backend.Op{backend.Put("/a", "2", 0)},
			Else: []backend.Op{backend.Put("/k", "1", 0), backend.Put("/k", "2", 0)},
		}},
		{"put with a prefix range", backend.Txn{Then: []backend.Op{{Kind: backend.OpPut, Range: backend.PrefixAt("/p/", 0)}}}},
		{"unknown op", backend.Txn{Then: []backend.Op{{Kind: 9, Range: backend.Key("/k")}}}},
		{"unknown target", backend.Txn{If: []backend.Compare{cmp(backend.Key("/k"), 0, backend.Equal, 0)}}},
		{"unknown relation", backend.Txn{If: []backend.Compare{cmp(backend.Key("/k"), backend.Version, 7, 0)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Commit(ctx, tc.txn)
			assert.Assert(t, errors.Is(err, backend.ErrInvalidTxn), "%v", err)
			assert.Equal(t, get(t, b, "/a").Value, "1", "nothing written")
			rev, _ := b.Revision(ctx)
			assert.Equal(t, rev, int64(2))
		})
	}

	// Allowed: overlapping deletes, and the same key put in both branches.
	res, err := b.Commit(ctx, backend.Txn{
		Then: []backend.Op{backend.Delete(backend.PrefixAt("/", 0)), backend.Delete(backend.Key("/a")), backend.Put("/p/k", "1", 0)},
		Else: []backend.Op{backend.Put("/p/k", "1", 0)},
	})
	assert.NilError(t, err)
	assert.Equal(t, res.Deleted, int64(1))
}

func TestInvalidPathsAndValues(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	_, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a/", "1", 0)}})
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", "\xff", 0)}})
	assert.Assert(t, errors.Is(err, backend.ErrInvalidValue), "%v", err)
	_, err = b.Commit(ctx, backend.Txn{If: []backend.Compare{cmp(backend.PrefixAt("/a/b", 1), backend.Version, backend.Equal, 0)}})
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "depth above its prefix: %v", err)
	_, err = b.Create(ctx, "x", "1", 0)
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
	_, err = b.Update(ctx, "/x", "\xff")
	assert.Assert(t, errors.Is(err, backend.ErrInvalidValue), "%v", err)
	_, err = b.Delete(ctx, "/x/", backend.DeleteOptions{})
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "a key path, unless Prefix: %v", err)
	_, err = b.Watch(ctx, []backend.Range{backend.Key("/a"), backend.Key("")}, 0)
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
}

func TestTxnTooLarge(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, memory.WithMaxTxnOps(3), memory.WithMaxRequestBytes(100))
	assert.Equal(t, b.MaxTxnOps(), 3)

	ops := func(n int) []backend.Op {
		var o []backend.Op
		for i := range n {
			o = append(o, backend.Put("/k"+string(rune('a'+i)), "v", 0))
		}
		return o
	}
	_, err := b.Commit(ctx, backend.Txn{Then: ops(3)})
	assert.NilError(t, err, "at the limit")
	_, err = b.Commit(ctx, backend.Txn{Then: ops(4)})
	assert.Assert(t, errors.Is(err, backend.ErrTxnTooLarge), "%v", err)
	_, err = b.Commit(ctx, backend.Txn{Else: ops(4)})
	assert.Assert(t, errors.Is(err, backend.ErrTxnTooLarge), "%v", err)
	var cs []backend.Compare
	for range 4 {
		cs = append(cs, cmp(backend.Key("/a"), backend.Version, backend.Equal, 0))
	}
	_, err = b.Commit(ctx, backend.Txn{If: cs})
	assert.Assert(t, errors.Is(err, backend.ErrTxnTooLarge), "%v", err)

	// "1/a" is 3 bytes: 97 bytes of value fit, 98 do not.
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", strings.Repeat("x", 97), 0)}})
	assert.NilError(t, err)
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", strings.Repeat("x", 98), 0)}})
	assert.Assert(t, errors.Is(err, backend.ErrTxnTooLarge), "%v", err)
	_, err = b.Create(ctx, "/b", strings.Repeat("x", 98), 0)
	assert.Assert(t, errors.Is(err, backend.ErrTxnTooLarge), "%v", err)

	// Delete with more levels than ops allowed is one commit too.
	_, err = b.Delete(ctx, "/a", backend.DeleteOptions{Recursive: true, MaxDepth: 3})
	assert.Assert(t, errors.Is(err, backend.ErrTxnTooLarge), "%v", err)
}

func TestDefaultLimits(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	assert.Equal(t, b.MaxTxnOps(), 128)
	_, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", strings.Repeat("x", 1536*1024), 0)}})
	assert.Assert(t, errors.Is(err, backend.ErrTxnTooLarge), "%v", err)
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", strings.Repeat("x", 1536*1024-3), 0)}})
	assert.NilError(t, err)
}

func TestCreateUpdate(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	rev, err := b.Create(ctx, "/c", "1", backend.NoLease)
	assert.NilError(t, err)
	assert.Equal(t, rev, int64(2))
	_, err = b.Create(ctx, "/c", "2", backend.NoLease)
	assert.Assert(t, errors.Is(err, backend.ErrCollision), "%v", err)
	_, err = b.Update(ctx, "/missing", "2")
	assert.Assert(t, errors.Is(err, backend.ErrVanished), "%v", err)
	rev, err = b.Update(ctx, "/c", "2")
	assert.NilError(t, err)
	assert.Equal(t, rev, int64(3))
	assert.DeepEqual(t, get(t, b, "/c"), backend.KeyValue{Path: "/c", Value: "2", CreateRevision: 2, ModRevision: 3, Version: 2})
	r, _ := b.Revision(ctx)
	assert.Equal(t, r, int64(3), "failed Create and Update write nothing")
}

func TestDeleteOptions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		path    string
		opts    backend.DeleteOptions
		deleted []string
	}{
		{"key", "/pb/a", backend.DeleteOptions{}, []string{"/pb/a"}},
		{"recursive", "/pb/a", backend.DeleteOptions{Recursive: true}, []string{"/pb/a", "/pb/a/x", "/pb/a/x/deep", "/pb/a/y"}},
		{"recursive max depth", "/pb/a", backend.DeleteOptions{Recursive: true, MaxDepth: 1}, []string{"/pb/a", "/pb/a/x", "/pb/a/y"}},
		{"recursive of a missing parent", "/pb/a/x/deep/no", backend.DeleteOptions{Recursive: true}, nil},
		{"recursive of another key", "/pbx", backend.DeleteOptions{Recursive: true}, []string{"/pbx", "/pbx/c"}},
		{"prefix", "/pb", backend.DeleteOptions{Prefix: true}, []string{"/pb", "/pbx"}},
		{"prefix children", "/pb/", backend.DeleteOptions{Prefix: true}, []string{"/pb/a", "/pb/b"}},
		{"prefix recursive", "/pb", backend.DeleteOptions{Prefix: true, Recursive: true},
			[]string{"/pb", "/pb/a", "/pb/a/x", "/pb/a/x/deep", "/pb/a/y", "/pb/b", "/pbx", "/pbx/c"}},
		{"prefix recursive max depth", "/pb/", backend.DeleteOptions{Prefix: true, Recursive: true, MaxDepth: 1},
			[]string{"/pb/a", "/pb/a/x", "/pb/a/y", "/pb/b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			seedTree(t, b)
			before, err := b.List(ctx, "/", backend.ListOptions{Recurse: 10})
			assert.NilError(t, err)

			res, err := b.Delete(ctx, tc.path, tc.opts)
			assert.NilError(t, err)
			assert.Equal(t, res.Deleted, int64(len(tc.deleted)))
			wantRev := int64(10)
			if len(tc.deleted) > 0 {
				wantRev = 11
			}
			assert.Equal(t, res.Revision, wantRev, "one revision for the whole delete")

			after, err := b.List(ctx, "/", backend.ListOptions{Recurse: 10})
			assert.NilError(t, err)
			gone := map[string]bool{}
			for _, p := range paths(before.KVs) {
				gone[p] = true
			}
			for _, p := range paths(after.KVs) {
				delete(gone, p)
			}
			var got []string
			for _, p := range paths(before.KVs) {
				if gone[p] {
					got = append(got, p)
				}
			}
			assert.DeepEqual(t, got, tc.deleted)
		})
	}
}

func TestDeleteMustExist(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	seedTree(t, b)

	_, err := b.Delete(ctx, "/nothing", backend.DeleteOptions{MustExist: true})
	assert.Assert(t, errors.Is(err, backend.ErrVanished), "%v", err)
	_, err = b.Delete(ctx, "/nothing/", backend.DeleteOptions{MustExist: true, Prefix: true, Recursive: true})
	assert.Assert(t, errors.Is(err, backend.ErrVanished), "%v", err)

	// Something would be deleted below the missing key: that counts.
	res, err := b.Delete(ctx, "/pb/a/x", backend.DeleteOptions{MustExist: true, Recursive: true})
	assert.NilError(t, err)
	assert.Equal(t, res.Deleted, int64(2))
	res, err = b.Delete(ctx, "/pb/a/x", backend.DeleteOptions{MustExist: true, Recursive: true})
	assert.Assert(t, errors.Is(err, backend.ErrVanished), "%v", err)
	assert.Equal(t, res.Revision, int64(11))
}
