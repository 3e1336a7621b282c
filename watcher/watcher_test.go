package watcher_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

func TestWakesOnChangeOfAReadKey(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPut(t, s, "/a", "1")
		l := startLoop(t, watcher.New(s, watcher.Options{}), getAll("/a", "/missing"))
		w := l.next(t)
		assert.Equal(t, w.reason, watcher.FirstRun)
		assert.DeepEqual(t, w.vals, []string{"/a=1", "/missing absent"})

		mustPut(t, s, "/a", "2")
		w = l.next(t)
		assert.Equal(t, w.reason, watcher.Changed)
		assert.DeepEqual(t, w.vals, []string{"/a=2", "/missing absent"})

		// A key read while absent wakes the loop when it is created.
		mustPut(t, s, "/missing", "here")
		w = l.next(t)
		assert.Equal(t, w.reason, watcher.Changed)
		assert.DeepEqual(t, w.vals, []string{"/a=2", "/missing=here"})
		assert.Equal(t, l.w.Stats().Streams, int64(1))
	})
}

func TestWakesOnKeyCreatedInListedRange(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPut(t, s, "/pb/a", "1")
		l := startLoop(t, watcher.New(s, watcher.Options{}), listValues("/pb/"))
		assert.DeepEqual(t, l.next(t).vals, []string{"/pb/a=1"})

		mustPut(t, s, "/pb/b", "2")
		w := l.next(t)
		assert.Equal(t, w.reason, watcher.Changed)
		assert.DeepEqual(t, w.vals, []string{"/pb/a=1", "/pb/b=2"})

		// A key deeper than the listed depth is not in the range.
		mustPut(t, s, "/pb/a/state", "x")
		mustPut(t, s, "/pb/c", "3")
		w = l.next(t)
		assert.Equal(t, w.reason, watcher.Changed)
		assert.DeepEqual(t, w.vals, []string{"/pb/a=1", "/pb/b=2", "/pb/c=3"})

		mustDelete(t, s, "/pb/a")
		w = l.next(t)
		assert.Equal(t, w.reason, watcher.Changed)
		assert.DeepEqual(t, w.vals, []string{"/pb/b=2", "/pb/c=3"})
	})
}

func TestWakesOnDelete(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPut(t, s, "/a", "1")
		l := startLoop(t, watcher.New(s, watcher.Options{}), getAll("/a"))
		assert.DeepEqual(t, l.next(t).vals, []string{"/a=1"})
		mustDelete(t, s, "/a")
		w := l.next(t)
		assert.Equal(t, w.reason, watcher.Changed)
		assert.DeepEqual(t, w.vals, []string{"/a absent"})
	})
}

// A change of a key no transaction read does not wake the loop: the wait
// ends on the timeout. The unrelated write is applied to the cache before
// the wait starts, so that a wrong wake could not be missed.
func TestNoWakeOnUnrelatedKeys(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPut(t, s, "/a", "1")
		mustPut(t, s, "/pb/x", "1")
		w := watcher.New(s, watcher.Options{Timeout: 300 * time.Millisecond})
		ctx := testCtx(t)
		var reasons []watcher.Reason
		err := w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
			reasons = append(reasons, it.Reason())
			err := it.Txn(ctx, func(t *txn.Txn) error {
				if _, _, err := t.Get("/a"); err != nil {
					return err
				}
				_, err := t.List("/pb/", txn.ListOptions{})
				return err
			})
			if err != nil {
				return err
			}
			if len(reasons) == 3 {
				return errStop
			}
			// Unrelated: another key, a deeper level, a sibling prefix.
			mustPut(t, s, "/b", "x")
			mustPut(t, s, "/pb/x/deeper", "x")
			rev := mustPut(t, s, "/pbx", "x")
			return it.WaitRevision(ctx, rev)
		})
		assert.Assert(t, errors.Is(err, errStop), "%v", err)
		assert.DeepEqual(t, reasons, []watcher.Reason{watcher.FirstRun, watcher.TimedOut, watcher.TimedOut})
	})
}

