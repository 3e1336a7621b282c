package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/etcdserver"
)

// harness runs sdpcfg in-process on a shared memory store.
type harness struct {
	t        *testing.T
	mem      *memory.Backend
	b        backend.Backend // what the commands get: mem, or a wrapper
	vars     map[string]string
	real     bool   // commands open the store their settings name (config.OpenSettings), not b
	terminal bool   // stdin and stderr are terminals
	ttyOut   bool   // stdout is a terminal
	password string // what the fake terminal types at a password prompt

	mu       sync.Mutex
	settings []config.Settings // the settings of every open
	prompts  int
}

// newHarness returns a harness over a fresh memory store.
func newHarness(t *testing.T, opts ...memory.Option) *harness {
	t.Helper()
	mem := memory.New(opts...)
	t.Cleanup(func() { mem.Close() })
	return &harness{t: t, mem: mem, b: mem, vars: map[string]string{}}
}

// newEtcdHarness returns a harness whose commands connect for real to the
// etcd at endpoint (SDP_CONFIG_ENDPOINTS), or to what their flags name.
func newEtcdHarness(t *testing.T, endpoint string) *harness {
	t.Helper()
	h := newHarness(t)
	h.real = true
	if endpoint != "" {
		h.vars[config.EnvEndpoints] = endpoint
	}
	return h
}

// result is the outcome of one run.
type result struct {
	code     int
	out, err string
}

// env returns the env of a run with stdin and the given streams.
func (h *harness) env(stdin string, out, errOut *syncBuffer) *env {
	e := newEnv(strings.NewReader(stdin), out, errOut)
	e.getenv = func(k string) string { return h.vars[k] }
	e.open = func(ctx context.Context, s config.Settings, opts config.Options) (*config.Config, error) {
		h.mu.Lock()
		h.settings = append(h.settings, s)
		h.mu.Unlock()
		return config.New(h.b, config.Options{Prefix: s.Prefix,
			Registerer: opts.Registerer, TracerProvider: opts.TracerProvider, Logger: opts.Logger}), nil
	}
	if h.real {
		e.open = config.OpenSettings
	}
	e.isTerminal = func(s any) bool {
		if s == any(out) {
			return h.ttyOut
		}
		return h.terminal
	}
	e.readPassword = func(context.Context, any) (string, error) {
		h.mu.Lock()
		h.prompts++
		h.mu.Unlock()
		return h.password, nil
	}
	e.startEtcd = func(ctx context.Context, cfg etcdserver.Config) (*etcdserver.Server, error) {
		cfg.NoFsync, cfg.FastTicks = true, true
		return etcdserver.Start(ctx, cfg)
	}
	e.demoPace = 0
	return e
}

// run runs sdpcfg with args and no stdin.
func (h *harness) run(args ...string) result { return h.runIn("", args...) }

// runIn runs sdpcfg with args and stdin.
func (h *harness) runIn(stdin string, args ...string) result {
	h.t.Helper()
	return h.runCtx(context.Background(), stdin, args...)
}

// runCtx runs sdpcfg with ctx (cancel it to interrupt the command).
func (h *harness) runCtx(ctx context.Context, stdin string, args ...string) result {
	var out, errOut syncBuffer
	code := h.env(stdin, &out, &errOut).run(ctx, args)
	return result{code: code, out: out.String(), err: errOut.String()}
}

// ok runs sdpcfg and fails the test unless it exits 0; it returns stdout.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	r := h.run(args...)
	assert.Equal(h.t, r.code, 0, "sdpcfg %v: %s", args, r.err)
	return r.out
}

// put writes keys straight into the store, any bytes, as etcdctl can.
func (h *harness) put(kvs ...string) int64 {
	h.t.Helper()
	var rev int64
	for i := 0; i+1 < len(kvs); i += 2 {
		op := backend.Op{Kind: backend.OpPut, Range: backend.Key(kvs[i]), Value: kvs[i+1], Binary: true}
		r, err := h.mem.Commit(context.Background(), backend.Txn{Then: []backend.Op{op}})
		assert.NilError(h.t, err)
		rev = r.Revision
	}
	return rev
}

// value reads a key straight from the store; ok is false if it is absent.
func (h *harness) value(path string) (string, bool) {
	h.t.Helper()
	kv, _, err := h.mem.Get(context.Background(), path, 0)
	if err != nil {
		assert.ErrorIs(h.t, err, backend.ErrNotFound)
		return "", false
	}
	return kv.Value, true
}

// revision returns the store's revision.
func (h *harness) revision() int64 {
	h.t.Helper()
	r, err := h.mem.Revision(context.Background())
	assert.NilError(h.t, err)
	return r
}

// wantError checks a failed run: its exit code, one line on stderr
// starting "sdpcfg: ", containing every fragment, and nothing on stdout.
func wantError(t *testing.T, r result, code int, fragments ...string) {
	t.Helper()
	assert.Equal(t, r.code, code, "stderr: %s", r.err)
	assert.Assert(t, strings.HasPrefix(r.err, "sdpcfg: "), "stderr: %q", r.err)
	assert.Equal(t, strings.Count(r.err, "\n"), 1, "stderr must be one line: %q", r.err)
	for _, f := range fragments {
		assert.Assert(t, strings.Contains(r.err, f), "stderr %q lacks %q", r.err, f)
	}
	assert.Equal(t, r.out, "", "stdout of a failed run")
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for commands that
// print from several goroutines while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// poll polls cond for at most d and reports whether it held.
func poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// hookBackend wraps a backend to interfere with a command at given moments.
type hookBackend struct {
	backend.Backend
	beforeCommit func()                                        // called before each Commit
	onWatch      func()                                        // called after each Watch opens
	wrapStream   func(backend.WatchStream) backend.WatchStream // replaces the streams
}

func (b *hookBackend) Commit(ctx context.Context, t backend.Txn) (backend.TxnResult, error) {
	if b.beforeCommit != nil {
		b.beforeCommit()
	}
	return b.Backend.Commit(ctx, t)
}

func (b *hookBackend) Watch(ctx context.Context, rs []backend.Range, from int64) (backend.WatchStream, error) {
	ws, err := b.Backend.Watch(ctx, rs, from)
	if err != nil {
		return nil, err
	}
	if b.wrapStream != nil {
		ws = b.wrapStream(ws)
	}
	if b.onWatch != nil {
		b.onWatch()
	}
	return ws, nil
}

// MaxTxnOps passes on the wrapped backend's limit.
func (b *hookBackend) MaxTxnOps() int {
	if l, ok := b.Backend.(backend.Limiter); ok {
		return l.MaxTxnOps()
	}
	return 128
}

// waitBound is how long a test waits for another process: most of what
// is left before the test binary's deadline, or two minutes without one,
// so that a loaded machine slows the test down instead of failing it.
func waitBound(t *testing.T) time.Duration {
	if d, ok := t.Deadline(); ok {
		return time.Until(d) * 9 / 10
	}
	return 2 * time.Minute
}
