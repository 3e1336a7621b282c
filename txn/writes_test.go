package txn_test

import (
	"context"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestOwnWritesVisible(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/d/a", "1", "/d/b", "2", "/d/b/c", "3", "/d/b/c/e", "4", "/d/bx", "5", "/d/b/f", "6", "/d/bx/y", "7")
		err := txn.Run(ctx, b, func(tx *txn.Txn) error {
			get := func(p string) string {
				v, ok, err := tx.Get(p)
				assert.NilError(t, err)
				if !ok {
					return "<absent>"
				}
				return v
			}
			list := func(p string, o txn.ListOptions) []string {
				keys, err := tx.List(p, o)
				assert.NilError(t, err)
				return keys
			}
			assert.Equal(t, get("/d/a"), "1")
			assert.NilError(t, tx.Put("/d/a", "1a"))
			assert.Equal(t, get("/d/a"), "1a")
			assert.DeepEqual(t, list("/d/", txn.ListOptions{}), []string{"/d/a", "/d/b", "/d/bx"})

			// A recursive delete hides the key and its subtree, not its
			// siblings that share a prefix.
			assert.NilError(t, tx.Delete("/d/b", txn.DeleteOptions{Recursive: true, MustExist: true}))
			assert.Equal(t, get("/d/b"), "<absent>")
			assert.Equal(t, get("/d/b/c"), "<absent>")
			assert.Equal(t, get("/d/b/c/e"), "<absent>")
			assert.DeepEqual(t, list("/d/", txn.ListOptions{Recurse: 3}), []string{"/d/a", "/d/bx", "/d/bx/y"})

			// Re-create inside the deleted subtree.
			assert.NilError(t, tx.Create("/d/b/c", "new"))
			assert.Equal(t, get("/d/b/c"), "new")
			assert.Check(t, is.ErrorIs(tx.Create("/d/b/c", "again"), backend.ErrCollision))
			assert.NilError(t, tx.Update("/d/b/c", "new2"))
			assert.Check(t, is.ErrorIs(tx.Update("/d/b/f", "x"), backend.ErrVanished))
			assert.Check(t, is.ErrorIs(tx.Delete("/d/b/f", txn.DeleteOptions{MustExist: true}), backend.ErrVanished))
			assert.DeepEqual(t, list("/d/b/", txn.ListOptions{Recurse: 1}), []string{"/d/b/c"})

			// Delete then create again.
			assert.NilError(t, tx.Delete("/d/a", txn.DeleteOptions{MustExist: true}))
			assert.Equal(t, get("/d/a"), "<absent>")
			assert.Check(t, is.ErrorIs(tx.Delete("/d/a", txn.DeleteOptions{MustExist: true}), backend.ErrVanished))
			assert.NilError(t, tx.Create("/d/a", "again"))
			assert.NilError(t, tx.Put("/d/n/m", "deep", txn.WithLease(backend.NoLease)))

			kvs, err := tx.ListValues("/d/", txn.ListOptions{Depths: []int{0, 1}})
			assert.NilError(t, err)
			got := map[string]string{}
			var order []string
			for _, kv := range kvs {
				got[kv.Path] = kv.Value
				order = append(order, kv.Path)
			}
			assert.DeepEqual(t, order, []string{"/d/a", "/d/b/c", "/d/bx", "/d/bx/y", "/d/n/m"})
			assert.DeepEqual(t, got, map[string]string{
				"/d/a": "again", "/d/b/c": "new2", "/d/bx": "5", "/d/bx/y": "7", "/d/n/m": "deep",
			})
			return nil
		})
		assert.NilError(t, err)
		assert.DeepEqual(t, dump(t, b, "/d/"), map[string]string{
			"/d/a": "again", "/d/b/c": "new2", "/d/bx": "5", "/d/bx/y": "7", "/d/n/m": "deep",
		})
	})
}

