package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// buildBinary builds sdpcfg into a temporary directory and returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sdpcfg")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	assert.NilError(t, err, string(out))
	return bin
}

// cleanEnv is the process environment without SDP_CONFIG_* settings.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SDP_CONFIG_") && !strings.HasPrefix(kv, "EDITOR=") && !strings.HasPrefix(kv, "VISUAL=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// binary runs the built sdpcfg.
type binary struct {
	t   *testing.T
	bin string
	env []string
}

// run runs the binary with stdin and returns its result.
func (b binary) runIn(stdin string, args ...string) result {
	b.t.Helper()
	cmd := exec.Command(b.bin, args...)
	cmd.Env = b.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		assert.NilError(b.t, err)
	}
	assert.Assert(b.t, !strings.Contains(errOut.String(), "goroutine "), "a stack trace: %s", errOut.String())
	return result{code: code, out: out.String(), err: errOut.String()}
}

func (b binary) run(args ...string) result { return b.runIn("", args...) }

func (b binary) ok(args ...string) string {
	b.t.Helper()
	r := b.run(args...)
	assert.Equal(b.t, r.code, 0, "sdpcfg %v: %s", args, r.err)
	return r.out
}

// start starts the binary in the background; stop it with interrupt.
func (b binary) start(args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	b.t.Helper()
	cmd := exec.Command(b.bin, args...)
	cmd.Env = b.env
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	assert.NilError(b.t, cmd.Start())
	b.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, &out, &errOut
}