func TestTriggerFromAnotherGoroutine(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		w := watcher.New(s, watcher.Options{})
		l := startLoop(t, w, getAll("/a"))
		assert.Equal(t, l.next(t).reason, watcher.FirstRun)
		go w.Trigger()
		assert.Equal(t, l.next(t).reason, watcher.Triggered)
		// Triggers while waiting merge into one iteration at most.
		w.Trigger()
		w.Trigger()
		it := l.next(t)
		assert.Equal(t, it.reason, watcher.Triggered)
		assert.Equal(t, it.n, 3)
	})
}

func TestTriggerDuringBodyRunsAgain(t *testing.T) {
	s := openLoopMemory(t)
	w := watcher.New(s, watcher.Options{})
	var reasons []watcher.Reason
	err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
		reasons = append(reasons, it.Reason())
		if it.N() == 1 {
			w.Trigger()
			return nil
		}
		return errStop
	})
	assert.Assert(t, errors.Is(err, errStop))
	assert.DeepEqual(t, reasons, []watcher.Reason{watcher.FirstRun, watcher.Triggered})
}

// A trigger that comes together with a change is not lost: the iteration
// reports the change as its Reason and the trigger through Triggered, and
// no further iteration is owed.
func TestTriggerWithChangeIsReported(t *testing.T) {
	s := openLoopMemory(t)
	mustPut(t, s, "/a", "0")
	w := watcher.New(s, watcher.Options{Timeout: 200 * time.Millisecond})
	type seen struct {
		reason    watcher.Reason
		triggered bool
	}
	var got []seen
	err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
		got = append(got, seen{it.Reason(), it.Triggered()})
		if it.N() == 3 {
			return errStop
		}
		if err := it.Txn(ctx, func(t *txn.Txn) error {
			_, _, err := t.Get("/a")
			return err
		}); err != nil {
			return err
		}
		if it.N() == 1 {
			rev := mustPut(t, s, "/a", "1")
			w.Trigger()
			return it.WaitRevision(ctx, rev)
		}
		return nil
	})
	assert.Assert(t, errors.Is(err, errStop), "%v", err)
	assert.DeepEqual(t, got, []seen{
		{watcher.FirstRun, false},
		{watcher.Changed, true},
		{watcher.TimedOut, false},
	}, cmp.AllowUnexported(seen{}))
}

var errStop = errors.New("stop")

func TestTimeout(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		l := startLoop(t, watcher.New(s, watcher.Options{Timeout: 20 * time.Millisecond}), getAll("/a"))
		assert.Equal(t, l.next(t).reason, watcher.FirstRun)
		assert.Equal(t, l.next(t).reason, watcher.TimedOut)
		assert.Equal(t, l.next(t).reason, watcher.TimedOut)
	})
}

// A change that lands after the transaction read the key but before the
// loop starts waiting still wakes it.
func TestChangeBetweenReadAndWaitWakes(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPut(t, s, "/a", "0")
		w := watcher.New(s, watcher.Options{})
		var seen []string
		err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
			var v string
			err := it.Txn(ctx, func(t *txn.Txn) error {
				var err error
				v, _, err = t.Get("/a")
				return err
			})
			if err != nil {
				return err
			}
			seen = append(seen, it.Reason().String()+" "+v)
			if v == "2" {
				return errStop
			}
			n, _ := strconv.Atoi(v)
			mustPut(t, s, "/a", strconv.Itoa(n+1))
			return nil
		})
		assert.Assert(t, errors.Is(err, errStop))
		assert.DeepEqual(t, seen, []string{"FirstRun 0", "Changed 1", "Changed 2"})
	})
}

