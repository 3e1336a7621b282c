package securitytest

import (
	"errors"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

const (
	rootPassword  = "root-Secret-4711"
	alicePassword = "alice-Secret-0815"
	wrongPassword = "wrong-Secret-9999"
)

// authEtcd starts a server with auth on, the keys /pb/pb-1 and
// /eb/eb-1 (and /sdp/pb/pb-2 under a global prefix /sdp), and the user
// alice whose role reads and writes only /pb and /sdp/pb.
func authEtcd(t *testing.T) *sdptest.Etcd {
	t.Helper()
	ctx := ctxT(t)
	e := sdptest.NewEtcd(t, sdptest.WithAuth(rootPassword))
	root := e.Backend(t, etcd3.Config{})
	for _, p := range []string{"/pb/pb-1", "/eb/eb-1", "/sdp/pb/pb-2", "/sdp/eb/eb-2"} {
		_, err := root.Create(ctx, p, "v", backend.NoLease)
		assert.NilError(t, err)
	}
	e.Auth().AddRole(t, "pb-rw", sdptest.ReadWrite, "/pb", "/sdp/pb")
	e.Auth().AddUser(t, "alice", alicePassword, "pb-rw")
	return e
}

func get(c *config.Config, t *testing.T, path string) (string, error) {
	var v string
	err := c.Txn(ctxT(t), func(tx *config.Txn) error {
		var err error
		v, _, err = tx.Get(path)
		return err
	})
	return v, err
}

func put(c *config.Config, t *testing.T, path, value string) error {
	return c.Txn(ctxT(t), func(tx *config.Txn) error { return tx.Put(path, value) })
}

func TestSDKAuthPasswordsAndRoles(t *testing.T) {
	ctx := ctxT(t)
	e := authEtcd(t)
	sec := secrets{rootPassword, alicePassword, wrongPassword}
	ep := hostPort(e.Endpoints()[0])

	t.Run("options", func(t *testing.T) {
		c, err := config.Open(ctx, config.Options{Endpoints: []string{ep}, Username: "alice", Password: alicePassword, DialTimeout: 5 * time.Second})
		assert.NilError(t, err)
		defer c.Close()
		v, err := get(c, t, "/pb/pb-1")
		assert.NilError(t, err)
		assert.Equal(t, v, "v")
		assert.NilError(t, put(c, t, "/pb/pb-1/state", "{}"))
		_, err = get(c, t, "/eb/eb-1")
		assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
		sec.check(t, "error", err.Error())
		err = put(c, t, "/eb/eb-9", "x")
		assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
		sec.check(t, "error", err.Error())
	})

	t.Run("env and global prefix", func(t *testing.T) {
		t.Setenv(config.EnvEndpoints, ep)
		t.Setenv(config.EnvUsername, "alice")
		t.Setenv(config.EnvPassword, alicePassword)
		t.Setenv(config.EnvPrefix, "/sdp")
		c, err := config.Open(ctx, config.Options{DialTimeout: 5 * time.Second})
		assert.NilError(t, err)
		defer c.Close()
		v, err := get(c, t, "/pb/pb-2")
		assert.NilError(t, err)
		assert.Equal(t, v, "v")
		_, err = get(c, t, "/eb/eb-2")
		assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
		// Outside the global prefix /sdp, /pb/pb-1 is readable by alice
		// but not reachable through this Config: its /pb/pb-1 is
		// /sdp/pb/pb-1, absent.
		v, err = get(c, t, "/pb/pb-1")
		assert.NilError(t, err)
		assert.Equal(t, v, "")
	})

	t.Run("wrong password", func(t *testing.T) {
		logs := &logSink{}
		_, err := etcd3.New(ctx, etcd3.Config{Endpoints: e.Endpoints(), Username: "alice", Password: wrongPassword, Logger: logs.logger()})
		assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
		sec.check(t, "error", err.Error())
		sec.check(t, "log", logs.String())
		_, err = config.Open(ctx, config.Options{Endpoints: []string{ep}, Username: "alice", Password: wrongPassword})
		assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
		sec.check(t, "error", err.Error())
		_, err = config.Open(ctx, config.Options{Endpoints: []string{ep}, Username: "nobody", Password: wrongPassword})
		assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
		sec.check(t, "error", err.Error())
	})

	t.Run("no user", func(t *testing.T) {
		c, err := config.Open(ctx, config.Options{Endpoints: []string{ep}})
		if err == nil {
			defer c.Close()
			_, err = get(c, t, "/pb/pb-1")
		}
		assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
	})

	t.Run("logs of a working client", func(t *testing.T) {
		logs := &logSink{}
		cfg := etcd3.Config{Endpoints: e.Endpoints(), Username: "alice", Password: alicePassword, Logger: logs.logger()}
		b, err := etcd3.New(ctx, cfg)
		assert.NilError(t, err)
		_, _, err = b.Get(ctx, "/eb/eb-1", 0)
		assert.Assert(t, errors.Is(err, backend.ErrPermissionDenied), "%v", err)
		assert.NilError(t, b.Close())
		sec.check(t, "log", logs.String())
		sec.check(t, "Config.String", cfg.String())
		sec.check(t, "Config %#v", (&struct{ etcd3.Config }{cfg}).Config.GoString())
	})
}
