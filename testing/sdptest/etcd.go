package sdptest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/etcdserver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	sdpetcd "github.com/sdpconfig/sdpconfig/internal/etcdserver"
)

// Etcd is a real etcd server (or one member of a Cluster) embedded in the
// test process, listening on loopback ports. Its methods are safe for
// concurrent use.
type Etcd struct {
	mc memberConfig

	life sync.Mutex // serialises Stop, Restart and Close

	mu     sync.Mutex // guards run and closed
	run    *running   // nil while stopped
	closed bool
}

// NewEtcd starts a single-member etcd server on free 127.0.0.1 ports, with
// its data in a fresh directory under t.TempDir() (see WithDataDir), and
// waits until it serves. The server is tuned for tests: no fsync, 10 ms
// heartbeats, and no logs (see LogEnv). It is closed by t.Cleanup. NewEtcd
// fails the test if the server cannot start.
func NewEtcd(t testing.TB, opts ...Option) *Etcd {
	t.Helper()
	o := buildOptions(opts)
	setupTLS(t, &o)
	dir := o.dataDir
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "etcd")
	}
	e := &Etcd{mc: memberConfig{
		name:         "sdptest",
		dir:          dir,
		clusterToken: uniqueToken(),
		tickMs:       singleTickMs,
		electionMs:   singleElectionMs,
		opts:         o,
	}}
	var err error
	for attempt := 0; attempt < bindAttempts; attempt++ {
		var urls []urlPair
		if urls, err = freeURLPairs(1); err != nil {
			break
		}
		e.mc.clientURL, e.mc.peerURL = urls[0].client, urls[0].peer
		if o.tlsFiles != nil {
			e.mc.clientURL.Scheme = "https"
		}
		e.mc.initialCluster = e.mc.name + "=" + e.mc.peerURL.String()
		var r *running
		if r, err = e.mc.start(nil); err == nil {
			e.run = r
			break
		}
		if !sdpetcd.IsAddrInUse(err) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	if o.rootPassword != "" {
		if err := enableAuth(e.Endpoints(), o); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// Endpoints returns the server's client URLs ("http://127.0.0.1:port", or
// https:// under WithTLS), for
// clientv3.Config.Endpoints or etcd3.Config.Endpoints. They stay the same
// across Stop and Restart.
func (e *Etcd) Endpoints() []string { return []string{e.mc.clientURL.String()} }

// DataDir returns the directory holding the server's data.
func (e *Etcd) DataDir() string { return e.mc.dir }

// Client returns a raw etcd client connected to the server (with the
// trusted client certificate under WithTLS, as RootUser under WithAuth), closed by
// t.Cleanup: for tests that inspect what a backend stored, and for
// benchmarks that compare against the bare client.
func (e *Etcd) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(e.clientConfig())
	if err != nil {
		t.Fatalf("sdptest: connecting to etcd at %v: %v", e.Endpoints(), err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// clientConfig is the configuration of the clients Client makes.
func (e *Etcd) clientConfig() clientv3.Config {
	return clientConfig(e.Endpoints(), e.mc.opts)
}

// TLS returns the files WithTLS generated, or nil without WithTLS.
func (e *Etcd) TLS() *TLSFiles { return e.mc.opts.tlsFiles }

// FastReconnect returns gRPC dial options that make a client reconnect
// within about 100 ms of a server coming back, instead of gRPC's default
// backoff of one second and more, so that tests which stop and restart
// servers stay fast. Client and Backend use them; pass them in
// clientv3.Config.DialOptions or etcd3.Config.DialOptions of your own clients.
func FastReconnect() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
		Backoff: backoff.Config{
			BaseDelay:  20 * time.Millisecond,
			Multiplier: 1.6,
			Jitter:     0.2,
			MaxDelay:   100 * time.Millisecond,
		},
		MinConnectTimeout: time.Second,
	})}
}

// Server returns the running etcd server, or nil while it is stopped. Tests
// use it to inspect raft state (leader, member ID).
func (e *Etcd) Server() *etcdserver.EtcdServer {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.run == nil {
		return nil
	}
	return e.run.srv.Server
}

// Running reports whether the server is running (started and not stopped).
func (e *Etcd) Running() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.run != nil
}

// Stop stops the server abruptly, as a crash would: open connections and
// streams are cut at once. Its data stays; Restart brings it back. Stopping
// a stopped server does nothing.
func (e *Etcd) Stop() {
	e.life.Lock()
	defer e.life.Unlock()
	e.stop()
}

func (e *Etcd) stop() {
	e.mu.Lock()
	r := e.run
	e.run = nil
	e.mu.Unlock()
	if r != nil {
		r.stop()
	}
}

// Restart stops the server if it runs, then starts it again on the same
// data directory and ports, and waits until it serves. Keys, revisions and
// leases (with their remaining TTL) survive. A cluster member only becomes
// ready once the cluster has a leader, so restart members of a cluster that
// lost its quorum with RestartAll. Restart fails the test on error, and
// after Close.
func (e *Etcd) Restart(t testing.TB) {
	t.Helper()
	if err := e.restart(); err != nil {
		t.Fatal(err)
	}
}

func (e *Etcd) restart() error {
	e.life.Lock()
	defer e.life.Unlock()
	e.stop()
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return errors.New("sdptest: Restart after Close")
	}
	// The ports were ours a moment ago, but a port-probing neighbour may
	// hold one for an instant: retry a little before giving up.
	var err error
	for attempt := 0; attempt < bindAttempts; attempt++ {
		var r *running
		if r, err = e.mc.start(nil); err == nil {
			e.mu.Lock()
			e.run = r
			e.mu.Unlock()
			return nil
		}
		if !sdpetcd.IsAddrInUse(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return err
}

// Close stops the server for good; Restart fails afterwards. It is
// idempotent, and registered with t.Cleanup by NewEtcd and NewCluster.
func (e *Etcd) Close() {
	e.life.Lock()
	defer e.life.Unlock()
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stop()
}

// uniqueToken returns a cluster token no other server in this process (or
// on this machine) uses, so that members of distinct clusters reusing a
// port never talk to each other.
func uniqueToken() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("sdptest: crypto/rand: %v", err))
	}
	return "sdptest-" + hex.EncodeToString(b[:])
}
