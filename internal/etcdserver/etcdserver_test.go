package etcdserver

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"
)

func newClient(t *testing.T, s *Server) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.ClientURL()}, DialTimeout: 5 * time.Second})
	assert.NilError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStartServesAndKeepsDataAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Start(ctx, Config{DataDir: dir, NoFsync: true, FastTicks: true})
	assert.NilError(t, err)
	assert.Assert(t, strings.HasPrefix(s.ClientURL(), "http://127.0.0.1:"), s.ClientURL())
	assert.Equal(t, "http://"+s.Endpoint(), s.ClientURL())
	assert.Equal(t, s.DataDir(), dir)

	c := newClient(t, s)
	_, err = c.Put(ctx, "2/pb/x", "v1")
	assert.NilError(t, err)
	c.Close()
	assert.NilError(t, s.Close())
	assert.NilError(t, s.Close()) // idempotent

	// Same data directory, same client URL: the key is still there.
	s2, err := Start(ctx, Config{DataDir: dir, ClientURL: s.ClientURL(), NoFsync: true, FastTicks: true})
	assert.NilError(t, err)
	defer s2.Close()
	c2 := newClient(t, s2)
	resp, err := c2.Get(ctx, "2/pb/x")
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 1)
	assert.Equal(t, string(resp.Kvs[0].Value), "v1")
}

func TestCloseCutsOpenWatchStreams(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Config{DataDir: t.TempDir(), NoFsync: true, FastTicks: true})
	assert.NilError(t, err)
	c := newClient(t, s)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wc := c.Watch(wctx, "2/pb/", clientv3.WithPrefix())
	_, err = c.Put(ctx, "2/pb/a", "1")
	assert.NilError(t, err)
	r := <-wc
	assert.Equal(t, len(r.Events), 1)
	// The watch stream is still open: Close must not wait for it.
	assert.NilError(t, s.Close())
	cancel()
	c.Close()
}

func TestMaxTxnOps(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Config{DataDir: t.TempDir(), NoFsync: true, FastTicks: true, MaxTxnOps: 2})
	assert.NilError(t, err)
	defer s.Close()
	c := newClient(t, s)
	_, err = c.Txn(ctx).Then(clientv3.OpPut("1/a", "1"), clientv3.OpPut("1/b", "1"), clientv3.OpPut("1/c", "1")).Commit()
	assert.ErrorContains(t, err, "too many operations")
}

func TestPortInUseNamesTheURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer l.Close()
	url := "http://" + l.Addr().String()
	_, err = Start(context.Background(), Config{DataDir: t.TempDir(), ClientURL: url, StartTimeout: 10 * time.Second})
	assert.ErrorContains(t, err, url)
	assert.ErrorContains(t, err, "address already in use")
}

func TestBadConfig(t *testing.T) {
	ctx := context.Background()
	_, err := Start(ctx, Config{})
	assert.ErrorContains(t, err, "no data directory")
	for _, tc := range []struct{ url, want string }{
		{"localhost:2379", "want http://IP:port"},
		{"http://localhost:2379", "must be an IP address"},
		{"http://127.0.0.1", "want http://IP:port"},
		{"ftp://127.0.0.1:1", "want http://IP:port"},
	} {
		_, err := Start(ctx, Config{DataDir: t.TempDir(), ClientURL: tc.url})
		assert.ErrorContains(t, err, tc.want, tc.url)
		assert.ErrorContains(t, err, "client URL", tc.url)
	}
	_, err = Start(ctx, Config{DataDir: t.TempDir(), PeerURL: "http://x:1"})
	assert.ErrorContains(t, err, "peer URL")
}

func TestStartHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Start(ctx, Config{DataDir: t.TempDir(), NoFsync: true})
	assert.ErrorContains(t, err, "context canceled")
}
