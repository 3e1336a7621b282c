package watcher_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// loopStore is a backend the watcher loop tests run on.
type loopStore struct {
	backend.Backend
	// mem is the memory backend, for its test hooks; nil for etcd.
	mem *memory.Backend
}

// loopStores are the backends every loop test runs on.
var loopStores = []struct {
	name string
	open func(t testing.TB) loopStore
}{
	{"memory", openLoopMemory},
	{"etcd", openLoopEtcd},
}

func openLoopMemory(t testing.TB) loopStore {
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	return loopStore{Backend: b, mem: b}
}

// eachLoopStore runs f on a fresh store of each kind.
func eachLoopStore(t *testing.T, f func(t *testing.T, s loopStore)) {
	t.Helper()
	for _, st := range loopStores {
		t.Run(st.name, func(t *testing.T) { f(t, st.open(t)) })
	}
}

// testCtx returns a context that ends with the test, or shortly before
// the test binary's deadline (sdptest.Context).
func testCtx(t testing.TB) context.Context { return sdptest.Context(t) }

// mustPut writes path = value straight to the store and returns the
// revision.
func mustPut(t testing.TB, b backend.Backend, path, value string) int64 {
	t.Helper()
	res, err := b.Commit(context.Background(), backend.Txn{Then: []backend.Op{backend.Put(path, value, backend.NoLease)}})
	assert.NilError(t, err)
	return res.Revision
}

// mustPutAll writes every pair of kvs (path, value, path, value...) in one
// commit and returns the revision.
func mustPutAll(t testing.TB, b backend.Backend, kvs ...string) int64 {
	t.Helper()
	var ops []backend.Op
	for i := 0; i+1 < len(kvs); i += 2 {
		ops = append(ops, backend.Put(kvs[i], kvs[i+1], backend.NoLease))
	}
	res, err := b.Commit(context.Background(), backend.Txn{Then: ops})
	assert.NilError(t, err)
	return res.Revision
}

// mustDelete deletes path straight from the store and returns the
// revision.
func mustDelete(t testing.TB, b backend.Backend, path string) int64 {
	t.Helper()
	res, err := b.Delete(context.Background(), path, backend.DeleteOptions{MustExist: true})
	assert.NilError(t, err)
	return res.Revision
}

// wake is what one iteration of a test loop saw.
type wake struct {
	n      int
	reason watcher.Reason
	vals   []string // what the body read, as the body formats it
	rev    int64
}

// testLoop runs a watcher loop in a goroutine and reports each iteration.
type testLoop struct {
	w     *watcher.Watcher
	wakes chan wake
	done  chan error
}

// startLoop runs w with a body that calls read in one watcher transaction
// each iteration and reports what it returned. The loop is closed and
// awaited by the test's cleanup (before the store closes).
func startLoop(t testing.TB, w *watcher.Watcher, read func(t *txn.Txn) ([]string, error)) *testLoop {
	t.Helper()
	l := &testLoop{w: w, wakes: make(chan wake, 1000), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		l.done <- w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
			var vals []string
			err := it.Txn(ctx, func(t *txn.Txn) error {
				var err error
				vals, err = read(t)
				return err
			})
			if err != nil {
				return err
			}
			l.wakes <- wake{n: it.N(), reason: it.Reason(), vals: vals, rev: it.Revision()}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		w.Close()
		select {
		case <-l.done:
		case <-time.After(20 * time.Second):
			t.Errorf("loop did not end")
		}
	})
	return l
}

// next returns the next iteration, failing the test after 20s.
func (l *testLoop) next(t testing.TB) wake {
	t.Helper()
	select {
	case w := <-l.wakes:
		return w
	case err := <-l.done:
		t.Fatalf("loop ended: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for an iteration")
	}
	return wake{}
}

// getAll reads each path in t and returns "path=value" or "path absent".
func getAll(paths ...string) func(t *txn.Txn) ([]string, error) {
	return func(t *txn.Txn) ([]string, error) {
		var out []string
		for _, p := range paths {
			v, ok, err := t.Get(p)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, p+"="+v)
			} else {
				out = append(out, p+" absent")
			}
		}
		return out, nil
	}
}

// listValues lists the children of prefix in t as "path=value".
func listValues(prefix string) func(t *txn.Txn) ([]string, error) {
	return func(t *txn.Txn) ([]string, error) {
		kvs, err := t.ListValues(prefix, txn.ListOptions{})
		if err != nil {
			return nil, err
		}
		out := []string{}
		for _, kv := range kvs {
			out = append(out, kv.Path+"="+kv.Value)
		}
		return out, nil
	}
}

// counting wraps a backend to count Watch calls and gate them.
type countingBackend struct {
	backend.Backend
	watches atomic.Int64

	mu   sync.Mutex
	gate chan struct{} // while not nil, Watch waits for it to close
}

func (c *countingBackend) Watch(ctx context.Context, ranges []backend.Range, fromRev int64) (backend.WatchStream, error) {
	c.mu.Lock()
	g := c.gate
	c.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s, err := c.Backend.Watch(ctx, ranges, fromRev)
	if err == nil {
		c.watches.Add(1)
	}
	return s, err
}

// hold makes Watch calls wait until release.
func (c *countingBackend) hold() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gate = make(chan struct{})
}

func (c *countingBackend) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gate != nil {
		close(c.gate)
		c.gate = nil
	}
}

// isClosedErr reports whether err wraps backend.ErrClosed.
func isClosedErr(err error) bool { return errors.Is(err, backend.ErrClosed) }