// Every read of a watcher transaction is at one revision, even when the
// cache moves on in the middle of the transaction, for keys cached before
// it and keys loaded during it; two keys written in one commit are seen
// together.
func TestReadsAtOneRevision(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPutAll(t, s, "/x", "0", "/y", "0", "/z", "0")
		w := watcher.New(s, watcher.Options{})
		var got []string
		err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
			if it.N() == 1 {
				w.Trigger()
				return it.Txn(ctx, func(t *txn.Txn) error { _, _, err := t.Get("/y"); return err })
			}
			written := it.N() == 3
			err := it.Txn(ctx, func(tx *txn.Txn) error {
				x, _, err := tx.Get("/x")
				if err != nil {
					return err
				}
				if !written {
					written = true
					v := strconv.Itoa(it.N())
					rev := mustPutAll(t, s, "/x", v, "/y", v, "/z", v)
					if err := it.WaitRevision(ctx, rev); err != nil {
						return err
					}
				}
				y, _, err := tx.Get("/y") // cached by iteration 1
				if err != nil {
					return err
				}
				z, _, err := tx.Get("/z") // loaded now, at the snapshot
				if err != nil {
					return err
				}
				got = append(got, x+y+z)
				return nil
			})
			if err == nil && it.N() == 3 {
				return errStop
			}
			return err
		})
		assert.Assert(t, errors.Is(err, errStop))
		// Iteration 2 read the state before its own write; iteration 3 was
		// woken by that write (Changed) and saw all three keys together.
		assert.DeepEqual(t, got, []string{"000", "222"})
	})
}

// A non-watched read (an untracked list) does not wake the loop, but is
// served fresh: the cache follows the whole store.
func TestNonWatchedReadIsRefreshed(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPut(t, s, "/u/x", "old")
		w := watcher.New(s, watcher.Options{Timeout: 200 * time.Millisecond})
		l := startLoop(t, w, func(t *txn.Txn) ([]string, error) {
			kvs, err := t.ListValues("/u/", txn.ListOptions{Untracked: true})
			if err != nil || len(kvs) != 1 {
				return nil, err
			}
			return []string{kvs[0].Value}, nil
		})
		assert.DeepEqual(t, l.next(t).vals, []string{"old"})
		mustPut(t, s, "/u/x", "new")
		for {
			it := l.next(t)
			assert.Equal(t, it.reason, watcher.TimedOut)
			if it.vals[0] == "new" {
				break
			}
		}
	})
}

// With no event at all for it (a key deeper than the stream covers), the
// cache's revision still reaches the store's, within RequeryProgress.
func TestRevisionProgressesWithoutEvents(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		w := watcher.New(s, watcher.Options{RequeryProgress: 10 * time.Millisecond})
		l := startLoop(t, w, getAll("/a"))
		l.next(t)
		deep := "/d" + strings.Repeat("/s", 40)
		rev := mustPut(t, s, deep, "x")
		sdptest.WaitFor(t, "the cache revision to reach the store's", func() bool { return w.Stats().Revision >= rev })
	})
}

func TestDeepReadFails(t *testing.T) {
	s := openLoopMemory(t)
	w := watcher.New(s, watcher.Options{})
	deep := "/d" + strings.Repeat("/s", 40)
	err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
		return it.Txn(ctx, func(t *txn.Txn) error { _, _, err := t.Get(deep); return err })
	})
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
	assert.ErrorContains(t, err, deep)
}

// A body that writes sees its own writes in its next transactions, and is
// woken by them (they change what it read).
func TestWritesAndReadYourWrites(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		w := watcher.New(s, watcher.Options{Timeout: 100 * time.Millisecond})
		var seen []string
		err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
			var before, after string
			err := it.Txn(ctx, func(t *txn.Txn) error {
				v, _, err := t.Get("/counter")
				if err != nil {
					return err
				}
				before = v
				if n, _ := strconv.Atoi(v); n < 3 {
					return t.Put("/counter", strconv.Itoa(n+1))
				}
				return nil
			})
			if err != nil {
				return err
			}
			err = it.Txn(ctx, func(t *txn.Txn) error {
				var err error
				after, _, err = t.Get("/counter")
				return err
			})
			if err != nil {
				return err
			}
			seen = append(seen, fmt.Sprintf("%s %q->%q", it.Reason(), before, after))
			if it.Reason() == watcher.TimedOut {
				return errStop
			}
			return nil
		})
		assert.Assert(t, errors.Is(err, errStop))
		assert.DeepEqual(t, seen, []string{
			`FirstRun ""->"1"`, `Changed "1"->"2"`, `Changed "2"->"3"`, `Changed "3"->"3"`, `TimedOut "3"->"3"`,
		})
	})
}

