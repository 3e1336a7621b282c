package txn_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// increment adds one to the integer at path (absent counts as 0).
func increment(path string) func(*txn.Txn) error {
	return func(t *txn.Txn) error {
		v, ok, err := t.Get(path)
		if err != nil {
			return err
		}
		n := 0
		if ok {
			if n, err = strconv.Atoi(v); err != nil {
				return err
			}
		}
		return t.Put(path, strconv.Itoa(n+1))
	}
}

func TestConcurrentIncrements(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		const workers, each = 16, 8
		ctx := context.Background()
		// Yield between the read and the write, so that attempts interleave
		// even on a fast backend.
		fn := func(t *txn.Txn) error {
			v, ok, err := t.Get("/counter")
			if err != nil {
				return err
			}
			runtime.Gosched()
			n := 0
			if ok {
				if n, err = strconv.Atoi(v); err != nil {
					return err
				}
			}
			return t.Put("/counter", strconv.Itoa(n+1))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		revs := map[int64]int{}
		conflicts := 0
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					var st txn.Stats
					err := txn.Run(ctx, b, fn, txn.WithStats(&st), txn.WithMaxAttempts(1000))
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					revs[st.Revision]++
					conflicts += st.Conflicts
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, len(errs), 0, "%v", errs)
		assert.Equal(t, len(revs), workers*each, "commits sharing a revision")
		assert.Equal(t, value(t, b, "/counter"), strconv.Itoa(workers*each))
		t.Logf("%d conflicts", conflicts)
	})
}

func TestListThenCreateRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		// Each txn lists /q/ and creates its own key only if /q/ is empty.
		// Both list before either commits, so the second to commit must
		// see the other's key on its retry and create nothing.
		listed := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		created := [2]bool{}
		stats := [2]txn.Stats{}
		var wg sync.WaitGroup
		errs := [2]error{}
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first := true
				errs[i] = txn.Run(ctx, b, func(t *txn.Txn) error {
					keys, err := t.List("/q/", txn.ListOptions{})
					if err != nil {
						return err
					}
					if first {
						first = false
						close(listed[i])
						<-listed[1-i]
					}
					if len(keys) > 0 {
						return nil
					}
					t.OnCommit(func() { created[i] = true })
					return t.Create(fmt.Sprintf("/q/%d", i), "x")
				}, txn.WithStats(&stats[i]), noBackOff())
			}()
		}
		wg.Wait()
		assert.NilError(t, errs[0])
		assert.NilError(t, errs[1])
		assert.Assert(t, created[0] != created[1], "created: %v", created)
		assert.Equal(t, len(dump(t, b, "/q/")), 1)
		assert.Equal(t, stats[0].Conflicts+stats[1].Conflicts, 1)
	})
}

func TestReadKeyDeletedByOtherConflicts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/a", "1")
		var st txn.Stats
		err := txn.Run(ctx, b, func(t *txn.Txn) error {
			v, ok, err := t.Get("/a")
			if err != nil {
				return err
			}
			if ok {
				// Another client deletes /a after this attempt read it.
				if _, err := b.Delete(ctx, "/a", backend.DeleteOptions{}); err != nil {
					return err
				}
			} else {
				v = "none"
			}
			return t.Put("/b", v)
		}, txn.WithStats(&st), noBackOff())
		assert.NilError(t, err)
		assert.Equal(t, st.Attempts, 2)
		assert.Equal(t, st.Conflicts, 1)
		assert.Equal(t, value(t, b, "/b"), "none")
	})
}

func TestListedKeyDeletedByOtherConflicts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/l/a", "1", "/l/b", "2")
		var st txn.Stats
		var seen []string
		first := true
		err := txn.Run(ctx, b, func(t *txn.Txn) error {
			keys, err := t.List("/l/", txn.ListOptions{})
			if err != nil {
				return err
			}
			seen = keys
			if first {
				first = false
				if _, err := b.Delete(ctx, "/l/a", backend.DeleteOptions{MustExist: true}); err != nil {
					return err
				}
			}
			return t.Put("/count", strconv.Itoa(len(keys)))
		}, txn.WithStats(&st), noBackOff())
		assert.NilError(t, err)
		assert.Equal(t, st.Conflicts, 1)
		assert.DeepEqual(t, seen, []string{"/l/b"})
		assert.Equal(t, value(t, b, "/count"), "1")
	})
}

func TestValueChangeOfListedKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/l/a", "1")
		for _, values := range []bool{false, true} {
			var st txn.Stats
			first := true
			err := txn.Run(ctx, b, func(t *txn.Txn) error {
				var err error
				if values {
					_, err = t.ListValues("/l/", txn.ListOptions{})
				} else {
					_, err = t.List("/l/", txn.ListOptions{})
				}
				if err != nil {
					return err
				}
				if first {
					first = false
					if _, err := b.Update(ctx, "/l/a", "changed"); err != nil {
						return err
					}
				}
				return t.Put("/out", "x")
			}, txn.WithStats(&st), noBackOff())
			assert.NilError(t, err)
			// List only observed names: a value change is no conflict.
			// ListValues observed values: it is.
			want := 0
			if values {
				want = 1
			}
			assert.Equal(t, st.Conflicts, want, "ListValues=%v", values)
		}
	})
}

func TestWriteWriteConflict(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/x", "1")
		var st txn.Stats
		first := true
		err := txn.Run(ctx, b, func(t *txn.Txn) error {
			if _, _, err := t.Get("/x"); err != nil {
				return err
			}
			if first {
				first = false
				// Someone else writes /w after our snapshot: first
				// committer wins, we retry.
				if _, err := b.Create(ctx, "/w", "theirs", backend.NoLease); err != nil {
					return err
				}
			}
			return t.Put("/w", "ours")
		}, txn.WithStats(&st), noBackOff())
		assert.NilError(t, err)
		assert.Equal(t, st.Conflicts, 1)
		assert.Equal(t, value(t, b, "/w"), "ours")
	})
}

func TestReadOnlyMakesNoCommit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/a", "1", "/d/x", "2")
		rev, err := b.Revision(ctx)
		assert.NilError(t, err)
		w := wrap(b)
		var st txn.Stats
		var got string
		err = txn.Run(ctx, w, func(t *txn.Txn) error {
			v, _, err := t.Get("/a")
			got = v
			if err != nil {
				return err
			}
			if _, _, err := t.Get("/missing"); err != nil {
				return err
			}
			_, err = t.List("/d/", txn.ListOptions{})
			return err
		}, txn.WithStats(&st))
		assert.NilError(t, err)
		assert.Equal(t, got, "1")
		assert.Equal(t, w.commits.Load(), int64(0))
		assert.Equal(t, w.gets.Load(), int64(2))
		assert.Equal(t, w.lists.Load(), int64(1))
		assert.Equal(t, st.Revision, rev)
		assert.Equal(t, st.Attempts, 1)
	})
}

func TestCancelStopsRetries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := wrap(b)
		committed := make(chan struct{}, 1)
		w.commitHook = func(backend.Txn) (bool, backend.TxnResult, error) {
			select {
			case committed <- struct{}{}:
			default:
			}
			return true, backend.TxnResult{}, nil
		}
		go func() {
			<-committed
			cancel()
		}()
		var st txn.Stats
		// An hour of back-off: Run returns only if it honours ctx at once.
		err := txn.Run(ctx, w, increment("/k"), txn.WithStats(&st),
			txn.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(time.Hour) }))
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, st.Attempts, 1)
		assert.Equal(t, st.Conflicts, 1)

		// A context ended before Run: fn never runs.
		called := false
		err = txn.Run(ctx, b, func(*txn.Txn) error { called = true; return nil })
		assert.ErrorIs(t, err, context.Canceled)
		assert.Assert(t, !called)
	})
}

func TestPanicPropagates(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		got := func() (r any) {
			defer func() { r = recover() }()
			_ = txn.Run(context.Background(), b, func(t *txn.Txn) error {
				if err := t.Put("/p", "x"); err != nil {
					return err
				}
				panic("boom")
			})
			return nil
		}()
		assert.Equal(t, got, "boom")
		assert.Equal(t, value(t, b, "/p"), "<absent>")
	})
}

