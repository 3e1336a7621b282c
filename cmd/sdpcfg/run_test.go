package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

func TestUsageErrors(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args      []string
		fragments []string
	}{
		{nil, []string{"no command given", "sdpcfg --help", "sdpcfg demo"}},
		{[]string{"frob"}, []string{`unknown command "frob"`, "sdpcfg --help"}},
		{[]string{"gte", "/a"}, []string{`unknown command "gte"`, `did you mean "get"?`}},
		{[]string{"--bogus", "get", "/a"}, []string{"unknown flag: --bogus", "sdpcfg --help"}},
		{[]string{"get", "--bogus", "/a"}, []string{"get: unknown flag: --bogus", "sdpcfg get --help"}},
		{[]string{"get"}, []string{"get: want PATH, got 0 argument(s)"}},
		{[]string{"get", "/a", "/b"}, []string{"got 2 argument(s)"}},
		{[]string{"get", "a"}, []string{`invalid path "a"`, `must start with "/"`}},
		{[]string{"get", "/a//b"}, []string{`invalid path "/a//b"`, "empty segment"}},
		{[]string{"-o", "xml", "get", "/a"}, []string{`-o "xml"`, "table, json or yaml"}},
		{[]string{"get", "/a", "--timeout", "0s"}, []string{"--timeout 0s", "must be positive"}},
		{[]string{"get", "/a", "--rev", "-1"}, []string{"--rev -1"}},
		{[]string{"ls", "/a", "--depth", "0"}, []string{"--depth 0"}},
		{[]string{"--endpoints", "http://a:b:c", "get", "/a"}, []string{`--endpoints "http://a:b:c"`}},
		{[]string{"--prefix", "sdp", "get", "/a"}, []string{`--prefix "sdp"`, `must be a path such as "/sdp"`}},
		{[]string{"--backend", "redis", "get", "/a"}, []string{`--backend "redis"`, `"etcd3" or "memory"`}},
		{[]string{"--cert", "c.pem", "get", "/a"}, []string{"--key"}},
		{[]string{"help", "frob"}, []string{`help: unknown command "frob"`}},
		{[]string{"completion", "tcsh"}, []string{`shell "tcsh" is not supported: use bash, zsh or fish`}},
		{[]string{"version", "extra"}, []string{"version: want no arguments"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantError(t, h.run(tc.args...), exitUsage, tc.fragments...)
		})
	}
}

func TestSettingsFromFlagsThenEnvThenDefaults(t *testing.T) {
	h := newHarness(t)
	h.put("/sdp/a", "in prefix", "/a", "top")

	// Defaults: etcd3 at 127.0.0.1:2379, no prefix.
	assert.Equal(t, h.ok("get", "/a"), "top\n")
	s := h.settings[len(h.settings)-1]
	assert.DeepEqual(t, s.Endpoints, []string{"127.0.0.1:2379"})
	assert.Equal(t, s.Source(config.SettingEndpoints), config.SourceDefault)

	// The environment.
	h.vars[config.EnvPrefix] = "/sdp"
	h.vars[config.EnvEndpoints] = "10.0.0.1:2379,10.0.0.2:2379"
	assert.Equal(t, h.ok("get", "/a"), "in prefix\n")
	s = h.settings[len(h.settings)-1]
	assert.DeepEqual(t, s.Endpoints, []string{"10.0.0.1:2379", "10.0.0.2:2379"})
	assert.Equal(t, s.Source(config.SettingEndpoints), config.SourceEnv)

	// Flags beat the environment, before or after the command.
	assert.Equal(t, h.ok("--prefix", "/", "get", "/a"), "top\n")
	h.ok("get", "/a", "--endpoints", "10.9.9.9:1")
	s = h.settings[len(h.settings)-1]
	assert.DeepEqual(t, s.Endpoints, []string{"10.9.9.9:1"})
	assert.Equal(t, s.Source(config.SettingEndpoints), config.SourceOption)

	// TLS flags imply https.
	h.ok("--cacert", "ca.pem", "--endpoints", "10.0.0.1:2379", "get", "/a")
	s = h.settings[len(h.settings)-1]
	assert.Equal(t, s.Protocol, "https")
	assert.Equal(t, s.CACert, "ca.pem")

	// A bad environment value is named by its variable.
	h.vars[config.EnvPort] = "99999"
	delete(h.vars, config.EnvEndpoints)
	wantError(t, h.run("get", "/a"), exitUsage, "SDP_CONFIG_PORT", "99999")
}

func TestPassword(t *testing.T) {
	h := newHarness(t)
	h.put("/a", "1")

	// No terminal, no SDP_CONFIG_PASSWORD: refuse, saying how to give it.
	wantError(t, h.run("--user", "alice", "get", "/a"), exitUsage, `no password for user "alice"`, "SDP_CONFIG_PASSWORD")

	// On a terminal, the password is asked for, not echoed by us.
	h.terminal, h.password = true, "s3cret"
	r := h.run("--user", "alice", "get", "/a")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, r.err, "Password for alice: \n")
	assert.Assert(t, !strings.Contains(r.err+r.out, "s3cret"))
	s := h.settings[len(h.settings)-1]
	assert.Equal(t, s.Username, "alice")
	assert.Equal(t, s.Password, "s3cret")

	// From the environment: no prompt.
	h.vars[config.EnvUsername], h.vars[config.EnvPassword] = "bob", "pw"
	h.ok("get", "/a")
	assert.Equal(t, h.prompts, 1)
	s = h.settings[len(h.settings)-1]
	assert.Equal(t, s.Username, "bob")
	assert.Equal(t, s.Password, "pw")
}

func TestExitCodeMapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{errors.New("x"), exitError},
		{usagef("x"), exitUsage},
		{fmt.Errorf("get: %w", backend.ErrNotFound), exitNotFound},
		{backend.WrapPath("update", "/a", backend.ErrVanished), exitNotFound},
		{backend.WrapPath("create", "/a", backend.ErrCollision), exitConflict},
		{fmt.Errorf("run: %w", &txn.ConflictError{}), exitConflict},
		{fmt.Errorf("edit: %w", errConflict), exitConflict},
		{backend.WrapPath("get", "/a", backend.ErrUnavailable), exitError},
		{fmt.Errorf("x: %w", config.ErrInvalidSetting), exitUsage},
	} {
		assert.Equal(t, exitCode(tc.err), tc.code, "%v", tc.err)
	}
}

func TestMessageIsOneLine(t *testing.T) {
	assert.Equal(t, message(errors.New("a\nb\r\nc")), "sdpcfg: a; b; c")
	assert.Equal(t, message(backend.WrapPath("get", "/a", backend.ErrNotFound)), `sdpcfg: get "/a": key not found`)
	assert.Equal(t, message(fmt.Errorf("get /a: %w", context.DeadlineExceeded)), "sdpcfg: get /a: context deadline exceeded (raise --timeout if the store is slow)")
}

func TestPanicIsOneLine(t *testing.T) {
	h := newHarness(t)
	var out, errOut syncBuffer
	e := h.env("", &out, &errOut)
	e.open = func(context.Context, config.Settings, config.Options) (*config.Config, error) {
		panic("boom")
	}
	code := e.run(context.Background(), []string{"get", "/a"})
	assert.Equal(t, code, exitError)
	assert.Equal(t, errOut.String(), "sdpcfg: internal error: boom (this is a bug; please report it with the command you ran)\n")
}

func TestOpenErrors(t *testing.T) {
	h := newHarness(t)
	fail := func(err error) func(context.Context, config.Settings, config.Options) (*config.Config, error) {
		return func(context.Context, config.Settings, config.Options) (*config.Config, error) { return nil, err }
	}
	for _, tc := range []struct {
		err       error
		code      int
		fragments []string
	}{
		{fmt.Errorf("dial: %w", backend.ErrUnavailable), exitError, []string{"cannot connect to etcd at http://127.0.0.1:2379 (from the default): dial", "sdpcfg server", "--endpoints"}},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), exitError, []string{"cannot connect to etcd at http://127.0.0.1:2379 (from the default) within --timeout 5s", "sdpcfg server"}},
		{fmt.Errorf("auth: %w", backend.ErrPermissionDenied), exitError, []string{"refused user", "SDP_CONFIG_PASSWORD"}},
		{errors.New("x509: certificate signed by unknown authority"), exitError, []string{"TLS with etcd at http://127.0.0.1:2379 failed", "--cacert"}},
	} {
		var out, errOut syncBuffer
		e := h.env("", &out, &errOut)
		e.open = fail(tc.err)
		code := e.run(context.Background(), []string{"get", "/a"})
		wantError(t, result{code: code, out: out.String(), err: errOut.String()}, tc.code, tc.fragments...)
	}
}

func TestHelp(t *testing.T) {
	h := newHarness(t)
	top := h.ok("--help")
	for _, c := range commands() {
		assert.Assert(t, strings.Contains(top, "\n  "+c.name+" "), "top help lacks %s", c.name)
		help := h.ok(c.name, "--help")
		assert.Assert(t, strings.Contains(help, "Usage:\n  sdpcfg "+c.name), help)
		assert.Equal(t, h.ok("help", c.name), help)
		assert.Equal(t, h.ok(c.name, "-h"), help)
	}
	assert.Equal(t, h.ok("help"), top)
	assert.Assert(t, strings.Contains(top, "--endpoints"))
	assert.Assert(t, strings.Contains(top, "Exit codes: 0 ok, 1 error, 2 usage or bad input, 3 not found, 4 conflict."))
}

func TestVersion(t *testing.T) {
	h := newHarness(t)
	out := h.ok("version")
	assert.Assert(t, strings.HasPrefix(out, "sdpcfg "), out)
	assert.Assert(t, strings.Contains(out, "etcd 3.7.3"), out)
	out = h.ok("version", "-o", "json")
	assert.Assert(t, strings.Contains(out, `"etcd": "3.7.3"`), out)
}

func TestSuggest(t *testing.T) {
	assert.Equal(t, suggest("dleete"), "delete")
	assert.Equal(t, suggest("xyzzy"), "")
}
