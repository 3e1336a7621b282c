package securitytest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gotest.tools/v3/assert"
)

func ctxT(t *testing.T) context.Context { return sdptest.Context(t) }

// secrets are strings that must never be printed: passwords and the
// base64 lines of private keys.
type secrets []string

// addKey adds the body lines of the PEM key in file.
func (s *secrets) addKey(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	assert.NilError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			*s = append(*s, line)
		}
	}
}

// check fails the test if text holds a secret or a PEM key block.
func (s secrets) check(t *testing.T, what, text string) {
	t.Helper()
	assert.Assert(t, !strings.Contains(text, "PRIVATE KEY"), "%s shows a private key: %s", what, text)
	for _, sec := range s {
		assert.Assert(t, !strings.Contains(text, sec), "%s shows the secret %q: %s", what, sec, text)
	}
}

// logSink is a zap logger at debug level that keeps every line it logs.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) Sync() error { return nil }

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logSink) logger() *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, l, zapcore.DebugLevel))
}

// buildCLI builds cmd/sdpcfg into t.TempDir() and returns its path.
func buildCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the sdpcfg binary")
	}
	bin := filepath.Join(t.TempDir(), "sdpcfg")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/sdpconfig/sdpconfig/cmd/sdpcfg").CombinedOutput()
	assert.NilError(t, err, string(out))
	return bin
}

// cliResult is what one run of the binary gave.
type cliResult struct {
	code     int
	out, err string
}

// runCLI runs the binary bin with env (added to an environment without
// SDP_CONFIG_* variables) and args.
func runCLI(t *testing.T, bin string, env []string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SDP_CONFIG_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		assert.NilError(t, err)
	}
	return cliResult{code: code, out: out.String(), err: errOut.String()}
}

// wantOneLine checks that a failed run printed one line to stderr holding
// every fragment.
func wantOneLine(t *testing.T, r cliResult, fragments ...string) {
	t.Helper()
	assert.Assert(t, r.code != 0, "succeeded: %s", r.out)
	msg := strings.TrimSuffix(r.err, "\n")
	assert.Assert(t, msg != "" && !strings.Contains(msg, "\n"), "not one line: %q", r.err)
	assert.Assert(t, strings.HasPrefix(msg, "sdpcfg: "), msg)
	for _, f := range fragments {
		assert.Assert(t, strings.Contains(msg, f), "%q lacks %q", msg, f)
	}
}

// hostPort strips the scheme of an endpoint URL.
func hostPort(endpoint string) string {
	_, hp, _ := strings.Cut(endpoint, "://")
	return hp
}