func TestTooManyRetries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		t.Run("commits fail", func(t *testing.T) {
			w := wrap(b)
			w.failCommits()
			var st txn.Stats
			err := txn.Run(ctx, w, increment("/k"), txn.WithMaxAttempts(3), txn.WithStats(&st), noBackOff())
			assert.ErrorIs(t, err, txn.ErrTooManyRetries)
			assert.ErrorIs(t, err, txn.ErrConflict)
			var ce *txn.ConflictError
			assert.Assert(t, errors.As(err, &ce))
			assert.Equal(t, ce.Path, "/k") // the only key compared
			assert.Equal(t, st, txn.Stats{Attempts: 3, Conflicts: 3})
			assert.Equal(t, w.commits.Load(), int64(3))
		})
		t.Run("concurrent writer", func(t *testing.T) {
			setup(t, b, "/c", "0")
			var st txn.Stats
			err := txn.Run(ctx, b, func(t *txn.Txn) error {
				if err := increment("/c")(t); err != nil {
					return err
				}
				// Another client writes /c after every snapshot.
				_, err := b.Update(ctx, "/c", "100")
				return err
			}, txn.WithMaxAttempts(4), txn.WithStats(&st), noBackOff())
			assert.ErrorIs(t, err, txn.ErrTooManyRetries)
			assert.ErrorIs(t, err, txn.ErrConflict)
			assert.Equal(t, st, txn.Stats{Attempts: 4, Conflicts: 4})
			assert.Equal(t, value(t, b, "/c"), "100")
		})
		t.Run("blames the changed key", func(t *testing.T) {
			setup(t, b, "/blame/a", "1", "/blame/b", "2")
			err := txn.Run(ctx, b, func(t *txn.Txn) error {
				for _, p := range []string{"/blame/a", "/blame/b"} {
					if _, _, err := t.Get(p); err != nil {
						return err
					}
				}
				if _, err := b.Update(ctx, "/blame/b", "changed"); err != nil {
					return err
				}
				return t.Put("/blame/out", "x")
			}, txn.WithMaxAttempts(2), noBackOff())
			assert.ErrorIs(t, err, txn.ErrTooManyRetries)
			var ce *txn.ConflictError
			assert.Assert(t, errors.As(err, &ce))
			assert.Equal(t, ce.Path, "/blame/b")
		})
		t.Run("blames the created key", func(t *testing.T) {
			n := 0
			err := txn.Run(ctx, b, func(t *txn.Txn) error {
				if _, err := t.List("/blist/", txn.ListOptions{}); err != nil {
					return err
				}
				if _, _, err := t.Get("/blist-other"); err != nil {
					return err
				}
				n++
				if _, err := b.Create(ctx, fmt.Sprintf("/blist/k%d", n), "x", backend.NoLease); err != nil {
					return err
				}
				return t.Put("/blist-out", "x")
			}, txn.WithMaxAttempts(2), noBackOff())
			assert.ErrorIs(t, err, txn.ErrTooManyRetries)
			var ce *txn.ConflictError
			assert.Assert(t, errors.As(err, &ce))
			assert.Equal(t, ce.Path, "/blist/k2")
			assert.ErrorContains(t, err, `txn: too many retries after 2 attempts: txn: conflict on "/blist/k2" at snapshot`)
		})
		t.Run("backoff stops", func(t *testing.T) {
			w := wrap(b)
			w.failCommits()
			var st txn.Stats
			err := txn.Run(ctx, w, increment("/k"), txn.WithStats(&st),
				txn.WithBackOff(func() backoff.BackOff { return backoff.WithMaxRetries(&backoff.ZeroBackOff{}, 1) }))
			assert.ErrorIs(t, err, txn.ErrTooManyRetries)
			assert.Equal(t, st, txn.Stats{Attempts: 2, Conflicts: 2})
		})
	})
}

func TestFnErrorAborts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		w := wrap(b)
		mine := errors.New("mine")
		var st txn.Stats
		err := txn.Run(ctx, w, func(t *txn.Txn) error {
			if err := t.Put("/e", "x"); err != nil {
				return err
			}
			return mine
		}, txn.WithStats(&st))
		assert.Equal(t, err, mine)
		assert.Equal(t, st.Attempts, 1)
		assert.Equal(t, w.commits.Load(), int64(0))
		assert.Equal(t, value(t, b, "/e"), "<absent>")

		// An error that wraps ErrConflict (say, from a nested Run) is
		// still fn's own: returned as is, not retried.
		nested := fmt.Errorf("nested: %w", &txn.ConflictError{Path: "/n"})
		err = txn.Run(ctx, w, func(*txn.Txn) error { return nested }, txn.WithStats(&st))
		assert.Equal(t, err, nested)
		assert.Equal(t, st.Attempts, 1)
	})
}

