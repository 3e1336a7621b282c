package sdptest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	sdpetcd "github.com/sdpconfig/sdpconfig/internal/etcdserver"
)

// The programs of Debian's etcd-server and etcd-client packages (etcd
// 3.4.23 on Debian 12): the oldest server sdpconfig supports, and a peer
// client nobody here wrote.
const (
	DebianEtcdPath    = "/usr/bin/etcd"
	DebianEtcdctlPath = "/usr/bin/etcdctl"
)

// DebianEtcd is a running Debian etcd server, started by NewDebianEtcd.
type DebianEtcd struct {
	client string

	mu   sync.Mutex
	logs bytes.Buffer
}

// Write collects the server's output for a failure message.
func (d *DebianEtcd) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.Write(p)
}

func (d *DebianEtcd) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

// NewDebianEtcd starts Debian's etcd on free loopback ports with its data
// in a temporary directory; t.Cleanup kills it. The test is skipped, saying
// what it needs, where the packages are not installed (CI installs them),
// so call it first.
func NewDebianEtcd(t testing.TB) *DebianEtcd {
	t.Helper()
	for _, p := range []string{DebianEtcdPath, DebianEtcdctlPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s is not installed (Debian packages etcd-server and etcd-client; .ci/run installs them): %v", p, err)
		}
	}
	urls, err := sdpetcd.FreeURLs(2)
	if err != nil {
		t.Fatalf("sdptest: free ports for Debian's etcd: %v", err)
	}
	client, peer := urls[0].String(), urls[1].String()
	d := &DebianEtcd{client: client}
	cmd := exec.Command(DebianEtcdPath,
		"--name", "debian", "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "debian="+peer, "--unsafe-no-fsync",
		"--log-outputs", "stderr", "--logger", "zap")
	cmd.Stdout, cmd.Stderr = d, d
	if err := cmd.Start(); err != nil {
		t.Fatalf("sdptest: starting %s: %v", DebianEtcdPath, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(startTimeout)
	for !d.healthy() {
		if time.Now().After(deadline) {
			t.Fatalf("sdptest: Debian's etcd did not answer at %s within %v:\n%s", client, startTimeout, d.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// healthy reports whether the server answers a read.
func (d *DebianEtcd) healthy() bool {
	c, err := clientv3.New(clientv3.Config{Endpoints: d.Endpoints(), DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return false
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.Get(ctx, "health")
	return err == nil
}

// Endpoints returns the server's client URL.
func (d *DebianEtcd) Endpoints() []string { return []string{d.client} }

// Backend returns an etcd3 backend on the server, closed by t.Cleanup,
// with cfg's empty Endpoints and DialOptions filled in.
func (d *DebianEtcd) Backend(t testing.TB, cfg etcd3.Config) *etcd3.Backend {
	t.Helper()
	if len(cfg.Endpoints) == 0 {
		cfg.Endpoints = d.Endpoints()
	}
	return newBackend(t, cfg)
}

// Etcdctl runs Debian's etcdctl (API v3) on the server with args and
// returns its combined output; a failure fails the test with that output.
func (d *DebianEtcd) Etcdctl(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(DebianEtcdctlPath, append([]string{"--endpoints", d.client}, args...)...)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("etcdctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}
