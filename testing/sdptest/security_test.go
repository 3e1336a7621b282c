package sdptest_test

import (
	"errors"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestWithTLSServesHTTPSWithClientCertificates(t *testing.T) {
	ctx := ctxT(t)
	e := sdptest.NewEtcd(t, sdptest.WithTLS())
	f := e.TLS()
	assert.Assert(t, f != nil)
	assert.Assert(t, strings.HasPrefix(e.Endpoints()[0], "https://127.0.0.1:"), e.Endpoints()[0])

	b := e.Backend(t, etcd3.Config{})
	_, err := b.Create(ctx, "/pb/x", "1", backend.NoLease)
	assert.NilError(t, err)
	resp, err := e.Client(t).Get(ctx, "2/pb/x")
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 1)
	assert.Equal(t, string(resp.Kvs[0].Value), "1")

	tc, err := f.ClientConfig()
	assert.NilError(t, err)
	assert.Assert(t, tc.RootCAs != nil && (len(tc.Certificates) == 1 || tc.GetClientCertificate != nil))
	assert.Assert(t, sdptest.NewEtcd(t).TLS() == nil)
}

func TestWithAuthRootAndPrefixRoles(t *testing.T) {
	ctx := ctxT(t)
	e := sdptest.NewEtcd(t, sdptest.WithAuth("rootpw"))
	a := e.Auth()
	assert.Assert(t, a != nil)
	root := e.Backend(t, etcd3.Config{})
	_, err := root.Create(ctx, "/pb/x", "1", backend.NoLease)
	assert.NilError(t, err)
	_, err = root.Create(ctx, "/eb/y", "2", backend.NoLease)
	assert.NilError(t, err)

	a.AddRole(t, "pb-rw", sdptest.ReadWrite, "/pb")
	a.AddUser(t, "alice", "alicepw", "pb-rw")
	alice := a.Backend(t, "alice", "alicepw", etcd3.Config{})
	kv, _, err := alice.Get(ctx, "/pb/x", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "1")
	_, err = alice.Create(ctx, "/pb/a/b/c", "deep", backend.NoLease)
	assert.NilError(t, err)
	_, _, err = alice.Get(ctx, "/eb/y", 0)
	assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
	_, err = alice.Create(ctx, "/eb/z", "3", backend.NoLease)
	assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)

	// Raw clients are root.
	_, err = e.Client(t).Put(ctx, "1/anything", "x")
	assert.NilError(t, err)
	assert.Assert(t, sdptest.NewEtcd(t).Auth() == nil)
}

func TestPrefixRanges(t *testing.T) {
	rs := sdptest.PrefixRanges("/pb")
	assert.Equal(t, len(rs), sdptest.MaxGrantDepth)
	assert.Equal(t, rs[0], sdptest.KeyRange{Key: "1/pb"})
	assert.Equal(t, rs[1], sdptest.KeyRange{Key: "2/pb/", RangeEnd: "2/pb0"})
	assert.Equal(t, rs[len(rs)-1].Key, "16/pb/")
	assert.DeepEqual(t, sdptest.PrefixRanges("/"), []sdptest.KeyRange{{Key: "\x00", RangeEnd: "\x00"}})
}

func TestClusterWithTLSAndAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx := ctxT(t)
	c := sdptest.NewCluster(t, 3, sdptest.WithTLS(), sdptest.WithAuth("rootpw"))
	assert.Assert(t, c.TLS() != nil && c.Auth() != nil)
	b := c.Backend(t, etcd3.Config{})
	_, err := b.Create(ctx, "/pb/x", "1", backend.NoLease)
	assert.NilError(t, err)
	l, err := c.WaitLeader(ctx)
	assert.NilError(t, err)
	c.Stop(l)
	c.Restart(t, l)
	kv, _, err := b.Get(ctx, "/pb/x", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "1")
}