func TestRecursiveDeleteThenRecreateDeep(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/r", "0", "/r/a", "1", "/r/b", "2", "/r/b/c", "3", "/r/b/c/d", "4", "/rx", "5")
		err := txn.Run(ctx, b, func(t *txn.Txn) error {
			if err := t.Delete("/r", txn.DeleteOptions{Recursive: true}); err != nil {
				return err
			}
			// Re-create at two depths of the deleted subtree, and the root.
			if err := t.Create("/r/b", "B"); err != nil {
				return err
			}
			if err := t.Put("/r/b/c/d", "D"); err != nil {
				return err
			}
			return t.Create("/r", "R")
		})
		assert.NilError(t, err)
		assert.DeepEqual(t, dump(t, b, "/r"), map[string]string{
			"/r": "R", "/r/b": "B", "/r/b/c/d": "D", "/rx": "5",
		})
	})
}

func TestCreateUpdateDeleteChecks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/x", "1")
		lease, err := b.Lease(ctx, 30e9)
		assert.NilError(t, err)
		defer func() { _ = lease.Revoke(ctx) }()
		_, err = b.Create(ctx, "/leased", "1", lease.ID())
		assert.NilError(t, err)

		err = txn.Run(ctx, b, func(tx *txn.Txn) error {
			assert.Check(t, is.ErrorIs(tx.Create("/x", "2"), backend.ErrCollision))
			assert.Check(t, is.ErrorIs(tx.Update("/none", "2"), backend.ErrVanished))
			assert.Check(t, is.ErrorIs(tx.Delete("/none", txn.DeleteOptions{MustExist: true}), backend.ErrVanished))
			assert.Check(t, is.ErrorIs(tx.Delete("/none", txn.DeleteOptions{MustExist: true, Recursive: true}), backend.ErrVanished))
			assert.NilError(t, tx.Delete("/none2", txn.DeleteOptions{})) // blind: fine
			assert.NilError(t, tx.Update("/leased", "2"))
			kv, ok, err := tx.GetKV("/leased")
			assert.NilError(t, err)
			assert.Assert(t, ok)
			assert.Equal(t, kv.Lease, lease.ID())
			return tx.Create("/newleased", "n", txn.WithLease(lease.ID()))
		})
		assert.NilError(t, err)
		for _, p := range []string{"/leased", "/newleased"} {
			kv, _, err := b.Get(ctx, p, 0)
			assert.NilError(t, err)
			assert.Equal(t, kv.Lease, lease.ID(), p)
		}
		assert.Equal(t, value(t, b, "/leased"), "2")
		assert.Equal(t, value(t, b, "/x"), "1")
	})
}

func TestRecursiveMustExist(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/t/x/y", "1", "/t/z", "2")
		// /t is absent but has keys below: the delete has something to do.
		err := txn.Run(ctx, b, func(t *txn.Txn) error {
			return t.Delete("/t", txn.DeleteOptions{MustExist: true, Recursive: true})
		})
		assert.NilError(t, err)
		assert.Equal(t, len(dump(t, b, "/t")), 0)

		// The witness below is deleted by someone else after the snapshot:
		// conflict, and the retry finds nothing.
		setup(t, b, "/u/w", "1")
		var st txn.Stats
		first := true
		err = txn.Run(ctx, b, func(t *txn.Txn) error {
			if err := t.Delete("/u", txn.DeleteOptions{MustExist: true, Recursive: true}); err != nil {
				return err
			}
			if first {
				first = false
				_, err := b.Delete(ctx, "/u/w", backend.DeleteOptions{MustExist: true})
				return err
			}
			return nil
		}, txn.WithStats(&st), noBackOff())
		assert.ErrorIs(t, err, backend.ErrVanished)
		assert.Equal(t, st.Conflicts, 1)
	})
}

func TestRecursiveDeleteDetectsCreateBelow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/pin", "p", "/r/a", "1")
		var st txn.Stats
		first := true
		err := txn.Run(ctx, b, func(t *txn.Txn) error {
			if _, _, err := t.Get("/pin"); err != nil {
				return err
			}
			if err := t.Delete("/r", txn.DeleteOptions{Recursive: true}); err != nil {
				return err
			}
			if err := t.Put("/r/a", "kept"); err != nil { // forces per-key deletes
				return err
			}
			if first {
				first = false
				_, err := b.Create(ctx, "/r/b/c", "theirs", backend.NoLease)
				return err
			}
			return nil
		}, txn.WithStats(&st), noBackOff())
		assert.NilError(t, err)
		assert.Equal(t, st.Conflicts, 1)
		assert.DeepEqual(t, dump(t, b, "/r"), map[string]string{"/r/a": "kept"})
	})
}

