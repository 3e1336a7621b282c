package txn_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/txn"
)

// TestContendingWorkersTakeTurns: 16 workers incrementing one key each
// commit every transaction within a few attempts: a transaction that
// conflicted queues on the key, and newcomers queue behind it instead of
// winning over and over. The counter counts every commit.
func TestContendingWorkersTakeTurns(t *testing.T) {
	const workers, each, maxAttempts = 16, 25, 4
	b := memory.New()
	defer b.Close()
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
				err := txn.Run(ctx, b, func(t *txn.Txn) error {
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
	kv, _, err := b.Get(ctx, "/hot", 0)
	assert.NilError(t, err)
	assert.Equal(t, kv.Value, strconv.Itoa(workers*each))
	for w, n := range commits {
		assert.Equal(t, n, each, "worker %d", w)
	}
	t.Logf("most attempts of one transaction: %d", worst)
}
