package memory_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

func TestNewStoreIsAtRevisionOne(t *testing.T) {
	b := newBackend(t)
	rev, err := b.Revision(context.Background())
	assert.NilError(t, err)
	assert.Equal(t, rev, int64(1))

	_, rev, err = b.Get(context.Background(), "/a", 0)
	assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
	assert.Equal(t, rev, int64(1), "Get reports the revision even when the key is missing")
}

func TestPutKeepsKeyMetadata(t *testing.T) {
	b := newBackend(t)
	assert.Equal(t, put(t, b, "/a", "1"), int64(2))
	assert.Equal(t, put(t, b, "/b", "x"), int64(3))
	assert.Equal(t, put(t, b, "/a", "1"), int64(4), "a put of the same value still writes")

	kv := get(t, b, "/a")
	assert.DeepEqual(t, kv, backend.KeyValue{Path: "/a", Value: "1", CreateRevision: 2, ModRevision: 4, Version: 2})

	res, err := b.Delete(context.Background(), "/a", backend.DeleteOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, res, backend.DeleteResult{Revision: 5, Deleted: 1})
	assert.Equal(t, put(t, b, "/a", "2"), int64(6))
	// A key created again starts a new life.
	assert.DeepEqual(t, get(t, b, "/a"), backend.KeyValue{Path: "/a", Value: "2", CreateRevision: 6, ModRevision: 6, Version: 1})
}

func TestNoOpWritesDoNotBumpRevision(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/a", "1")

	res, err := b.Delete(ctx, "/missing", backend.DeleteOptions{})
	assert.NilError(t, err)
	assert.DeepEqual(t, res, backend.DeleteResult{Revision: 2, Deleted: 0})

	tr, err := b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Delete(backend.PrefixAt("/zz", 0))}})
	assert.NilError(t, err)
	assert.DeepEqual(t, tr, backend.TxnResult{Succeeded: true, Revision: 2})

	tr, err = b.Commit(ctx, backend.Txn{})
	assert.NilError(t, err)
	assert.DeepEqual(t, tr, backend.TxnResult{Succeeded: true, Revision: 2})

	rev, err := b.Revision(ctx)
	assert.NilError(t, err)
	assert.Equal(t, rev, int64(2))
}

func TestGetAtOldRevision(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	r1 := put(t, b, "/a", "v1")
	r2 := put(t, b, "/a", "v2")
	_, err := b.Delete(ctx, "/a", backend.DeleteOptions{})
	assert.NilError(t, err)

	kv, rev, err := b.Get(ctx, "/a", r1)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "v1")
	assert.Equal(t, kv.Version, int64(1))
	assert.Equal(t, rev, int64(4), "the header revision is the current one, as in etcd")

	kv, _, err = b.Get(ctx, "/a", r2)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "v2")

	_, _, err = b.Get(ctx, "/a", 1)
	assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
	_, _, err = b.Get(ctx, "/a", 0)
	assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)

	_, rev, err = b.Get(ctx, "/a", 5)
	assert.Assert(t, errors.Is(err, backend.ErrFutureRevision), "%v", err)
	assert.Equal(t, rev, int64(0)) // a failed request: see backend.Backend
}

func TestErrorsNameThePath(t *testing.T) {
	b := newBackend(t)
	_, _, err := b.Get(context.Background(), "/pb/x", 0)
	var pe *backend.PathError
	assert.Assert(t, errors.As(err, &pe))
	assert.Equal(t, pe.Path, "/pb/x")
	assert.Equal(t, pe.Op, "get")

	_, _, err = b.Get(context.Background(), "bad", 0)
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
	assert.ErrorContains(t, err, `"bad"`)
}

func TestCancelledContext(t *testing.T) {
	b := newBackend(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := b.Get(ctx, "/a", 0)
	assert.Assert(t, errors.Is(err, context.Canceled), "%v", err)
	_, err = b.Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put("/a", "1", 0)}})
	assert.Assert(t, errors.Is(err, context.Canceled), "%v", err)
	_, err = b.Watch(ctx, []backend.Range{backend.Key("/a")}, 0)
	assert.Assert(t, errors.Is(err, context.Canceled), "%v", err)
	_, err = b.Lease(ctx, 0)
	assert.Assert(t, errors.Is(err, context.Canceled), "%v", err)
	rev, err := b.Revision(context.Background())
	assert.NilError(t, err)
	assert.Equal(t, rev, int64(1), "nothing was written")
}

// TestAutoCompaction: WithAutoCompaction keeps between retain and 2*retain
// revisions of history readable, and compacts the rest away on its own.
func TestAutoCompaction(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, memory.WithAutoCompaction(10))
	var revs []int64
	for i := range 35 {
		revs = append(revs, put(t, b, "/k", strconv.Itoa(i)))
	}
	last := revs[len(revs)-1]
	kv, _, err := b.Get(ctx, "/k", last-10)
	assert.NilError(t, err, "retain revisions stay readable")
	assert.Equal(t, kv.ModRevision, last-10)
	_, _, err = b.Get(ctx, "/k", last-20)
	assert.ErrorIs(t, err, backend.ErrCompacted, "more than 2*retain back is compacted")
	assert.ErrorIs(t, b.Compact(ctx, last-20), backend.ErrCompacted)
	assert.NilError(t, b.Compact(ctx, last-5))
}
