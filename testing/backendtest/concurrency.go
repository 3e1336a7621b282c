package backendtest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/sdpconfig/sdpconfig/backend"
)

var concurrencyCases = []testCase{
	{"Counter", testConcurrencyCounter},
	{"CreateRace", testConcurrencyCreateRace},
	{"WatchGapFree", testConcurrencyWatchGapFree},
}

const (
	workers    = 8
	increments = 25
)

// increment adds one to the counter at path with an optimistic
// read-compare-write loop, and returns how many commits it tried.
func increment(h *harness, path string) (int, error) {
	for attempt := 1; ; attempt++ {
		kv, _, err := h.b.Get(h.ctx, path, 0)
		if err != nil {
			return attempt, fmt.Errorf("get: %w", err)
		}
		n, err := strconv.Atoi(kv.Value)
		if err != nil {
			return attempt, fmt.Errorf("counter value %q: %w", kv.Value, err)
		}
		res, err := h.b.Commit(h.ctx, backend.Txn{
			If:   []backend.Compare{{Range: backend.Key(path), Target: backend.ModRevision, Op: backend.Equal, Value: kv.ModRevision}},
			Then: []backend.Op{backend.Put(path, strconv.Itoa(n+1), backend.NoLease)},
		})
		if err != nil {
			return attempt, fmt.Errorf("commit: %w", err)
		}
		if res.Succeeded {
			return attempt, nil
		}
		if err := h.ctx.Err(); err != nil {
			return attempt, err
		}
	}
}

// testConcurrencyCounter: goroutines incrementing one counter with
// compare-on-ModRevision commits lose no update.
func testConcurrencyCounter(h *harness) {
	const p = "/cc/counter"
	start := h.create(p, "0")
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	var mu sync.Mutex
	tries := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range increments {
				n, err := increment(h, p)
				mu.Lock()
				tries += n
				mu.Unlock()
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
		h.Errorf("increment: %v", err)
	}
	const total = workers * increments
	h.wantKV("counter", h.get(p), backend.KeyValue{
		Path: p, Value: strconv.Itoa(total), CreateRevision: start, ModRevision: start + total, Version: total + 1,
	})
	h.wantRev(start+total, "one revision per successful increment, none for failed compares")
	h.Logf("%d increments took %d commits", total, tries)
}

// testConcurrencyCreateRace: of goroutines creating one key at once,
// exactly one succeeds and the others get ErrCollision.
func testConcurrencyCreateRace(h *harness) {
	before := h.rev()
	var wg sync.WaitGroup
	results := make(chan error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.b.Create(h.ctx, "/cc/once", strconv.Itoa(i), backend.NoLease)
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, backend.ErrCollision):
			h.Errorf("racing Create: %v, want nil or ErrCollision", err)
		}
	}
	if won != 1 {
		h.Errorf("%d racing Creates succeeded, want exactly 1", won)
	}
	h.wantRev(before+1, "after racing Creates")
}

// testConcurrencyWatchGapFree: a watch on everything concurrent writers
// touch sees every revision they made, once, in order.
func testConcurrencyWatchGapFree(h *harness) {
	r0 := h.rev()
	w := h.watch(backend.Subtree("/cc"), r0+1)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	const perWorker = 10
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perWorker {
				var err error
				switch j % 3 {
				case 0:
					_, err = h.b.Create(h.ctx, fmt.Sprintf("/cc/%d/%d", i, j), "x", backend.NoLease)
				case 1:
					_, err = h.b.Commit(h.ctx, backend.Txn{Then: []backend.Op{backend.Put(fmt.Sprintf("/cc/%d", i), strconv.Itoa(j), backend.NoLease)}})
				case 2:
					_, err = h.b.Delete(h.ctx, fmt.Sprintf("/cc/%d/%d", i, j-2), backend.DeleteOptions{MustExist: true})
				}
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
		h.Fatalf("writer: %v", err)
	}
	end := h.rev()
	if end != r0+workers*perWorker {
		h.Errorf("revision after %d writes = %d, want %d", workers*perWorker, end, r0+workers*perWorker)
	}
	evs := w.sync("concurrent writes", end)
	if len(evs) != int(end-r0) {
		h.Errorf("watch saw %d events for %d writes", len(evs), end-r0)
	}
	for i, e := range evs {
		if want := r0 + 1 + int64(i); e.KV.ModRevision != want {
			h.Fatalf("event %d is at revision %d, want %d (gap-free, in order): %s", i, e.KV.ModRevision, want, fmtEvent(e))
		}
	}
}
