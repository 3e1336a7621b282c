package watcher_test

import (
	"context"
	"fmt"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// readAll reads paths in one watcher transaction and returns their values.
func readAll(ctx context.Context, it *watcher.Iteration, paths ...string) ([]string, error) {
	vals := make([]string, len(paths))
	err := it.Txn(ctx, func(t *txn.Txn) error {
		for i, p := range paths {
			v, _, err := t.Get(p)
			if err != nil {
				return err
			}
			vals[i] = v
		}
		return nil
	})
	return vals, err
}

func fillers(iter, n int) []string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("/fill/i%03d/k%04d", iter, i)
	}
	return ps
}

// A loop reading new keys in every iteration keeps the cache within its
// budget, and a watcher transaction still reads its own writes.
func TestCacheStaysWithinItsBudget(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		const budget, perIter, iters = 200, 150, 20
		w := watcher.New(s, watcher.Options{CacheKeys: budget})
		ctx := testCtx(t)
		maxKeys := 0
		err := w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
			n := it.N()
			// A write, then reads of perIter keys nobody read before, then
			// the write read back: read-your-writes, whatever was evicted.
			p := fmt.Sprintf("/mine/%d", n)
			if err := it.Txn(ctx, func(t *txn.Txn) error { return t.Put(p, fmt.Sprint(n)) }); err != nil {
				return err
			}
			if _, err := readAll(ctx, it, fillers(n, perIter)...); err != nil {
				return err
			}
			vals, err := readAll(ctx, it, p, "/mine/1")
			if err != nil {
				return err
			}
			if vals[0] != fmt.Sprint(n) || vals[1] != "1" {
				return fmt.Errorf("iteration %d read %q, want %q and %q", n, vals, fmt.Sprint(n), "1")
			}
			maxKeys = max(maxKeys, w.Stats().CacheKeys)
			if n == iters {
				return errStop
			}
			w.Trigger()
			return nil
		})
		assert.ErrorIs(t, err, errStop)
		st := w.Stats()
		// The budget, an eighth of slack, and what one iteration reads.
		assert.Assert(t, maxKeys <= budget+budget/8+perIter+2, "the cache grew to %d keys (budget %d)", maxKeys, budget)
		assert.Assert(t, st.Evictions >= int64(iters*perIter-budget-budget/8-perIter), "evictions %d", st.Evictions)
		assert.Equal(t, st.Streams, int64(1))
	})
}

// Eviction drops nothing the loop waits on: a change of a key the last
// iteration read wakes the loop even when that iteration read more keys
// than the budget, and a key read two iterations ago no longer does.
func TestCacheEvictionKeepsWhatTheLoopWaitsOn(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		mustPut(t, s, "/a", "0")
		mustPut(t, s, "/b", "0")
		w := watcher.New(s, watcher.Options{CacheKeys: 50})
		ctx := testCtx(t)
		var reasons []string
		err := w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
			reasons = append(reasons, it.Reason().String())
			switch it.N() {
			case 1: // reads /a and 3x the budget: all protected while waiting
				if _, err := readAll(ctx, it, append([]string{"/a"}, fillers(1, 150)...)...); err != nil {
					return err
				}
				go mustPut(t, s, "/a", "1")
			case 2: // reads /b only, and more fillers: /a may go
				if _, err := readAll(ctx, it, append([]string{"/b"}, fillers(2, 150)...)...); err != nil {
					return err
				}
				go func() {
					mustPut(t, s, "/a", "2") // not read by this iteration: no wake
					mustPut(t, s, "/b", "1")
				}()
			case 3:
				vals, err := readAll(ctx, it, "/a", "/b")
				if err != nil {
					return err
				}
				assert.DeepEqual(t, vals, []string{"2", "1"})
				return errStop
			}
			return nil
		})
		assert.ErrorIs(t, err, errStop)
		assert.DeepEqual(t, reasons, []string{"FirstRun", "Changed", "Changed"})
		assert.Assert(t, w.Stats().Evictions > 0)
	})
}

// Listed ranges are evicted whole, and a list after an eviction reads
// the range again, as it is.
func TestCacheEvictsListedRanges(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		const groups, per = 12, 30
		for g := 0; g < groups; g++ {
			var kvs []string
			for k := 0; k < per; k++ {
				kvs = append(kvs, fmt.Sprintf("/g%02d/k%02d", g, k), "v")
			}
			mustPutAll(t, s, kvs...)
		}
		w := watcher.New(s, watcher.Options{CacheKeys: 50})
		ctx := testCtx(t)
		maxRanges := 0
		err := w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
			g := (it.N() - 1) % groups // each group twice, the second time after its eviction
			var n int
			err := it.Txn(ctx, func(t *txn.Txn) error {
				keys, err := t.List(fmt.Sprintf("/g%02d/", g), txn.ListOptions{})
				n = len(keys)
				return err
			})
			if err != nil {
				return err
			}
			if n != per {
				return fmt.Errorf("iteration %d listed %d keys of /g%02d, want %d", it.N(), n, g, per)
			}
			maxRanges = max(maxRanges, w.Stats().CacheRanges)
			if it.N() == 2*groups {
				return errStop
			}
			w.Trigger()
			return nil
		})
		assert.ErrorIs(t, err, errStop)
		st := w.Stats()
		assert.Assert(t, st.CacheKeys <= 50+50/8+per, "cache keys %d", st.CacheKeys)
		assert.Assert(t, maxRanges <= 4, "cache ranges grew to %d", maxRanges)
		assert.Assert(t, st.Evictions > 0)
	})
}
