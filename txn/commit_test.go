package txn_test

import (
	"context"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"gotest.tools/v3/assert"
)

// captured runs fn and returns the commit it sent.
func captured(t *testing.T, b backend.Backend, fn func(*txn.Txn) error) (backend.Txn, int64) {
	t.Helper()
	w := wrap(b)
	var got backend.Txn
	w.commitHook = func(c backend.Txn) (bool, backend.TxnResult, error) {
		got = c
		return false, backend.TxnResult{}, nil
	}
	var snap int64
	err := txn.Run(context.Background(), w, func(t *txn.Txn) error {
		err := fn(t)
		snap = t.Revision()
		return err
	})
	assert.NilError(t, err)
	assert.Equal(t, w.commits.Load(), int64(1))
	return got, snap
}

func kv(t *testing.T, b backend.Backend, path string) backend.KeyValue {
	t.Helper()
	kv, _, err := b.Get(context.Background(), path, 0)
	assert.NilError(t, err)
	return kv
}

func keyCmp(path string, target backend.CompareTarget, op backend.CompareOp, v int64) backend.Compare {
	return backend.Compare{Range: backend.Key(path), Target: target, Op: op, Value: v}
}

func TestCommitShape(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		setup(t, b, "/a", "1", "/l/x", "2", "/l/y", "3", "/r/k", "4", "/v", "5")
		a, lx, ly, v := kv(t, b, "/a"), kv(t, b, "/l/x"), kv(t, b, "/l/y"), kv(t, b, "/v")
		c, s := captured(t, b, func(t *txn.Txn) error {
			for _, p := range []string{"/a", "/a", "/missing"} {
				if _, _, err := t.Get(p); err != nil {
					return err
				}
			}
			for range 2 {
				if _, err := t.List("/l/", txn.ListOptions{}); err != nil {
					return err
				}
			}
			if _, err := t.List("/l/x", txn.ListOptions{}); err != nil { // covered by /l/
				return err
			}
			if _, _, err := t.Get("/l/y"); err != nil { // listed and read
				return err
			}
			if err := t.Delete("/v", txn.DeleteOptions{MustExist: true}); err != nil {
				return err
			}
			if err := t.Put("/a", "2"); err != nil {
				return err
			}
			if err := t.Put("/w", "blind"); err != nil {
				return err
			}
			if err := t.Delete("/r", txn.DeleteOptions{Recursive: true}); err != nil {
				return err
			}
			return t.Put("/r/new", "n") // a put inside the deleted range
		})
		next := s + 1
		// Ranges first, by depth then path; then keys, by path.
		want := []backend.Compare{
			{Range: backend.PrefixAt("/l/", 2), Target: backend.CreateRevision, Op: backend.Less, Value: next},
		}
		for _, r := range backend.Subtree("/r") {
			want = append(want, backend.Compare{Range: r, Target: backend.ModRevision, Op: backend.Less, Value: next})
		}
		want = append(want,
			keyCmp("/a", backend.ModRevision, backend.Equal, a.ModRevision),
			keyCmp("/l/x", backend.CreateRevision, backend.Equal, lx.CreateRevision),
			keyCmp("/l/y", backend.ModRevision, backend.Equal, ly.ModRevision),
			keyCmp("/missing", backend.CreateRevision, backend.Equal, 0),
			keyCmp("/r", backend.ModRevision, backend.Less, next),
			keyCmp("/v", backend.ModRevision, backend.Equal, v.ModRevision),
			keyCmp("/w", backend.ModRevision, backend.Less, next),
		)
		assert.DeepEqual(t, c.If, want)

		var ops []backend.Op
		for _, r := range backend.Subtree("/r")[1:] {
			ops = append(ops, backend.Delete(r))
		}
		ops = append(ops,
			backend.Put("/a", "2", backend.NoLease),
			backend.Delete(backend.Key("/r")),
			backend.Delete(backend.Key("/r/k")),
			backend.Put("/r/new", "n", backend.NoLease),
			backend.Delete(backend.Key("/v")),
			backend.Put("/w", "blind", backend.NoLease),
		)
		assert.DeepEqual(t, c.Then, ops)
		assert.Equal(t, len(c.Else), 0)
	})
}

func TestBlindWritesCommitUnconditionally(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		c, s := captured(t, b, func(t *txn.Txn) error {
			if err := t.Put("/x", "1"); err != nil {
				return err
			}
			return t.Delete("/y", txn.DeleteOptions{Recursive: true})
		})
		assert.Equal(t, s, int64(0))
		assert.Equal(t, len(c.If), 0)
		assert.Equal(t, len(c.Then), 1+1+backend.MaxDepth)
	})
}
