package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// The programs of Debian's etcd-server and etcd-client packages (etcd 3.4).
const (
	debianEtcd    = "/usr/bin/etcd"
	debianEtcdctl = "/usr/bin/etcdctl"
)

// startDebianEtcd starts Debian's etcd on free loopback ports with its data
// in a temporary directory, killed at cleanup, and returns its client URL.
func startDebianEtcd(t *testing.T) string {
	t.Helper()
	for _, p := range []string{debianEtcd, debianEtcdctl} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s is not installed (Debian packages etcd-server and etcd-client; CI installs them): %v", p, err)
		}
	}
	client, peer := "http://"+freePort(t), "http://"+freePort(t)
	var logs bytes.Buffer
	cmd := exec.Command(debianEtcd,
		"--name", "interop", "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "interop="+peer, "--log-outputs", "stderr", "--logger", "zap")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	assert.NilError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ok := poll(30*time.Second, func() bool {
		return exec.Command(debianEtcdctl, "--endpoints", client, "--dial-timeout", "1s", "endpoint", "health").Run() == nil
	})
	if !ok {
		t.Fatalf("Debian's etcd did not become healthy at %s: %s", client, logs.String())
	}
	return client
}

// etcdctl runs Debian's etcdctl (API v3) against endpoint.
func etcdctl(t *testing.T, endpoint string, args ...string) string {
	t.Helper()
	cmd := exec.Command(debianEtcdctl, append([]string{"--endpoints", endpoint}, args...)...)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, string(out))
	return string(out)
}

func TestInteropWithDebianEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Debian's etcd and builds the binary")
	}
	endpoint := startDebianEtcd(t)
	b := binary{t: t, bin: buildBinary(t), env: cleanEnv("SDP_CONFIG_ENDPOINTS=" + endpoint)}

	// What sdpcfg writes, etcdctl reads under the depth-prefixed key.
	b.ok("create", "/pb/x", `{"b": [1, 2], "a": "ü"}`)
	assert.Equal(t, etcdctl(t, endpoint, "get", "--print-value-only", "2/pb/x"), "{\n  \"a\": \"ü\",\n  \"b\": [\n    1,\n    2\n  ]\n}\n")
	b.ok("--prefix", "/sdp", "create", "/pb/x/state", `{"status": "RUNNING"}`)
	assert.Equal(t, etcdctl(t, endpoint, "get", "--print-value-only", "4/sdp/pb/x/state"), "{\n  \"status\": \"RUNNING\"\n}\n")

	// And the other way round.
	etcdctl(t, endpoint, "put", "2/pb/y", "from etcdctl")
	etcdctl(t, endpoint, "put", "3/pb/y/state", `{"status": "WAITING"}`)
	assert.Equal(t, b.ok("get", "/pb/y"), "from etcdctl\n")
	assert.Equal(t, b.ok("ls", "/pb"), "/pb/x\n/pb/y\n/pb/y/\n")
	assert.Equal(t, b.ok("ls", "-R", "--values", "/pb"), "/pb/x  {\"a\":\"ü\",\"b\":[1,2]}\n/pb/y  from etcdctl\n/pb/y/state  {\"status\":\"WAITING\"}\n")

	// Edits, deletes and watches work on the older server too.
	b.ok("update", "--raw", "/pb/y", "changed")
	assert.Equal(t, etcdctl(t, endpoint, "get", "--print-value-only", "2/pb/y"), "changed\n")
	eb := b
	script := filepath.Join(t.TempDir(), "ed.sh")
	assert.NilError(t, os.WriteFile(script, []byte("#!/bin/sh\nsed -i 's/WAITING/RUNNING/' \"$1\"\n"), 0o700))
	eb.env = append(append([]string(nil), b.env...), "EDITOR="+script)
	eb.ok("edit", "/pb/y/state")
	assert.Equal(t, etcdctl(t, endpoint, "get", "--print-value-only", "3/pb/y/state"), "{\n  \"status\": \"RUNNING\"\n}\n")
	out := b.ok("watch", "--prefix", "--rev", "1", "--count", "3", "/pb")
	assert.Equal(t, strings.Count(out, "PUT"), 3, out)

	// A tree exported from 3.4 imports back identically.
	tree := b.ok("export", "/pb")
	b.ok("delete", "-R", "--yes", "/pb")
	assert.Equal(t, etcdctl(t, endpoint, "get", "--prefix", "2/pb/"), "")
	r := b.runIn(tree, "import", "-")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, b.ok("export", "/pb"), tree)
	assert.Equal(t, etcdctl(t, endpoint, "get", "--print-value-only", "2/pb/y"), "changed\n")

	// The demo runs on it (configured store: it cleans up after itself).
	checkDemoOutput(t, b.ok("demo"), 3)
}
