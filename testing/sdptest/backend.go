package sdptest

import (
	"context"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend/etcd3"
)

// NewBackend starts a server with NewEtcd(t, opts...) and returns an etcd3
// backend on it with no global prefix and the server's MaxTxnOps. Both are
// closed by t.Cleanup (the backend first). Use NewEtcd and Etcd.Backend to
// reach the server as well, or to set a prefix.
func NewBackend(t testing.TB, opts ...Option) *etcd3.Backend {
	t.Helper()
	return NewEtcd(t, opts...).Backend(t, etcd3.Config{})
}

// Backend returns an etcd3 backend on the server, closed by t.Cleanup.
// Empty fields of cfg are filled in: Endpoints with the server's,
// MaxTxnOps with the server's limit (WithMaxTxnOps), DialOptions with
// FastReconnect, TLS with the trusted client certificate (WithTLS), and
// Username and Password with RootUser's (WithAuth).
func (e *Etcd) Backend(t testing.TB, cfg etcd3.Config) *etcd3.Backend {
	t.Helper()
	if len(cfg.Endpoints) == 0 {
		cfg.Endpoints = e.Endpoints()
	}
	if cfg.MaxTxnOps == 0 && e.mc.opts.maxTxnOps > 0 {
		cfg.MaxTxnOps = int(e.mc.opts.maxTxnOps)
	}
	fillBackend(&cfg, e.mc.opts)
	return newBackend(t, cfg)
}

// Backend returns an etcd3 backend over every member of the cluster,
// closed by t.Cleanup, with cfg's empty fields filled in as Etcd.Backend
// does.
func (c *Cluster) Backend(t testing.TB, cfg etcd3.Config) *etcd3.Backend {
	t.Helper()
	if len(cfg.Endpoints) == 0 {
		cfg.Endpoints = c.Endpoints()
	}
	o := c.members[0].mc.opts
	if cfg.MaxTxnOps == 0 && o.maxTxnOps > 0 {
		cfg.MaxTxnOps = int(o.maxTxnOps)
	}
	fillBackend(&cfg, o)
	return newBackend(t, cfg)
}

func newBackend(t testing.TB, cfg etcd3.Config) *etcd3.Backend {
	t.Helper()
	if cfg.DialOptions == nil {
		cfg.DialOptions = FastReconnect()
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = Patience(t) // the first answer and the login, on a loaded machine
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	b, err := etcd3.New(ctx, cfg)
	if err != nil {
		t.Fatalf("sdptest: opening an etcd3 backend: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
