package txn_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"gotest.tools/v3/assert"
)

// TestNoWriteSkew: two transactions each read x and y and withdraw 100 from
// a different one if x+y >= 100. Snapshot isolation would let both commit
// (x+y = -100); serializability lets only one.
func TestNoWriteSkew(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		setup(t, b, "/x", "50", "/y", "50")
		read := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		var wg sync.WaitGroup
		withdrew := [2]bool{}
		errs := [2]error{}
		for i, from := range []string{"/x", "/y"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first := true
				errs[i] = txn.Run(ctx, b, func(t *txn.Txn) error {
					sum := 0
					for _, p := range []string{"/x", "/y"} {
						v, _, err := t.Get(p)
						if err != nil {
							return err
						}
						n, _ := strconv.Atoi(v)
						sum += n
					}
					if first {
						first = false
						close(read[i])
						<-read[1-i]
					}
					if sum < 100 {
						return nil
					}
					v, _, err := t.Get(from)
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(v)
					t.OnCommit(func() { withdrew[i] = true })
					return t.Update(from, strconv.Itoa(n-100))
				}, noBackOff())
			}()
		}
		wg.Wait()
		assert.NilError(t, errs[0])
		assert.NilError(t, errs[1])
		assert.Assert(t, withdrew[0] != withdrew[1], "withdrew: %v", withdrew)
		x, _ := strconv.Atoi(value(t, b, "/x"))
		y, _ := strconv.Atoi(value(t, b, "/y"))
		assert.Equal(t, x+y, 0)
	})
}

// TestBankInvariant: concurrent transfers, splits (create an account, only
// while there are fewer than maxAccounts) and merges (delete one) between
// accounts found by listing, with read-only audits: every audit sees exactly
// the total and at most maxAccounts accounts, and so does the end.
func TestBankInvariant(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		const accounts, maxAccounts, total, workers, each = 8, 10, 800, 8, 25
		ctx := context.Background()
		for i := range accounts {
			setup(t, b, fmt.Sprintf("/bank/a%02d", i), strconv.Itoa(total/accounts))
		}
		var seq atomic.Int64
		var badAudits atomic.Int64
		balances := func(t *txn.Txn) ([]backend.KeyValue, []int, error) {
			kvs, err := t.ListValues("/bank/", txn.ListOptions{})
			if err != nil {
				return nil, nil, err
			}
			ns := make([]int, len(kvs))
			for i, kv := range kvs {
				ns[i], _ = strconv.Atoi(kv.Value)
			}
			return kvs, ns, nil
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 1))
				for range each {
					op := r.IntN(4)
					err := txn.Run(ctx, b, func(t *txn.Txn) error {
						if op == 2 { // split: names only, then one balance
							names, err := t.List("/bank/", txn.ListOptions{})
							if err != nil || len(names) >= maxAccounts {
								return err
							}
							from := names[r.IntN(len(names))]
							v, _, err := t.Get(from)
							if err != nil {
								return err
							}
							n, _ := strconv.Atoi(v)
							name := fmt.Sprintf("/bank/s%04d", seq.Add(1))
							if err := t.Create(name, strconv.Itoa(n/2)); err != nil {
								return err
							}
							return t.Update(from, strconv.Itoa(n-n/2))
						}
						kvs, ns, err := balances(t)
						if err != nil {
							return err
						}
						switch {
						case op == 0: // audit
							sum := 0
							for _, n := range ns {
								sum += n
							}
							if sum != total || len(kvs) > maxAccounts {
								badAudits.Add(1)
							}
							return nil
						case op == 1 && len(kvs) >= 2: // transfer
							i, j := r.IntN(len(kvs)), r.IntN(len(kvs)-1)
							if j >= i {
								j++
							}
							amount := r.IntN(ns[i] + 1)
							if err := t.Update(kvs[i].Path, strconv.Itoa(ns[i]-amount)); err != nil {
								return err
							}
							return t.Update(kvs[j].Path, strconv.Itoa(ns[j]+amount))
						case len(kvs) >= 2: // merge
							i, j := r.IntN(len(kvs)), r.IntN(len(kvs)-1)
							if j >= i {
								j++
							}
							if err := t.Delete(kvs[i].Path, txn.DeleteOptions{MustExist: true}); err != nil {
								return err
							}
							return t.Update(kvs[j].Path, strconv.Itoa(ns[j]+ns[i]))
						}
						return nil
					}, txn.WithMaxAttempts(1000))
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NilError(t, err)
		}
		assert.Equal(t, badAudits.Load(), int64(0))
		sum := 0
		final := dump(t, b, "/bank/")
		for _, v := range final {
			n, _ := strconv.Atoi(v)
			sum += n
		}
		assert.Equal(t, sum, total)
		assert.Assert(t, len(final) <= maxAccounts, "%d accounts", len(final))
	})
}
