package config

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"gotest.tools/v3/assert"
)

// TestOpenEtcd opens a real etcd from the environment, as a service
// would, and checks the stored layout with a raw etcd client: keys as
// "<depth><prefix><path>", values as ska-sdp-config writes them.
func TestOpenEtcd(t *testing.T) {
	e := sdptest.NewEtcd(t)
	u, err := url.Parse(e.Endpoints()[0])
	assert.NilError(t, err)
	t.Setenv(EnvHost, u.Hostname())
	t.Setenv(EnvPort, u.Port())
	t.Setenv(EnvPrefix, "/sdp")
	ctx := ctxT(t)

	c, err := Open(ctx, Options{})
	assert.NilError(t, err)
	err = c.Txn(ctx, func(t *Txn) error {
		if err := blocks.Create(t, "pb-1", block{ID: "pb-1", Script: "s"}); err != nil {
			return err
		}
		return blocks.TakeOwnership(t, "pb-1", OwnerInfo{PID: 7, Hostname: "h", Command: []string{}})
	})
	assert.NilError(t, err)

	cli := e.Client(t)
	resp, err := cli.Get(ctx, "3/sdp/pb/pb-1")
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 1)
	assert.Equal(t, string(resp.Kvs[0].Value), "{\n  \"id\": \"pb-1\",\n  \"parameters\": null,\n  \"script\": \"s\"\n}")
	resp, err = cli.Get(ctx, "4/sdp/pb/pb-1/owner")
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 1)
	assert.Assert(t, resp.Kvs[0].Lease != 0, "the owner key has no lease")
	assert.Equal(t, string(resp.Kvs[0].Value), "{\n  \"command\": [],\n  \"hostname\": \"h\",\n  \"pid\": 7\n}")

	// Close revokes the client lease and closes the backend it owns.
	assert.NilError(t, c.Close())
	resp, err = cli.Get(ctx, "4/sdp/pb/pb-1/owner")
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 0, "Close left the owner key")
	_, _, err = c.Backend().Get(ctx, "/pb/pb-1", 0)
	assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
}

// TestOpenUnreachable: a store that does not answer fails Open within the
// dial timeout, with an error that never shows the password.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	addr := l.Addr().(*net.TCPAddr)
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = Open(ctx, Options{
		Backend:     BackendEtcd3,
		Host:        "127.0.0.1",
		Port:        addr.Port,
		Username:    "sdp",
		Password:    "hunter2",
		DialTimeout: 300 * time.Millisecond,
	})
	assert.Assert(t, errors.Is(err, backend.ErrUnavailable), "%v", err)
	assert.Assert(t, !strings.Contains(err.Error(), "hunter2"), "%v", err)
}

// TestOpenTLSFiles: TLS files that cannot be read fail Open, naming them.
func TestOpenTLSFiles(t *testing.T) {
	missing := t.TempDir() + "/missing-ca.pem"
	_, err := Open(ctxT(t), Options{Backend: BackendEtcd3, Protocol: "https", CACert: missing})
	assert.ErrorContains(t, err, "missing-ca.pem")
}
