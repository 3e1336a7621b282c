package etcd3_test

import (
	"context"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// testCtx returns a context that ends with the test, or shortly before
// the test binary's deadline (sdptest.Context).
func testCtx(t testing.TB) context.Context { return sdptest.Context(t) }

// rawValue returns the value etcd holds at key, or "<missing>".
func rawValue(ctx context.Context, t *testing.T, e *sdptest.Etcd, key string) string {
	t.Helper()
	resp, err := e.Client(t).Get(ctx, key)
	assert.NilError(t, err)
	if len(resp.Kvs) == 0 {
		return "<missing>"
	}
	return string(resp.Kvs[0].Value)
}

func TestKeysAreStoredDepthFirstAsSKASDPConfigDoes(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{})
	_, err := b.Create(ctx, "/pb/x", "v1", backend.NoLease)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/pb/x/state", "s", backend.NoLease)
	assert.NilError(t, err)
	assert.Equal(t, rawValue(ctx, t, e, "2/pb/x"), "v1")
	assert.Equal(t, rawValue(ctx, t, e, "3/pb/x/state"), "s")

	// A key written by another client (a Python service) in the same layout
	// is read back as a path.
	_, err = e.Client(t).Put(ctx, "2/pb/y", "from python")
	assert.NilError(t, err)
	kv, _, err := b.Get(ctx, "/pb/y", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Path, "/pb/y")
	assert.Equal(t, kv.Value, "from python")
	res, err := b.List(ctx, "/pb/", backend.ListOptions{Recurse: 1})
	assert.NilError(t, err)
	assert.DeepEqual(t, pathsOf(res.KVs), []string{"/pb/x", "/pb/x/state", "/pb/y"})
}

func TestGlobalPrefixIsPartOfTheStoredPath(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{Prefix: "/app"})
	assert.Equal(t, b.Prefix(), "/app")
	_, err := b.Create(ctx, "/pb/x", "v1", backend.NoLease)
	assert.NilError(t, err)
	assert.Equal(t, rawValue(ctx, t, e, "3/app/pb/x"), "v1")
	assert.Equal(t, rawValue(ctx, t, e, "2/pb/x"), "<missing>")

	// Keys outside the prefix, or not in the layout at all, are invisible.
	raw := e.Client(t)
	for _, k := range []string{"2/pb/x", "3/apple/pb/x", "2/app/x", "junk", "9/app/pb/x"} {
		_, err := raw.Put(ctx, k, "other")
		assert.NilError(t, err)
	}
	root, err := b.List(ctx, "/", backend.ListOptions{Recurse: 3, WithValues: true})
	assert.NilError(t, err)
	// "2/app/x" is the path /app/x: /x under the prefix.
	assert.DeepEqual(t, pathsOf(root.KVs), []string{"/pb/x", "/x"})
	assert.Equal(t, root.KVs[0].Value, "v1")
	assert.Equal(t, root.KVs[1].Value, "other")

	// The same store seen without a prefix holds the full paths.
	plain := e.Backend(t, etcd3.Config{})
	kv, _, err := plain.Get(ctx, "/app/pb/x", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "v1")

	// Watch events carry paths without the prefix, and skip other keys.
	w, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/", 0), backend.PrefixAt("/pb/", 0)}, 0)
	assert.NilError(t, err)
	defer w.Close()
	_, err = raw.Put(ctx, "2/apple/x", "outside")
	assert.NilError(t, err)
	rev, err := b.Update(ctx, "/pb/x", "v2")
	assert.NilError(t, err)
	r := <-w.Responses()
	assert.NilError(t, r.Err)
	assert.Equal(t, len(r.Events), 1)
	assert.Equal(t, r.Events[0].KV.Path, "/pb/x")
	assert.Equal(t, r.Events[0].KV.ModRevision, rev)
	assert.Equal(t, r.Events[0].Prev.Path, "/pb/x")
	assert.Equal(t, r.Events[0].Prev.Value, "v1")
}

func TestInvalidPrefixIsRejected(t *testing.T) {
	ctx := testCtx(t)
	_, err := etcd3.New(ctx, etcd3.Config{Endpoints: []string{"http://127.0.0.1:1"}, Prefix: "app/"})
	assert.ErrorIs(t, err, backend.ErrInvalidPath)
}

func pathsOf(kvs []backend.KeyValue) []string {
	ps := make([]string, len(kvs))
	for i, kv := range kvs {
		ps[i] = kv.Path
	}
	return ps
}