func TestReadErrorPreventsCommit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		w := wrap(b)
		w.getErr = backend.ErrUnavailable
		var st txn.Stats
		err := txn.Run(context.Background(), w, func(t *txn.Txn) error {
			// fn ignores the error and would create on "absent".
			if _, ok, _ := t.Get("/g"); !ok {
				return t.Put("/g", "x")
			}
			return nil
		}, txn.WithStats(&st))
		assert.ErrorIs(t, err, backend.ErrUnavailable)
		assert.Equal(t, st.Attempts, 1)
		assert.Equal(t, w.commits.Load(), int64(0))
		assert.Equal(t, value(t, b, "/g"), "<absent>")
	})
}

func TestIndeterminateNotRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		w := wrap(b)
		w.commitHook = func(backend.Txn) (bool, backend.TxnResult, error) {
			return true, backend.TxnResult{}, backend.WrapPath("commit", "/i", backend.ErrIndeterminate)
		}
		var st txn.Stats
		called := false
		err := txn.Run(context.Background(), w, func(t *txn.Txn) error {
			t.OnCommit(func() { called = true })
			return t.Put("/i", "x")
		}, txn.WithStats(&st))
		assert.ErrorIs(t, err, backend.ErrIndeterminate)
		assert.Equal(t, st.Attempts, 1)
		assert.Equal(t, w.commits.Load(), int64(1))
		assert.Assert(t, !called)
	})
}

func TestOnCommitOnlyForCommittedAttempt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		var calls []string
		attempt := 0
		var st txn.Stats
		err := txn.Run(ctx, b, func(t *txn.Txn) error {
			attempt++
			a := attempt
			t.OnCommit(func() { calls = append(calls, fmt.Sprintf("%d-first", a)) })
			if err := increment("/o")(t); err != nil {
				return err
			}
			t.OnCommit(func() { calls = append(calls, fmt.Sprintf("%d-second", a)) })
			if a == 1 {
				_, err := b.Create(ctx, "/o", "7", backend.NoLease)
				return err
			}
			return nil
		}, txn.WithStats(&st), noBackOff())
		assert.NilError(t, err)
		assert.DeepEqual(t, calls, []string{"2-first", "2-second"})
		assert.Equal(t, value(t, b, "/o"), "8")
		rev, err := b.Revision(ctx)
		assert.NilError(t, err)
		assert.Equal(t, st.Revision, rev)
	})
}

func TestCompactedSnapshotRestarts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/a", "1", "/b", "2")
		var st txn.Stats
		var readErr error
		attempt := 0
		err := txn.Run(ctx, b, func(t *txn.Txn) error {
			attempt++
			a, _, err := t.Get("/a")
			if err != nil {
				return err
			}
			if attempt == 1 {
				// Move on and compact away this attempt's snapshot.
				rev, err := b.Update(ctx, "/a", "10")
				if err != nil {
					return err
				}
				if err := b.Compact(ctx, rev); err != nil {
					return err
				}
			}
			bv, _, err := t.Get("/b")
			if attempt == 1 {
				readErr = err
				// Ignoring the error must not let the attempt commit.
				return t.Put("/sum", a+"+"+bv)
			}
			if err != nil {
				return err
			}
			return t.Put("/sum", a+"+"+bv)
		}, txn.WithStats(&st), noBackOff())
		assert.NilError(t, err)
		assert.ErrorIs(t, readErr, backend.ErrCompacted)
		assert.ErrorIs(t, readErr, txn.ErrConflict)
		assert.Equal(t, st.Conflicts, 1)
		assert.Equal(t, value(t, b, "/sum"), "10+2")
	})
}

func TestSnapshotOption(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		rev1, err := b.Create(ctx, "/s", "v1", backend.NoLease)
		assert.NilError(t, err)
		_, err = b.Update(ctx, "/s", "v2")
		assert.NilError(t, err)

		var st txn.Stats
		var seen []string
		var revs []int64
		read := func(t *txn.Txn) (string, error) {
			revs = append(revs, t.Revision())
			v, _, err := t.Get("/s")
			seen = append(seen, v)
			return v, err
		}
		err = txn.Run(ctx, b, func(t *txn.Txn) error {
			_, err := read(t)
			return err
		}, txn.WithSnapshot(rev1), txn.WithStats(&st))
		assert.NilError(t, err)
		assert.DeepEqual(t, seen, []string{"v1"})
		assert.DeepEqual(t, revs, []int64{rev1})
		assert.Equal(t, st.Revision, rev1)

		// A write based on the old snapshot conflicts; the retry reads the
		// newest revision.
		seen, revs = nil, nil
		err = txn.Run(ctx, b, func(t *txn.Txn) error {
			v, err := read(t)
			if err != nil {
				return err
			}
			return t.Put("/copy", v)
		}, txn.WithSnapshot(rev1), txn.WithStats(&st), noBackOff())
		assert.NilError(t, err)
		assert.DeepEqual(t, seen, []string{"v1", "v2"})
		assert.DeepEqual(t, revs, []int64{rev1, 0})
		assert.Equal(t, st.Conflicts, 1)
		assert.Equal(t, value(t, b, "/copy"), "v2")
	})
}