// A conflict in a watcher transaction retries on a cache that has seen
// what made it conflict: two attempts, not a spin on a stale cache.
func TestConflictRetriesAndSucceeds(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPut(t, s, "/n", "0")
		w := watcher.New(s, watcher.Options{})
		var st txn.Stats
		var reads []string
		err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
			err := it.Txn(ctx, func(tx *txn.Txn) error {
				v, _, err := tx.Get("/n")
				if err != nil {
					return err
				}
				reads = append(reads, v)
				if len(reads) == 1 {
					mustPut(t, s, "/n", "10") // someone else, after our read
				}
				n, _ := strconv.Atoi(v)
				return tx.Put("/n", strconv.Itoa(n+1))
			}, txn.WithStats(&st))
			return errors.Join(err, errStop)
		})
		assert.Assert(t, errors.Is(err, errStop))
		assert.Assert(t, !errors.Is(err, txn.ErrConflict), "%v", err)
		assert.DeepEqual(t, reads, []string{"0", "10"})
		assert.Equal(t, st.Attempts, 2)
		kv, _, err := s.Get(context.Background(), "/n", 0)
		assert.NilError(t, err)
		assert.Equal(t, kv.Value, "11")
	})
}

// Several goroutines of one body run watcher transactions at once; what
// each reads is watched.
func TestConcurrentTxnsInOneIteration(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		for i := 0; i < 8; i++ {
			mustPut(t, s, fmt.Sprintf("/k/%d", i), "0")
		}
		w := watcher.New(s, watcher.Options{})
		var reasons []watcher.Reason
		err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
			reasons = append(reasons, it.Reason())
			if it.N() == 2 {
				return errStop
			}
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = it.Txn(ctx, func(t *txn.Txn) error {
						_, _, err := t.Get(fmt.Sprintf("/k/%d", i))
						return err
					})
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return err
			}
			assert.Equal(t, it.Watched(), 8)
			mustPut(t, s, "/k/7", "1")
			return nil
		})
		assert.Assert(t, errors.Is(err, errStop))
		assert.DeepEqual(t, reasons, []watcher.Reason{watcher.FirstRun, watcher.Changed})
	})
}

// A stream cut by the store (memory's DropWatches) is resumed from the
// revision after the last one applied: a change made while no stream is
// open still wakes the loop.
func TestDroppedStreamMissesNothing(t *testing.T) {
	m := openLoopMemory(t)
	cb := &countingBackend{Backend: m.mem}
	w := watcher.New(cb, watcher.Options{})
	mustPut(t, m, "/n", "0")
	l := startLoop(t, w, getAll("/n"))
	assert.DeepEqual(t, l.next(t).vals, []string{"/n=0"})
	// The first iteration may read from the store before the loop's stream
	// is open; a drop before then would cut nothing.
	sdptest.WaitFor(t, "the first stream is open", func() bool { return w.Stats().Streams == 1 })
	for i := 1; i <= 5; i++ {
		cb.hold()
		m.mem.DropWatches()
		mustPut(t, m, "/unrelated", strconv.Itoa(i))
		mustPut(t, m, "/n", strconv.Itoa(i))
		cb.release()
		it := l.next(t)
		assert.Equal(t, it.reason, watcher.Changed)
		assert.DeepEqual(t, it.vals, []string{"/n=" + strconv.Itoa(i)})
	}
	assert.Equal(t, w.Stats().Resumes, int64(5))
	assert.Equal(t, cb.watches.Load(), int64(6))
	assert.Equal(t, w.Stats().Relists, int64(0))
}

// When the history the stream needs is compacted away, the watcher drops
// its cache, reloads at a new revision and wakes the loop with Relisted;
// the next iteration reads the current values.
func TestCompactionRelists(t *testing.T) {
	m := openLoopMemory(t)
	cb := &countingBackend{Backend: m.mem}
	w := watcher.New(cb, watcher.Options{})
	mustPut(t, m, "/a", "1")
	mustPut(t, m, "/pb/x", "1")
	l := startLoop(t, w, func(t *txn.Txn) ([]string, error) {
		a, err := getAll("/a")(t)
		if err != nil {
			return nil, err
		}
		pb, err := listValues("/pb/")(t)
		return append(a, pb...), err
	})
	assert.DeepEqual(t, l.next(t).vals, []string{"/a=1", "/pb/x=1"})

	cb.hold()
	m.mem.DropWatches()
	mustPut(t, m, "/pb/y", "2")
	rev := mustPut(t, m, "/a", "2")
	assert.NilError(t, m.Compact(context.Background(), rev))
	cb.release()

	it := l.next(t)
	assert.Equal(t, it.reason, watcher.Relisted)
	assert.DeepEqual(t, it.vals, []string{"/a=2", "/pb/x=1", "/pb/y=2"})
	assert.Equal(t, w.Stats().Relists, int64(1))

	// The new cache follows the store as the old one did.
	mustPut(t, m, "/pb/x", "3")
	it = l.next(t)
	assert.Equal(t, it.reason, watcher.Changed)
	assert.DeepEqual(t, it.vals, []string{"/a=2", "/pb/x=3", "/pb/y=2"})
}