// interrupt sends SIGINT to cmd and returns its exit code.
func interrupt(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	assert.NilError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	assert.NilError(t, err)
	return 0
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	e := sdptest.NewEtcd(t)
	b := binary{t: t, bin: bin, env: cleanEnv("SDP_CONFIG_ENDPOINTS=" + e.Endpoints()[0])}
	ctx := context.Background()
	cli := e.Client(t)

	t.Run("keys", func(t *testing.T) {
		b.t = t
		assert.Equal(t, b.ok("create", "/pb/x", `{"b": 2, "a": 1}`), fmt.Sprintf("created /pb/x at revision %d\n", 2))
		resp, err := cli.Get(ctx, "2/pb/x")
		assert.NilError(t, err)
		assert.Equal(t, len(resp.Kvs), 1)
		assert.Equal(t, string(resp.Kvs[0].Value), "{\n  \"a\": 1,\n  \"b\": 2\n}")
		_, err = cli.Put(ctx, "3/pb/x/state", `{"status": "RUNNING"}`)
		assert.NilError(t, err)
		assert.Equal(t, b.ok("get", "/pb/x/state"), "{\"status\": \"RUNNING\"}\n")
		assert.Equal(t, b.ok("ls", "/"), "/pb/\n")
		assert.Equal(t, b.ok("ls", "-R", "/"), "/pb/x\n/pb/x/state\n")
		r := b.runIn("new\n", "update", "--raw", "/pb/x/state", "-")
		assert.Equal(t, r.code, 0, r.err)
		assert.Equal(t, b.ok("get", "/pb/x/state"), "new\n")

		wantError(t, b.run("get", "/pb/nope"), exitNotFound, "get /pb/nope: key not found")
		wantError(t, b.run("create", "/pb/x", "{}"), exitConflict, "key already exists")
		wantError(t, b.run("frob"), exitUsage, `unknown command "frob"`)
		wantError(t, b.run("ls", "--bogus", "/"), exitUsage, "unknown flag: --bogus")
		wantError(t, b.run("delete", "-R", "/pb"), exitUsage, "pass --yes")
		assert.Assert(t, strings.HasPrefix(b.ok("--help"), "sdpcfg inspects and edits"))
	})

	t.Run("completion", func(t *testing.T) {
		b.t = t
		bash, err := exec.LookPath("bash")
		if err != nil {
			t.Skip("bash not installed: cannot run the completion script")
		}
		script := filepath.Join(t.TempDir(), "c.sh")
		assert.NilError(t, os.WriteFile(script, []byte(b.ok("completion", "bash")), 0o600))
		complete := func(words ...string) string {
			t.Helper()
			cmd := exec.Command(bash, "-c", fmt.Sprintf(`source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _sdpcfg; echo "${COMPREPLY[@]}"`,
				script, strings.Join(words, " "), len(words)-1))
			cmd.Env = append(append([]string(nil), b.env...), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			assert.NilError(t, err, string(out))
			return strings.TrimSpace(string(out))
		}
		// Key paths from the store, one level at a time.
		assert.Equal(t, complete("sdpcfg", "get", "/p"), "/pb/")
		assert.Equal(t, complete("sdpcfg", "get", "/pb/"), "/pb/x /pb/x/")
		assert.Equal(t, complete("sdpcfg", "rm", "/pb/x/"), "/pb/x/state")
		assert.Equal(t, complete("sdpcfg", "get", "-o", "j"), "json")
		assert.Equal(t, complete("sdpcfg", "hist"), "history")

		// zsh on a real terminal: a subtree takes no space, so TAB goes on.
		z := newZshCompleter(t, bin, b.env, b.ok("completion", "zsh"))
		assert.Equal(t, z.complete("sdpcfg get /p"), "get /pb/END")
		assert.Equal(t, z.complete("sdpcfg get /pb/x/"), "get /pb/x/state END")
		assert.Equal(t, z.complete("sdpcfg hist"), "history END")
		assert.Equal(t, z.complete("sdpcfg ls --keys-o"), "ls --keys-only END")
		assert.Equal(t, z.complete("sdpcfg get -o y"), "get -o yaml END")

		// fish, with its own complete -C.
		fish := b.ok("completion", "fish")
		assert.Equal(t, fishComplete(t, bin, b.env, fish, "sdpcfg get /p"), "/pb/")
		assert.Equal(t, fishComplete(t, bin, b.env, fish, "sdpcfg get /pb/"), "/pb/x /pb/x/")
		assert.Equal(t, fishComplete(t, bin, b.env, fish, "sdpcfg hist"), "history")
		assert.Equal(t, fishComplete(t, bin, b.env, fish, "sdpcfg ls -o j"), "json")
	})

	t.Run("export-import", func(t *testing.T) {
		b.t = t
		for p, v := range trickyValues {
			_, err := cli.Put(ctx, fmt.Sprintf("%d/src%s", strings.Count(p, "/")+1, p), v)
			assert.NilError(t, err)
		}
		for _, format := range []string{"json", "yaml"} {
			tree := b.ok("--prefix", "/src", "-o", format, "export", "/")
			file := filepath.Join(t.TempDir(), "tree."+format)
			assert.NilError(t, os.WriteFile(file, []byte(tree), 0o600))
			b.ok("--prefix", "/dst-"+format, "import", file)
			for p, v := range trickyValues {
				key := fmt.Sprintf("%d/dst-%s%s", strings.Count(p, "/")+1, format, p)
				resp, err := cli.Get(ctx, key)
				assert.NilError(t, err)
				assert.Equal(t, len(resp.Kvs), 1, key)
				assert.Equal(t, string(resp.Kvs[0].Value), v, key)
			}
		}
		bad := filepath.Join(t.TempDir(), "bad.json")
		assert.NilError(t, os.WriteFile(bad, []byte("{\n\"/a\": 1,\n\"/b\" 2}"), 0o600))
		before, err := cli.Get(ctx, "x")
		assert.NilError(t, err)
		wantError(t, b.run("import", bad), exitUsage, "line 3", "nothing was written")
		after, err := cli.Get(ctx, "x")
		assert.NilError(t, err)
		assert.Equal(t, after.Header.Revision, before.Header.Revision)
	})

	t.Run("edit-conflict", func(t *testing.T) {
		b.t = t
		b.ok("create", "/notes/e", "{\"v\": 1}", "--json")
		dir := t.TempDir()
		script := filepath.Join(dir, "ed.sh")
		// Someone else updates the key while the editor is open.
		assert.NilError(t, os.WriteFile(script, []byte(fmt.Sprintf("#!/bin/sh\n%q update --raw /notes/e other >/dev/null || exit 7\nsed -i 's/v: 1/v: 2/' \"$1\"\n", bin)), 0o700))
		eb := b
		eb.env = append(append([]string(nil), b.env...), "EDITOR="+script)
		r := eb.run("edit", "/notes/e")
		wantError(t, r, exitConflict, "changed or deleted by someone else", "nothing written")
		os.Remove(keptFile(t, r.err))
		assert.Equal(t, b.ok("get", "/notes/e"), "other\n")
		// Without interference the edit is written.
		assert.NilError(t, os.WriteFile(script, []byte("#!/bin/sh\nprintf 'edited' > \"$1\"\n"), 0o700))
		eb.ok("edit", "/notes/e")
		assert.Equal(t, b.ok("get", "/notes/e"), "edited\n")
	})

	t.Run("watch-interrupted", func(t *testing.T) {
		b.t = t
		cmd, out, errOut := b.start("watch", "--prefix", "/w")
		// Write until the watch reports a write: it has started by then.
		for i := 0; !poll(200*time.Millisecond, func() bool { return strings.Contains(out.String(), "PUT") }); i++ {
			_, err := cli.Put(ctx, fmt.Sprintf("2/w/k%d", i), "v")
			assert.NilError(t, err)
			if i > 100 {
				t.Fatalf("watch printed nothing: %s", errOut.String())
			}
		}
		assert.Equal(t, interrupt(t, cmd), 0, errOut.String())
		assert.Equal(t, errOut.String(), "")
	})

	t.Run("unreachable", func(t *testing.T) {
		b.t = t
		addr := freePort(t) // nothing listens there
		start := time.Now()
		r := b.run("--endpoints", addr, "--timeout", "1m", "get", "/a")
		elapsed := time.Since(start)
		wantError(t, r, exitError, "cannot connect to etcd at http://"+addr, "connection refused at "+addr, "sdpcfg server")
		assert.Assert(t, elapsed < 30*time.Second, "took %v: a refused connection waited for --timeout 1m", elapsed)
	})

	t.Run("server", func(t *testing.T) {
		b.t = t
		addr, peer := freePort(t), freePort(t)
		dir := filepath.Join(t.TempDir(), "data")
		cmd, out, errOut := b.start("server", "--data-dir", dir, "--listen", "http://"+addr, "--listen-peer", "http://"+peer)
		sdptest.WaitFor(t, "the server", func() bool { return strings.Contains(out.String(), "stop it with Ctrl-C") })
		sb := binary{t: t, bin: bin, env: cleanEnv("SDP_CONFIG_ENDPOINTS=" + addr)}
		sb.ok("create", "/a", "1")
		assert.Equal(t, sb.ok("get", "/a"), "1\n")

		// A second server on the same data directory fails at once
		// instead of waiting on etcd's lock, deaf to signals.
		r := b.run("server", "--data-dir", dir, "--listen", "http://"+freePort(t), "--listen-peer", "http://"+freePort(t))
		wantError(t, r, exitError, fmt.Sprintf("server: data directory %s is in use by another server (pid %d); pass --data-dir", dir, cmd.Process.Pid))

		assert.Equal(t, interrupt(t, cmd), 0, errOut.String())
		assert.Assert(t, strings.HasSuffix(out.String(), "stopping\n"), out.String())
		assert.Equal(t, errOut.String(), "")
	})

	t.Run("demo", func(t *testing.T) {
		b.t = t
		db := binary{t: t, bin: bin, env: cleanEnv()}
		out := db.ok("demo")
		checkDemoOutput(t, out, 3)
	})
}

func TestBinaryWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	e := sdptest.NewEtcd(t)
	cli := e.Client(t)
	ctx := context.Background()
	_, err := cli.UserAdd(ctx, "root", "rootpw")
	assert.NilError(t, err)
	_, err = cli.UserGrantRole(ctx, "root", "root")
	assert.NilError(t, err)
	_, err = cli.AuthEnable(ctx)
	assert.NilError(t, err)

	b := binary{t: t, bin: bin, env: cleanEnv("SDP_CONFIG_ENDPOINTS="+e.Endpoints()[0], "SDP_CONFIG_PASSWORD=wrong")}
	wantError(t, b.run("--user", "root", "ls", "/"), exitError, `refused user "root"`, "SDP_CONFIG_PASSWORD")
	b.env = cleanEnv("SDP_CONFIG_ENDPOINTS="+e.Endpoints()[0], "SDP_CONFIG_PASSWORD=rootpw")
	b.ok("--user", "root", "create", "/a", "1")
	// No user at all: the store refuses the request.
	b.env = cleanEnv("SDP_CONFIG_ENDPOINTS=" + e.Endpoints()[0])
	r := b.run("get", "/a")
	assert.Equal(t, r.code, exitError, r.err)
	// Not a terminal, no password: say how to give one.
	wantError(t, b.run("--user", "root", "get", "/a"), exitUsage, "SDP_CONFIG_PASSWORD")
}

func TestImportAdaptsToTheServersTxnLimit(t *testing.T) {
	e := sdptest.NewEtcd(t, sdptest.WithMaxTxnOps(20))
	h := newEtcdHarness(t, e.Endpoints()[0])
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 100; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\"/k/%03d\": \"v%d\"", i, i)
	}
	b.WriteString("}")
	r := h.runIn(b.String(), "import", "-")
	assert.Equal(t, r.code, 0, r.err)
	assert.Assert(t, strings.HasPrefix(r.out, "imported 100 key(s) from stdin in 7 transaction(s)"), r.out)
	resp, err := e.Client(t).Get(context.Background(), "2/k/", clientv3.WithPrefix())
	assert.NilError(t, err)
	assert.Equal(t, len(resp.Kvs), 100)
}
