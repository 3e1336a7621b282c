package txn_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/txn"
)

// TestContendingWorkersTakeTurns: 16 workers incrementing one key each
// commit every transaction within a few attempts: a transaction that
// conflicted queues on the key, and newcomers queue behind it instead of
// winning over and over. The counter counts every commit.
func TestContendingWorkersTakeTurns(t *testing.T) {
	b := memory.New()
	defer b.Close()
	takeTurns(t, func() backend.Backend { return b })
}

// TestWrappedBackendsTakeTurns: transactions each on its own wrapper of one
// backend (as a caching watcher's are) take turns as on the backend itself,
// since the wrapper unwraps to it.
func TestWrappedBackendsTakeTurns(t *testing.T) {
	b := memory.New()
	defer b.Close()
	takeTurns(t, func() backend.Backend { return &unwrapping{b} })
}

// unwrapping passes a backend on, and says so.
type unwrapping struct{ backend.Backend }

func (u *unwrapping) Unwrap() backend.Backend { return u.Backend }

// takeTurns runs 16 workers that commit 100 increments each of one key, on
// the backend that on returns for each transaction, with at most 3
// attempts per transaction; the counter must count every commit.
func takeTurns(t *testing.T, on func() backend.Backend) {
	const workers, each, maxAttempts = 16, 100, 3
	ctx := context.Background()
	var mu sync.Mutex
	worst := 0
	commits := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				var st txn.Stats
				err := txn.Run(ctx, on(), func(t *txn.Txn) error {
					v, _, err := t.Get("/hot")
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(v)
					for range 20 {
						runtime.Gosched() // let the others read the same value
					}
					return t.Put("/hot", strconv.Itoa(n+1))
				}, txn.WithStats(&st), txn.WithMaxAttempts(maxAttempts))
				if err != nil {
					t.Errorf("worker %d: %v (after %d attempts)", w, err, st.Attempts)
					return
				}
				mu.Lock()
				worst = max(worst, st.Attempts)
				commits[w]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	kv, _, err := on().Get(ctx, "/hot", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, strconv.Itoa(workers*each))
	for w, n := range commits {
		assert.Equal(t, n, each, "worker %d", w)
	}
	t.Logf("most attempts of one transaction: %d", worst)
}

// A backend whose value cannot be a map key (a struct holding a slice)
// still runs transactions, conflicts included: it just takes no turns.
func TestUncomparableBackend(t *testing.T) {
	b := memory.New()
	defer b.Close()
	u := uncomparable{Backend: b, tags: []string{"x"}}
	ctx := context.Background()
	_, err := b.Create(ctx, "/k", "0", backend.NoLease)
	assert.NilError(t, err)
	first := true
	err = txn.Run(ctx, u, func(t *txn.Txn) error {
		v, _, err := t.Get("/k")
		if err != nil {
			return err
		}
		if first {
			first = false
			if _, err := b.Update(ctx, "/k", "x"); err != nil {
				return err
			}
		}
		return t.Put("/k", v+"!")
	})
	assert.NilError(t, err)
	kv, _, err := b.Get(ctx, "/k", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, "x!")
}

// uncomparable is a backend wrapper passed by value with a slice in it.
type uncomparable struct {
	backend.Backend
	tags []string
}