// A backend that closes under the watcher ends the loop with an error
// wrapping backend.ErrClosed (goleak in TestMain checks that no goroutine
// is left).
func TestBackendClosedEndsLoop(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		w := watcher.New(s, watcher.Options{})
		l := startLoop(t, w, getAll("/a"))
		l.next(t)
		assert.NilError(t, s.Close())
		select {
		case err := <-l.done:
			assert.Assert(t, isClosedErr(err), "%v", err)
			l.done <- err // for the cleanup
		case <-time.After(20 * time.Second):
			t.Fatal("the loop did not end")
		}
	})
}

func TestBackendClosedBeforeRun(t *testing.T) {
	s := openLoopMemory(t)
	s.Close()
	err := watcher.New(s, watcher.Options{}).Run(testCtx(t), func(context.Context, *watcher.Iteration) error {
		t.Error("body called")
		return nil
	})
	assert.Assert(t, isClosedErr(err), "%v", err)
}

// One stream, whatever the number of keys read: a body reading 10,000 keys
// opens one, and its second iteration is served from the cache.
func TestOneStreamForManyKeys(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		const n = 10000
		for i := 0; i < n; i += 100 {
			var kvs []string
			for j := i; j < i+100; j++ {
				kvs = append(kvs, fmt.Sprintf("/many/k%05d", j), "0")
			}
			mustPutAll(t, s, kvs...)
		}
		cb := &countingBackend{Backend: s}
		w := watcher.New(cb, watcher.Options{})
		var watched []int
		err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
			err := it.Txn(ctx, func(t *txn.Txn) error {
				for i := 0; i < n; i++ {
					if _, _, err := t.Get(fmt.Sprintf("/many/k%05d", i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			watched = append(watched, it.Watched())
			if it.N() == 3 {
				return errStop
			}
			mustPut(t, s, fmt.Sprintf("/many/k%05d", 1234*it.N()), "1")
			return nil
		})
		assert.Assert(t, errors.Is(err, errStop), "Run ended with %v", err)
		assert.DeepEqual(t, watched, []int{n, n, n})
		st := w.Stats()
		assert.Equal(t, cb.watches.Load(), int64(1))
		assert.Equal(t, st.Streams, int64(1))
		assert.Equal(t, st.Misses, int64(n))
		assert.Equal(t, st.Hits, int64(2*n))
	})
}

func TestLoopIterator(t *testing.T) {
	s := openLoopMemory(t)
	mustPut(t, s, "/a", "0")
	w := watcher.New(s, watcher.Options{})
	ctx := testCtx(t)
	var seen []string
	for it, err := range w.Loop(ctx) {
		assert.NilError(t, err)
		var v string
		err = it.Txn(ctx, func(t *txn.Txn) error {
			var err error
			v, _, err = t.Get("/a")
			return err
		})
		assert.NilError(t, err)
		seen = append(seen, it.Reason().String()+" "+v)
		if v == "2" {
			break
		}
		n, _ := strconv.Atoi(v)
		mustPut(t, s, "/a", strconv.Itoa(n+1))
	}
	assert.DeepEqual(t, seen, []string{"FirstRun 0", "Changed 1", "Changed 2"})
	// The loop is over: the watcher can run again.
	assert.Equal(t, w.Stats().Streams, int64(1))
	var stale *watcher.Iteration
	for it, err := range w.Loop(ctx) {
		assert.NilError(t, err)
		stale = it
		// The stream opens right after the cache starts.
		sdptest.WaitFor(t, "a second stream", func() bool { return w.Stats().Streams == 2 })
		break
	}
	err := stale.Txn(ctx, func(*txn.Txn) error { return nil })
	assert.Assert(t, errors.Is(err, watcher.ErrIterationOver), "%v", err)
}

func TestLoopIteratorYieldsTheError(t *testing.T) {
	s := openLoopMemory(t)
	w := watcher.New(s, watcher.Options{})
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	var errs []error
	for it, err := range w.Loop(ctx) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		assert.Equal(t, it.N(), 1)
		cancel()
	}
	assert.Equal(t, len(errs), 1)
	assert.Assert(t, errors.Is(errs[0], context.Canceled), "%v", errs[0])
}

