package txn_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/cenkalti/backoff/v4"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
)

// multiGetting is reading with GetMany passed on (and counted).
type multiGetting struct {
	*reading
	getManys atomic.Int64
}

func wrapMultiGetting(b backend.Backend) *multiGetting {
	return &multiGetting{reading: wrapReading(b)}
}

func (w *multiGetting) GetMany(ctx context.Context, paths []string, rev int64) ([]backend.KeyValue, int64, error) {
	w.getManys.Add(1)
	return w.Backend.(backend.MultiGetter).GetMany(ctx, paths, rev)
}

func (w *multiGetting) MaxTxnOps() int { return w.Backend.(backend.Limiter).MaxTxnOps() }

// A transaction told which keys it reads reads them in one round trip, and
// commits with compares on only those it read.
func TestPrefetchReadsInOneRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, raw backend.Backend) {
		ctx := context.Background()
		setup(t, raw, "/a", "1", "/b", "2")
		w := wrapMultiGetting(raw)
		err := txn.Run(ctx, w, func(t *txn.Txn) error {
			a, _, err := t.Get("/a")
			if err != nil {
				return err
			}
			if _, ok, err := t.Get("/none"); err != nil || ok {
				return err
			}
			return t.Put("/b", a+"!")
		}, txn.WithPrefetch("/a", "/none", "/unread"))
		assert.NilError(t, err)
		assert.Equal(t, value(t, raw, "/b"), "1!")
		assert.Equal(t, w.getManys.Load(), int64(1))
		assert.Equal(t, w.gets.Load(), int64(0))
		assert.Equal(t, w.roundTrips(), int64(1), "one commit besides the prefetch")
		var compared []string
		for _, c := range w.lastTxn.If {
			compared = append(compared, c.Range.Path)
		}
		assert.DeepEqual(t, compared, []string{"/a", "/b", "/none"})
	})
}

// A bad path to prefetch fails Run before anything is read.
func TestPrefetchBadPath(t *testing.T) {
	forEachBackend(t, func(t *testing.T, raw backend.Backend) {
		w := wrapMultiGetting(raw)
		called := false
		err := txn.Run(context.Background(), w, func(*txn.Txn) error { called = true; return nil },
			txn.WithPrefetch("/a", "b"))
		assert.ErrorIs(t, err, backend.ErrInvalidPath)
		assert.ErrorContains(t, err, `prefetch`)
		assert.ErrorContains(t, err, `"b"`)
		assert.Assert(t, !called)
		assert.Equal(t, w.getManys.Load()+w.roundTrips(), int64(0))
	})
}

// After a conflict on a key written twice meanwhile (so the failed commit's
// state is not used), the retry reads the keys the attempt read in one
// round trip, not one by one.
func TestHotRetryReadsInOneRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, raw backend.Backend) {
		ctx := context.Background()
		setup(t, raw, "/a", "0", "/b", "0")
		w := wrapMultiGetting(raw)
		var log []seen
		interfere := func(attempt int) {
			if attempt == 1 {
				update(t, raw, "/a", "x")
				update(t, raw, "/a", "y")
			}
		}
		var st txn.Stats
		err := txn.Run(ctx, w, readAll([]string{"/a", "/b"}, interfere, &log), txn.WithStats(&st),
			txn.WithBackOff(func() backoff.BackOff { return &backoff.ZeroBackOff{} }))
		assert.NilError(t, err)
		assert.Equal(t, st.Attempts, 2)
		assert.Equal(t, value(t, raw, "/a"), "y!")
		assert.Equal(t, w.gets.Load(), int64(2), "the first attempt's reads only")
		assert.Equal(t, w.getManys.Load(), int64(1))
	})
}
