package txn_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cenkalti/backoff/v4"
	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"gotest.tools/v3/assert"
)

// reading is wrapped with CommitRead passed on (and counted), and the last
// commit each way recorded.
type reading struct {
	*wrapped
	commitReads atomic.Int64

	mu        sync.Mutex
	lastReads []string
	lastTxn   backend.Txn
}

func wrapReading(b backend.Backend) *reading { return &reading{wrapped: wrap(b)} }

func (w *reading) CommitRead(ctx context.Context, t backend.Txn, reads []string) (backend.CommitReadResult, error) {
	w.commitReads.Add(1)
	w.mu.Lock()
	w.lastReads, w.lastTxn = append([]string(nil), reads...), t
	w.mu.Unlock()
	return w.Backend.(backend.CommitReader).CommitRead(ctx, t, reads)
}

func (w *reading) Commit(ctx context.Context, t backend.Txn) (backend.TxnResult, error) {
	w.mu.Lock()
	w.lastTxn = t
	w.mu.Unlock()
	return w.wrapped.Commit(ctx, t)
}

// roundTrips is every call that reached the store.
func (w *reading) roundTrips() int64 {
	return w.gets.Load() + w.lists.Load() + w.commits.Load() + w.commitReads.Load()
}

func TestBackendsReadOnCommit(t *testing.T) {
	for _, bc := range backends {
		_, ok := bc.new(t).(backend.CommitReader)
		assert.Assert(t, ok, "%s backend is no backend.CommitReader", bc.name)
	}
}

// seen is what one attempt of a transaction read.
type seen struct {
	rev    int64
	values map[string]string // "<absent>" for an absent key
}