func TestCloseEndsRun(t *testing.T) {
	s := openLoopMemory(t)
	w := watcher.New(s, watcher.Options{})
	l := startLoop(t, w, getAll("/a"))
	l.next(t)
	// A second loop may not run at the same time.
	err := w.Run(testCtx(t), func(context.Context, *watcher.Iteration) error { return nil })
	assert.Assert(t, errors.Is(err, watcher.ErrWatcherRunning), "%v", err)

	assert.NilError(t, w.Close())
	select {
	case err := <-l.done:
		assert.Assert(t, errors.Is(err, watcher.ErrWatcherClosed), "%v", err)
		l.done <- err
	case <-time.After(20 * time.Second):
		t.Fatal("the loop did not end")
	}
	err = w.Run(testCtx(t), func(context.Context, *watcher.Iteration) error { return nil })
	assert.Assert(t, errors.Is(err, watcher.ErrWatcherClosed), "%v", err)
	assert.NilError(t, w.Close())
}

// Close may be called from the body: the body's context ends, Run returns.
func TestCloseFromBody(t *testing.T) {
	s := openLoopMemory(t)
	w := watcher.New(s, watcher.Options{})
	err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
		w.Close()
		<-ctx.Done()
		return context.Cause(ctx)
	})
	assert.Assert(t, errors.Is(err, watcher.ErrWatcherClosed), "%v", err)
}

func TestBodyErrorEndsLoop(t *testing.T) {
	s := openLoopMemory(t)
	w := watcher.New(s, watcher.Options{})
	err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
		return it.Txn(ctx, func(t *txn.Txn) error {
			if _, _, err := t.Get("/a"); err != nil {
				return err
			}
			return errStop
		})
	})
	assert.Equal(t, err, errStop)
	assert.Equal(t, w.Stats().Iterations, int64(1))
}

// Writes of every kind (create, update, delete, recursive delete, lists
// with writes inside them) commit from a watcher transaction as from
// txn.Run.
func TestWriteKindsCommit(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPutAll(t, s, "/t/a", "1", "/t/a/x", "1", "/t/a/x/y", "1", "/t/b", "1")
		w := watcher.New(s, watcher.Options{})
		err := w.Run(testCtx(t), func(ctx context.Context, it *watcher.Iteration) error {
			err := it.Txn(ctx, func(t *txn.Txn) error {
				if err := t.Delete("/t/a", txn.DeleteOptions{MustExist: true, Recursive: true}); err != nil {
					return err
				}
				if err := t.Create("/t/a/x", "new"); err != nil {
					return err
				}
				if err := t.Update("/t/b", "2"); err != nil {
					return err
				}
				return t.Create("/t/c", "3")
			})
			if err != nil {
				return err
			}
			var got []string
			err = it.Txn(ctx, func(t *txn.Txn) error {
				kvs, err := t.ListValues("/t/", txn.ListOptions{Recurse: 2})
				got = got[:0]
				for _, kv := range kvs {
					got = append(got, kv.Path+"="+kv.Value)
				}
				return err
			})
			if err != nil {
				return err
			}
			assert.DeepEqual(t, got, []string{"/t/a/x=new", "/t/b=2", "/t/c=3"})
			return errStop
		})
		assert.Assert(t, errors.Is(err, errStop), "%v", err)
	})
}

func TestReasonString(t *testing.T) {
	assert.Equal(t, watcher.Changed.String(), "Changed")
	assert.Equal(t, watcher.Reason(42).String(), "Reason(42)")
}