func TestTooLarge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		limit := txn.DefaultMaxTxnOps
		if l, ok := b.(backend.Limiter); ok {
			limit = l.MaxTxnOps()
		}
		w := wrap(b)
		var st txn.Stats
		err := txn.Run(ctx, w, func(t *txn.Txn) error {
			for i := range limit + 1 {
				if err := t.Put(fmt.Sprintf("/big/%04d", i), "x"); err != nil {
					return err
				}
			}
			return nil
		}, txn.WithStats(&st))
		assert.ErrorIs(t, err, backend.ErrTxnTooLarge)
		var pe *backend.PathError
		assert.Assert(t, errors.As(err, &pe))
		assert.Equal(t, pe.Path, fmt.Sprintf("/big/%04d", limit))
		assert.Equal(t, st.Attempts, 1)
		assert.Equal(t, w.commits.Load(), int64(0))
		assert.Equal(t, len(dump(t, b, "/big/")), 0)

		// Compares count too: a txn that read limit+1 keys and writes one.
		err = txn.Run(ctx, w, func(t *txn.Txn) error {
			for i := range limit + 1 {
				if _, _, err := t.Get(fmt.Sprintf("/r/%04d", i)); err != nil {
					return err
				}
			}
			return t.Put("/big/x", "x")
		})
		assert.ErrorIs(t, err, backend.ErrTxnTooLarge)
		assert.Equal(t, w.commits.Load(), int64(0))
		assert.Equal(t, value(t, b, "/big/x"), "<absent>")

		// Exactly the limit fits.
		err = txn.Run(ctx, w, func(t *txn.Txn) error {
			for i := range limit {
				if err := t.Put(fmt.Sprintf("/big/%04d", i), "x"); err != nil {
					return err
				}
			}
			return nil
		})
		assert.NilError(t, err)
		assert.Equal(t, len(dump(t, b, "/big/")), limit)
	})
}

func TestInvalidArgumentsBeforeIO(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		w := wrap(b)
		err := txn.Run(context.Background(), w, func(tx *txn.Txn) error {
			_, _, err := tx.Get("no-slash")
			assert.Check(t, is.ErrorIs(err, backend.ErrInvalidPath))
			_, _, err = tx.GetKV("/trailing/")
			assert.Check(t, is.ErrorIs(err, backend.ErrInvalidPath))
			_, err = tx.List("", txn.ListOptions{})
			assert.Check(t, is.ErrorIs(err, backend.ErrInvalidPath))
			_, err = tx.ListValues("//x", txn.ListOptions{})
			assert.Check(t, is.ErrorIs(err, backend.ErrInvalidPath))
			assert.Check(t, is.ErrorIs(tx.Create("/a\nb", "x"), backend.ErrInvalidPath))
			assert.Check(t, is.ErrorIs(tx.Update("/", "x"), backend.ErrInvalidPath))
			assert.Check(t, is.ErrorIs(tx.Put("/a//b", "x"), backend.ErrInvalidPath))
			assert.Check(t, is.ErrorIs(tx.Delete("x", txn.DeleteOptions{MustExist: true}), backend.ErrInvalidPath))
			assert.Check(t, is.ErrorIs(tx.Create("/v", "\xff"), backend.ErrInvalidValue))
			assert.Check(t, is.ErrorIs(tx.Update("/v", "\xfe"), backend.ErrInvalidValue))
			assert.Check(t, is.ErrorIs(tx.Put("/v", "ok\xc3"), backend.ErrInvalidValue))
			_, err = tx.List("/x/", txn.ListOptions{Recurse: -1})
			assert.Check(t, err != nil)
			_, err = tx.List("/x/", txn.ListOptions{Depths: []int{0, -2}})
			assert.Check(t, err != nil)
			return nil
		})
		assert.NilError(t, err)
		assert.Equal(t, w.gets.Load()+w.lists.Load()+w.commits.Load(), int64(0))
	})
}