// readAll reads paths in a transaction, records what it saw, writes
// value+"!" (or "new") back to each, and on its first attempt makes
// interfere change the store under it.
func readAll(paths []string, interfere func(attempt int), log *[]seen) func(*txn.Txn) error {
	attempt := 0
	return func(t *txn.Txn) error {
		attempt++
		s := seen{values: map[string]string{}}
		for _, p := range paths {
			v, ok, err := t.Get(p)
			if err != nil {
				return err
			}
			if !ok {
				v = "<absent>"
			}
			s.values[p] = v
		}
		s.rev = t.Revision()
		*log = append(*log, s)
		if interfere != nil {
			interfere(attempt)
		}
		for _, p := range paths {
			if err := t.Put(p, s.values[p]+"!"); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestConflictRetrySkipsReads(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  []string // path, value, ...
		paths  []string // keys the transaction reads
		change func(t *testing.T, b backend.Backend)
		want   map[string]string // what the retry sees
	}{
		{
			name:  "one key changed",
			setup: []string{"/a", "1"},
			paths: []string{"/a"},
			change: func(t *testing.T, b backend.Backend) {
				_, err := b.Update(context.Background(), "/a", "2")
				assert.NilError(t, err)
			},
			want: map[string]string{"/a": "2"},
		},
		{
			name:  "one of two keys changed",
			setup: []string{"/a", "1", "/b", "1"},
			paths: []string{"/a", "/b"},
			change: func(t *testing.T, b backend.Backend) {
				_, err := b.Update(context.Background(), "/b", "2")
				assert.NilError(t, err)
			},
			want: map[string]string{"/a": "1", "/b": "2"},
		},
		{
			name:  "absent key created",
			setup: []string{"/a", "1"},
			paths: []string{"/a", "/new"},
			change: func(t *testing.T, b backend.Backend) {
				_, err := b.Create(context.Background(), "/new", "n", backend.NoLease)
				assert.NilError(t, err)
			},
			want: map[string]string{"/a": "1", "/new": "n"},
		},
		{
			name:  "key deleted, absent key stays absent",
			setup: []string{"/a", "1"},
			paths: []string{"/a", "/none"},
			change: func(t *testing.T, b backend.Backend) {
				_, err := b.Delete(context.Background(), "/a", backend.DeleteOptions{})
				assert.NilError(t, err)
			},
			want: map[string]string{"/a": "<absent>", "/none": "<absent>"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			for _, bc := range backends {
				t.Run(bc.name, func(t *testing.T) {
					// The same conflict through a backend that reads on
					// commit and through one that does not.
					trips := map[bool]int64{}
					for _, withReads := range []bool{true, false} {
						raw := bc.new(t)
						setup(t, raw, tc.setup...)
						w := wrapReading(raw)
						var be backend.Backend = w
						if !withReads {
							be = w.wrapped
						}
						var log []seen
						interfere := func(attempt int) {
							if attempt == 1 {
								tc.change(t, raw)
							}
						}
						var st txn.Stats
						err := txn.Run(ctx, be, readAll(tc.paths, interfere, &log), txn.WithStats(&st), noBackOff())
						assert.NilError(t, err)
						assert.Equal(t, st.Attempts, 2)
						assert.Equal(t, len(log), 2)
						assert.DeepEqual(t, log[1].values, tc.want)
						for p, v := range tc.want {
							assert.Equal(t, value(t, raw, p), v+"!")
						}
						trips[withReads] = w.roundTrips()
						if withReads {
							// Each key read once, by the first attempt; the
							// retry's snapshot is the failed commit's
							// revision, the store's then.
							assert.Equal(t, w.gets.Load(), int64(len(tc.paths)))
							assert.Equal(t, w.commitReads.Load(), int64(2))
							assert.Equal(t, w.commits.Load(), int64(0))
							assert.DeepEqual(t, w.lastReads, tc.paths)
							assert.Equal(t, log[1].rev, st.Revision-1)
						} else {
							assert.Equal(t, w.gets.Load(), int64(2*len(tc.paths)))
							assert.Equal(t, w.commitReads.Load(), int64(0))
						}
					}
					// One round trip fewer per key read: the retry's reads.
					assert.Equal(t, trips[false]-trips[true], int64(len(tc.paths)))
				})
			}
		})
	}
}

// A seeded retry reads the keys its first attempt did not read at the
// seed's revision, like any other read of its snapshot.
func TestSeededRetryReadsOtherKeysAtSeedRevision(t *testing.T) {
	forEachBackend(t, func(t *testing.T, raw backend.Backend) {
		ctx := context.Background()
		setup(t, raw, "/a", "1", "/b", "1")
		w := wrapReading(raw)
		attempt := 0
		var gotB string
		var revs []int64
		err := txn.Run(ctx, w, func(tx *txn.Txn) error {
			attempt++
			v, _, err := tx.Get("/a")
			if err != nil {
				return err
			}
			if attempt == 1 {
				_, err := raw.Update(ctx, "/a", "2")
				assert.NilError(t, err)
				return tx.Put("/a", v+"!")
			}
			// The retry reads a key the first attempt did not read.
			if gotB, _, err = tx.Get("/b"); err != nil {
				return err
			}
			revs = append(revs, tx.Revision())
			return tx.Put("/a", v+gotB)
		}, noBackOff())
		assert.NilError(t, err)
		assert.Equal(t, attempt, 2)
		assert.Equal(t, gotB, "1")
		assert.Equal(t, value(t, raw, "/a"), "21")
		// /a once by the first attempt, /b once by the retry.
		assert.Equal(t, w.gets.Load(), int64(2))
		rev, err := raw.Revision(ctx)
		assert.NilError(t, err)
		assert.DeepEqual(t, revs, []int64{rev - 1})
	})
}

// A seeded attempt that conflicts on one write again starts from the new
// state in turn.
func TestSeededRetryConflictsAgain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, raw backend.Backend) {
		ctx := context.Background()
		setup(t, raw, "/a", "0")
		w := wrapReading(raw)
		var log []seen
		interfere := func(attempt int) {
			if attempt <= 2 {
				_, err := raw.Update(ctx, "/a", "x"+value(t, raw, "/a"))
				assert.NilError(t, err)
			}
		}
		var st txn.Stats
		err := txn.Run(ctx, w, readAll([]string{"/a"}, interfere, &log), txn.WithStats(&st), noBackOff())
		assert.NilError(t, err)
		assert.Equal(t, st.Attempts, 3)
		assert.DeepEqual(t, []string{log[0].values["/a"], log[1].values["/a"], log[2].values["/a"]},
			[]string{"0", "x0", "xx0"})
		// Only attempt 1 reads.
		assert.Equal(t, w.gets.Load(), int64(1))
		assert.Equal(t, w.commitReads.Load(), int64(3))
		assert.Equal(t, value(t, raw, "/a"), "xx0!")
	})
}

func TestSeededRetryWithoutReadsIsBlind(t *testing.T) {
	forEachBackend(t, func(t *testing.T, raw backend.Backend) {
		ctx := context.Background()
		setup(t, raw, "/a", "0")
		w := wrapReading(raw)
		attempt := 0
		err := txn.Run(ctx, w, func(tx *txn.Txn) error {
			attempt++
			if attempt == 1 {
				if _, _, err := tx.Get("/a"); err != nil {
					return err
				}
				_, err := raw.Update(ctx, "/a", "1")
				assert.NilError(t, err)
			}
			return tx.Put("/a", "blind")
		}, noBackOff())
		assert.NilError(t, err)
		assert.Equal(t, attempt, 2)
		assert.Equal(t, value(t, raw, "/a"), "blind")
		assert.Equal(t, w.commits.Load(), int64(1))
		assert.Equal(t, len(w.lastTxn.If), 0, "compares of a blind write: %+v", w.lastTxn.If)
	})
}

