package sdptest_test

import (
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestNewBackendStoresInTheServer(t *testing.T) {
	ctx := ctxT(t)
	b := sdptest.NewBackend(t, sdptest.WithMaxTxnOps(3))
	assert.Equal(t, b.MaxTxnOps(), 3)
	rev, err := b.Create(ctx, "/pb/x", "1", backend.NoLease)
	assert.NilError(t, err)
	kv, _, err := b.Get(ctx, "/pb/x", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.ModRevision, rev)
}

func TestEtcdBackendWithPrefix(t *testing.T) {
	ctx := ctxT(t)
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{Prefix: "/test"})
	_, err := b.Create(ctx, "/pb/x", "1", backend.NoLease)
	assert.NilError(t, err)
	resp, err := e.Client(t).Get(ctx, "3/test/pb/x")
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 1)
	assert.Equal(t, string(resp.Kvs[0].Value), "1")
}

func TestClusterBackend(t *testing.T) {
	ctx := ctxT(t)
	c := sdptest.NewCluster(t, 3)
	b := c.Backend(t, etcd3.Config{})
	_, err := b.Create(ctx, "/pb/x", "1", backend.NoLease)
	assert.NilError(t, err)
	for i := range c.Size() {
		resp, err := c.Member(i).Client(t).Get(ctx, "2/pb/x")
		assert.NilError(t, err)
		assert.Equal(t, len(resp.Kvs), 1, "member %d", i)
	}
}