func TestUntrackedList(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/u/a", "1")
		w := wrap(b)
		var hooked []backend.Range
		var st txn.Stats
		first := true
		var seen []backend.KeyValue
		err := txn.Run(ctx, w, func(t *txn.Txn) error {
			if err := t.Put("/u/own", "o"); err != nil {
				return err
			}
			kvs, err := t.ListValues("/u/", txn.ListOptions{Untracked: true})
			if err != nil {
				return err
			}
			seen = kvs
			if first {
				first = false
				if _, err := b.Create(ctx, "/u/b", "2", backend.NoLease); err != nil {
					return err
				}
				if _, err := b.Update(ctx, "/u/a", "changed"); err != nil {
					return err
				}
			}
			return t.Put("/out", "x")
		}, txn.WithStats(&st), txn.WithReadHook(func(r backend.Range) { hooked = append(hooked, r) }))
		assert.NilError(t, err)
		assert.Equal(t, st.Conflicts, 0)
		assert.Equal(t, len(hooked), 0)
		assert.Equal(t, len(seen), 2)
		assert.Equal(t, seen[0].Path, "/u/a")
		assert.Equal(t, seen[0].Value, "1") // the snapshot's value
		assert.Equal(t, seen[1].Path, "/u/own")
	})
}

func TestReaderAndReadHook(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/a", "1", "/l/x", "2", "/l/x/y", "3")
		w := wrap(b)
		r := wrap(b)
		var hooked []backend.Range
		err := txn.Run(ctx, w, func(t *txn.Txn) error {
			for range 2 {
				if _, _, err := t.Get("/a"); err != nil {
					return err
				}
			}
			if _, err := t.List("/l/", txn.ListOptions{Recurse: 1}); err != nil {
				return err
			}
			if _, err := t.ListValues("/l/", txn.ListOptions{}); err != nil {
				return err
			}
			if _, err := t.List("/other/", txn.ListOptions{Untracked: true}); err != nil {
				return err
			}
			if err := t.Put("/a", "x"); err != nil {
				return err
			}
			if _, _, err := t.Get("/a"); err != nil { // own write: no read
				return err
			}
			if _, _, err := t.Get("/l/x"); err != nil { // inside a hooked range
				return err
			}
			return t.Create("/new", "n")
		}, txn.WithReader(r), txn.WithReadHook(func(r backend.Range) { hooked = append(hooked, r) }))
		assert.NilError(t, err)
		assert.DeepEqual(t, hooked, []backend.Range{
			backend.Key("/a"), backend.PrefixAt("/l/", 2), backend.PrefixAt("/l/", 3), backend.Key("/new"),
		})
		assert.Equal(t, w.gets.Load()+w.lists.Load(), int64(0))
		assert.Equal(t, w.commits.Load(), int64(1))
		assert.Equal(t, r.gets.Load(), int64(2)) // /a once, /new; /l/x came with ListValues
		assert.Equal(t, r.lists.Load(), int64(3))
		assert.Equal(t, r.commits.Load(), int64(0))
		assert.Equal(t, value(t, b, "/a"), "x")
	})
}

func TestListedKeysNeedNoReread(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/l/a", "1", "/l/b", "2")
		w := wrap(b)
		err := txn.Run(ctx, w, func(tx *txn.Txn) error {
			if _, err := tx.List("/l/", txn.ListOptions{}); err != nil {
				return err
			}
			assert.Check(t, is.ErrorIs(tx.Create("/l/a", "x"), backend.ErrCollision))
			return tx.Delete("/l/b", txn.DeleteOptions{MustExist: true})
		})
		assert.NilError(t, err)
		assert.Equal(t, w.gets.Load(), int64(0))
		assert.Equal(t, w.lists.Load(), int64(1))
		assert.DeepEqual(t, dump(t, b, "/l/"), map[string]string{"/l/a": "1"})
	})
}
