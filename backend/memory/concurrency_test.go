package memory_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
)

// N goroutines increment one counter with Get + Commit guarded by a
// ModRevision compare, retrying on conflict: no update is lost, and a
// watcher sees every value once, in order.
func TestConcurrentCommitsLoseNoUpdate(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t)
	put(t, b, "/counter", "0")
	ws, err := b.Watch(ctx, []backend.Range{backend.Key("/counter")}, 0)
	assert.NilError(t, err)
	defer ws.Close()

	const workers, perWorker = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < perWorker; {
				kv, _, err := b.Get(ctx, "/counter", 0)
				if err != nil {
					errs <- err
					return
				}
				n, _ := strconv.Atoi(kv.Value)
				res, err := b.Commit(ctx, backend.Txn{
					If:   []backend.Compare{{Range: backend.Key("/counter"), Target: backend.ModRevision, Op: backend.Equal, Value: kv.ModRevision}},
					Then: []backend.Op{backend.Put("/counter", strconv.Itoa(n+1), backend.NoLease)},
				})
				if err != nil {
					errs <- err
					return
				}
				if res.Succeeded {
					done++
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NilError(t, err)
	}
	const total = workers * perWorker
	kv := get(t, b, "/counter")
	assert.Equal(t, kv.Value, strconv.Itoa(total))
	assert.Equal(t, kv.Version, int64(total+1))
	assert.Equal(t, kv.ModRevision, int64(total+2), "only successful commits write")

	for i := 1; i <= total; i++ {
		resp := recv(t, ws)
		assert.Equal(t, len(resp.Events), 1)
		assert.Equal(t, resp.Events[0].KV.Value, strconv.Itoa(i))
		assert.Equal(t, resp.Events[0].Prev.Value, strconv.Itoa(i-1))
	}
}

// Readers, writers, watchers, leases and compaction all at once, for -race.
func TestConcurrentMixedUse(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, clock := newFake(t)
	var wg sync.WaitGroup
	run := func(f func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := f(i); err != nil && !errors.Is(err, backend.ErrCompacted) && !errors.Is(err, backend.ErrNotFound) &&
					!errors.Is(err, backend.ErrCollision) && !errors.Is(err, backend.ErrVanished) && !errors.Is(err, backend.ErrLeaseExpired) &&
					!errors.Is(err, backend.ErrFutureRevision) {
					t.Error(err)
					return
				}
			}
		}()
	}
	run(func(i int) error { _, err := b.Create(ctx, "/m/"+strconv.Itoa(i%20), "v", 0); return err })
	run(func(i int) error { _, err := b.Update(ctx, "/m/"+strconv.Itoa(i%20), "u"); return err })
	run(func(i int) error {
		_, err := b.Delete(ctx, "/m", backend.DeleteOptions{Recursive: true, MaxDepth: 1})
		return err
	})
	run(func(i int) error { _, err := b.List(ctx, "/m/", backend.ListOptions{WithValues: true}); return err })
	run(func(i int) error { _, _, err := b.Get(ctx, "/m/3", int64(i)); return err })
	run(func(i int) error {
		rev, err := b.Revision(ctx)
		if err != nil {
			return err
		}
		return b.Compact(ctx, rev-5)
	})
	run(func(i int) error {
		l, err := b.Lease(ctx, 0)
		if err != nil {
			return err
		}
		if _, err := b.Create(ctx, "/l/"+strconv.Itoa(i), "v", l.ID()); err != nil {
			return err
		}
		l.Close()
		clock.Advance(2e9)
		return nil
	})
	run(func(i int) error {
		ws, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/m/", 0), backend.PrefixAt("/l/", 0)}, 0)
		if err != nil {
			return err
		}
		if i%10 == 0 {
			b.DropWatches()
		}
		_ = ws.RequestProgress(ctx)
		for resp := range ws.Responses() {
			if resp.Err != nil || len(resp.Events) == 0 {
				break
			}
		}
		return ws.Close()
	})
	wg.Wait()
}