// With a reader of its own, Run never asks the backend to read on commit:
// the reader may not serve the commit's revision yet.
func TestWithReaderCommitsPlainly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, raw backend.Backend) {
		ctx := context.Background()
		setup(t, raw, "/a", "0")
		w := wrapReading(raw)
		attempt := 0
		err := txn.Run(ctx, w, func(tx *txn.Txn) error {
			attempt++
			v, _, err := tx.Get("/a")
			if err != nil {
				return err
			}
			if attempt == 1 {
				_, err := raw.Update(ctx, "/a", "1")
				assert.NilError(t, err)
			}
			return tx.Put("/a", v+"!")
		}, txn.WithReader(raw), noBackOff())
		assert.NilError(t, err)
		assert.Equal(t, attempt, 2)
		assert.Equal(t, value(t, raw, "/a"), "1!")
		assert.Equal(t, w.commitReads.Load(), int64(0))
		assert.Equal(t, w.commits.Load(), int64(2))
	})
}

// The retry from a failed commit's state waits for the back-off like any
// other.
func TestSeededRetryBacksOff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, raw backend.Backend) {
		ctx := context.Background()
		setup(t, raw, "/a", "0")
		w := wrapReading(raw)
		var log []seen
		interfere := func(int) { update(t, raw, "/a", "x"+value(t, raw, "/a")) }
		var st txn.Stats
		err := txn.Run(ctx, w, readAll([]string{"/a"}, interfere, &log), txn.WithStats(&st),
			txn.WithBackOff(func() backoff.BackOff { return &backoff.StopBackOff{} }))
		assert.ErrorIs(t, err, txn.ErrTooManyRetries)
		assert.Equal(t, st, txn.Stats{Attempts: 1, Conflicts: 1})
	})
}

// A key written more than once since the snapshot is hot: its state will
// have changed again after the back-off, and the retry reads afresh.
func TestHotKeyReadsAfresh(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes func(t *testing.T, b backend.Backend)
		seeded bool
	}{
		{"one update", func(t *testing.T, b backend.Backend) { update(t, b, "/a", "1") }, true},
		{"two updates", func(t *testing.T, b backend.Backend) { update(t, b, "/a", "1"); update(t, b, "/a", "2") }, false},
		{"one update to each key", func(t *testing.T, b backend.Backend) { update(t, b, "/a", "1"); update(t, b, "/b", "1") }, false},
		{"created", func(t *testing.T, b backend.Backend) { setup(t, b, "/c", "1") }, true},
		{"created, updated", func(t *testing.T, b backend.Backend) { setup(t, b, "/c", "1"); update(t, b, "/c", "2") }, false},
		{"deleted", func(t *testing.T, b backend.Backend) { del(t, b, "/a") }, true},
		{"deleted, created", func(t *testing.T, b backend.Backend) { del(t, b, "/a"); setup(t, b, "/a", "1") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, raw backend.Backend) {
				setup(t, raw, "/a", "0", "/b", "0")
				w := wrapReading(raw)
				var log []seen
				interfere := func(attempt int) {
					if attempt == 1 {
						tc.writes(t, raw)
					}
				}
				var st txn.Stats
				err := txn.Run(context.Background(), w, readAll([]string{"/a", "/b", "/c"}, interfere, &log), txn.WithStats(&st), noBackOff())
				assert.NilError(t, err)
				assert.Equal(t, st.Attempts, 2)
				wantGets := int64(6)
				if tc.seeded {
					wantGets = 3
				}
				assert.Equal(t, w.gets.Load(), wantGets)
				// The retry saw the latest values, and wrote from them.
				for _, p := range []string{"/a", "/b", "/c"} {
					assert.Equal(t, value(t, raw, p), log[1].values[p]+"!")
				}
			})
		})
	}
}

func update(t *testing.T, b backend.Backend, path, value string) {
	t.Helper()
	_, err := b.Update(context.Background(), path, value)
	assert.NilError(t, err)
}

func del(t *testing.T, b backend.Backend, path string) {
	t.Helper()
	_, err := b.Delete(context.Background(), path, backend.DeleteOptions{})
	assert.NilError(t, err)
}
