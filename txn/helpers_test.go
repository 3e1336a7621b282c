package txn_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cenkalti/backoff/v4"
	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/txn"
	"gotest.tools/v3/assert"
)

// backendCase makes a fresh, empty backend for one test.
type backendCase struct {
	name string
	new  func(t testing.TB) backend.Backend
}

func newMemory(t testing.TB) backend.Backend {
	b := memory.New()
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// backends lists the backends every test runs on.
var backends = []backendCase{
	{"memory", newMemory},
	{"etcd", newEtcd},
}

// forEachBackend runs test once per backend, as a subtest.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend.Backend)) {
	t.Helper()
	for _, bc := range backends {
		t.Run(bc.name, func(t *testing.T) {
			test(t, bc.new(t))
		})
	}
}

// noBackOff retries at once, to keep tests quick.
func noBackOff() txn.Option {
	return txn.WithBackOff(func() backoff.BackOff { return &backoff.ZeroBackOff{} })
}

// wrapped wraps a backend to count calls and inject failures.
type wrapped struct {
	backend.Backend
	gets, lists, commits atomic.Int64

	mu         sync.Mutex
	commitHook func(backend.Txn) (handled bool, res backend.TxnResult, err error)
	getErr     error
}

func wrap(b backend.Backend) *wrapped { return &wrapped{Backend: b} }

func (w *wrapped) Get(ctx context.Context, path string, rev int64) (backend.KeyValue, int64, error) {
	w.gets.Add(1)
	w.mu.Lock()
	err := w.getErr
	w.mu.Unlock()
	if err != nil {
		return backend.KeyValue{}, 0, backend.WrapPath("get", path, err)
	}
	return w.Backend.Get(ctx, path, rev)
}

func (w *wrapped) List(ctx context.Context, prefix string, opts backend.ListOptions) (backend.ListResult, error) {
	w.lists.Add(1)
	return w.Backend.List(ctx, prefix, opts)
}

func (w *wrapped) Commit(ctx context.Context, c backend.Txn) (backend.TxnResult, error) {
	w.commits.Add(1)
	w.mu.Lock()
	hook := w.commitHook
	w.mu.Unlock()
	if hook != nil {
		if handled, res, err := hook(c); handled {
			return res, err
		}
	}
	return w.Backend.Commit(ctx, c)
}

// MaxTxnOps passes the wrapped backend's limit on.
func (w *wrapped) MaxTxnOps() int {
	if l, ok := w.Backend.(backend.Limiter); ok {
		return l.MaxTxnOps()
	}
	return txn.DefaultMaxTxnOps
}

// failCommits makes every commit report a conflict without reaching the
// store.
func (w *wrapped) failCommits() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.commitHook = func(backend.Txn) (bool, backend.TxnResult, error) {
		return true, backend.TxnResult{Succeeded: false}, nil
	}
}

// setup writes keys (path → value) to b, failing the test on error.
func setup(t testing.TB, b backend.Backend, kvs ...string) {
	t.Helper()
	for i := 0; i+1 < len(kvs); i += 2 {
		_, err := b.Create(context.Background(), kvs[i], kvs[i+1], backend.NoLease)
		assert.NilError(t, err, "creating %s", kvs[i])
	}
}

// dump returns every key below prefix (all depths) as path → value.
func dump(t testing.TB, b backend.Backend, prefix string) map[string]string {
	t.Helper()
	res, err := b.List(context.Background(), prefix, backend.ListOptions{Recurse: backend.MaxDepth, WithValues: true})
	assert.NilError(t, err)
	out := make(map[string]string, len(res.KVs))
	for _, kv := range res.KVs {
		out[kv.Path] = kv.Value
	}
	return out
}

// value returns the value of path in b, or "<absent>".
func value(t testing.TB, b backend.Backend, path string) string {
	t.Helper()
	kv, _, err := b.Get(context.Background(), path, 0)
	if err != nil {
		assert.ErrorIs(t, err, backend.ErrNotFound)
		return "<absent>"
	}
	return kv.Value
}
