package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func TestServerServesUntilInterrupted(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Join(t.TempDir(), "data")
	addr, peer := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- h.env("", &out, &errOut).run(ctx, []string{"server", "--data-dir", dir, "--listen", "http://" + addr, "--listen-peer", "http://" + peer})
	}()
	sdptest.WaitFor(t, "the server", func() bool { return strings.Contains(out.String(), "stop it with Ctrl-C") })
	assert.Equal(t, out.String(), "etcd is serving clients at http://"+addr+"\ndata directory: "+dir+
		"\npoint sdpcfg and SDK clients at it: export SDP_CONFIG_ENDPOINTS="+addr+"\nstop it with Ctrl-C\n")

	// It serves: the real etcd3 backend reaches it.
	var o2, e2 syncBuffer
	e := newEnv(strings.NewReader(""), &o2, &e2)
	e.getenv = func(string) string { return "" }
	assert.Equal(t, e.run(ctx, []string{"--endpoints", addr, "create", "/a", "1"}), 0, e2.String())
	cancel()
	assert.Equal(t, <-done, 0, errOut.String())
	_, err := os.Stat(filepath.Join(dir, "member"))
	assert.NilError(t, err, "no data kept in --data-dir")
}

func TestServerErrors(t *testing.T) {
	h := newHarness(t)
	h.vars["HOME"] = t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer l.Close()
	wantError(t, h.run("server", "--data-dir", t.TempDir(), "--listen", "http://"+l.Addr().String(), "--listen-peer", "http://"+freePort(t)),
		exitError, "address already in use", "http://"+l.Addr().String(), "--listen")
	wantError(t, h.run("server", "--listen", "127.0.0.1:2379"), exitUsage, `--listen "127.0.0.1:2379": want http://IP:port`)
	wantError(t, h.run("server", "--listen", "http://127.0.0.1:1", "--listen-peer", "http://127.0.0.1:1"), exitUsage, "give them different ports")
	wantError(t, h.run("server", "extra"), exitUsage, "server: want no arguments")
	h.vars["HOME"] = ""
	wantError(t, h.run("server"), exitUsage, "pass --data-dir")
}

func TestServerDefaultDataDir(t *testing.T) {
	h := newHarness(t)
	o := &serverOptions{g: &globalOptions{env: h.env("", &syncBuffer{}, &syncBuffer{})}}
	h.vars["HOME"] = "/home/u"
	assert.NilError(t, o.complete(nil))
	assert.Equal(t, o.dataDir, "/home/u/.local/share/sdpcfg/etcd")
	o.dataDir = ""
	h.vars["XDG_DATA_HOME"] = "/xdg"
	assert.NilError(t, o.complete(nil))
	assert.Equal(t, o.dataDir, "/xdg/sdpcfg/etcd")
}

func TestCompletionBash(t *testing.T) {
	h := newHarness(t)
	script := h.ok("completion", "bash")
	for _, c := range commands() {
		assert.Assert(t, strings.Contains(script, " "+strings.Join(append([]string{c.name}, c.aliases...), "|")+") flags="), c.name)
	}
	assert.Assert(t, strings.Contains(script, `ls) flags="--recursive -R --depth --values --rev --keys-only --print-value-only --limit"`), script)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed: cannot check the script's syntax")
	}
	f := filepath.Join(t.TempDir(), "c.sh")
	assert.NilError(t, os.WriteFile(f, []byte(script), 0o600))
	b, err := exec.Command(bash, "-n", f).CombinedOutput()
	assert.NilError(t, err, string(b))
	// Complete "sdpcfg l" and "sdpcfg ls --va".
	b, err = exec.Command(bash, "-c", `source `+f+`; COMP_WORDS=(sdpcfg l); COMP_CWORD=1; _sdpcfg; echo "${COMPREPLY[@]}"; COMP_WORDS=(sdpcfg ls --va); COMP_CWORD=2; _sdpcfg; echo "${COMPREPLY[@]}"`).CombinedOutput()
	assert.NilError(t, err, string(b))
	assert.Equal(t, string(b), "ls lease\n--values\n")
}
