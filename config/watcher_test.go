package config

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

type watchedPB struct {
	Name  string `json:"name"`
	Scale int    `json:"scale"`
}

var errWatchStop = errors.New("stop")

// Typed entities work in watcher transactions: the loop lists and reads a
// Kind, writes a state sub-key, and wakes when an entity is added or
// changed through Config.Txn.
func TestWatcherTypedEntities(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		pbs := MustKind[watchedPB]("/pb")
		states := StateOf[string](pbs)
		ctx := ctxT(t)
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error {
			return pbs.Create(t, "a", watchedPB{Name: "a", Scale: 1})
		}))

		w := c.Watcher(watcher.Options{})
		defer w.Close()
		var seen []string
		err := w.Run(ctx, func(ctx context.Context, it *Iteration) error {
			var line string
			err := it.Txn(ctx, func(t *Txn) error {
				ids, err := pbs.List(t)
				if err != nil {
					return err
				}
				line = it.Reason().String()
				for _, id := range ids {
					pb, err := pbs.Get(t, id)
					if err != nil {
						return err
					}
					line += fmt.Sprintf(" %s:%d", pb.Name, pb.Scale)
					want := fmt.Sprintf("scaled to %d", pb.Scale)
					if st, err := states.Get(t, id); err != nil || st != want {
						if err := states.CreateOrUpdate(t, id, want); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			seen = append(seen, line)
			// Writes outside the watcher reach its cache through the
			// stream: wait for them, so the next iteration sees them.
			var st txn.Stats
			switch len(seen) {
			case 1:
				err = c.Txn(ctx, func(t *Txn) error {
					return pbs.Create(t, "b", watchedPB{Name: "b", Scale: 2})
				}, txn.WithStats(&st))
			case 3:
				err = c.Txn(ctx, func(t *Txn) error {
					return pbs.Update(t, "a", watchedPB{Name: "a", Scale: 5})
				}, txn.WithStats(&st))
			case 5:
				return errWatchStop
			}
			if err != nil {
				return err
			}
			return it.WaitRevision(ctx, st.Revision)
		})
		assert.Assert(t, errors.Is(err, errWatchStop), "%v", err)
		// Each write of a state (read by the iteration) wakes the loop once
		// more; then the states are as wanted and nothing changes.
		assert.DeepEqual(t, seen, []string{
			"FirstRun a:1", "Changed a:1 b:2", "Changed a:1 b:2", "Changed a:5 b:2", "Changed a:5 b:2",
		})
		for id, want := range map[string]string{"a": "scaled to 5", "b": "scaled to 2"} {
			var got string
			assert.NilError(t, c.Txn(ctx, func(t *Txn) error {
				var err error
				got, err = states.Get(t, id)
				return err
			}))
			assert.Equal(t, got, want)
		}
	})
}

// A Config with a global prefix watches through its view: paths are
// relative to the prefix, writes outside it do not wake the loop, and the
// watcher's revision still follows the store (progress requests).
func TestWatcherWithPrefix(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{Prefix: "/sdp"})
		ctx := ctxT(t)
		_, err := b.Create(ctx, "/sdp/x", "in", backend.NoLease)
		assert.NilError(t, err)
		w := c.Watcher(watcher.Options{Timeout: 200 * time.Millisecond, RequeryProgress: 10 * time.Millisecond})
		defer w.Close()
		var seen []string
		err = w.Run(ctx, func(ctx context.Context, it *Iteration) error {
			var v string
			err := it.Txn(ctx, func(t *Txn) error {
				var err error
				v, _, err = t.Get("/x")
				return err
			})
			if err != nil {
				return err
			}
			seen = append(seen, it.Reason().String()+" "+v)
			switch it.N() {
			case 1:
				// Outside the prefix: no wake, but the revision moves on.
				if _, err := b.Create(ctx, "/x", "out", backend.NoLease); err != nil {
					return err
				}
				rev, err := b.Create(ctx, "/other/x", "out", backend.NoLease)
				if err != nil {
					return err
				}
				return it.WaitRevision(ctx, rev)
			case 2:
				_, err := b.Update(ctx, "/sdp/x", "changed")
				return err
			case 3:
				return errWatchStop
			}
			return nil
		})
		assert.Assert(t, errors.Is(err, errWatchStop), "%v", err)
		assert.DeepEqual(t, seen, []string{"FirstRun in", "TimedOut in", "Changed changed"})
	})
}

// The Config's TxnOptions apply to watcher transactions.
func TestWatcherUsesConfigTxnOptions(t *testing.T) {
	b := backendCases[0].new(t)
	var st txn.Stats
	c := newTestConfig(t, b, Options{TxnOptions: []txn.Option{txn.WithStats(&st)}})
	w := c.Watcher(watcher.Options{})
	defer w.Close()
	ctx := ctxT(t)
	var cfg *Config
	err := w.Run(ctx, func(ctx context.Context, it *Iteration) error {
		cfg = it.Config()
		err := it.Txn(ctx, func(t *Txn) error {
			if t.Config() != c {
				return errors.New("wrong config")
			}
			return t.Put("/k", "v")
		})
		return errors.Join(err, errWatchStop)
	})
	assert.Assert(t, errors.Is(err, errWatchStop), "%v", err)
	assert.Assert(t, !errors.Is(err, errors.New("wrong config")))
	assert.Equal(t, cfg, c)
	assert.Equal(t, st.Attempts, 1)
	assert.Assert(t, st.Revision > 0)
}

func TestWatcherLoopAndClosedConfig(t *testing.T) {
	b := backendCases[0].new(t)
	c := New(b, Options{})
	w := c.Watcher(watcher.Options{})
	defer w.Close()
	ctx := ctxT(t)
	n := 0
	var ended error
	for it, err := range w.Loop(ctx) {
		if err != nil {
			ended = err
			continue
		}
		n++
		assert.NilError(t, it.Txn(ctx, func(t *Txn) error { _, _, err := t.Get("/k"); return err }))
		if n == 1 {
			w.Trigger()
			continue
		}
		// The Config closes during the iteration: its transactions fail,
		// and the loop ends before the next one.
		assert.NilError(t, c.Close())
		err := it.Txn(ctx, func(t *Txn) error { return nil })
		assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
		w.Trigger()
	}
	assert.Equal(t, n, 2)
	assert.Assert(t, errors.Is(ended, backend.ErrClosed), "%v", ended)
	var errs []error
	for _, err := range w.Loop(ctx) {
		errs = append(errs, err)
	}
	assert.Equal(t, len(errs), 1)
	assert.Assert(t, errors.Is(errs[0], backend.ErrClosed), "%v", errs[0])
	err := w.Run(ctx, func(context.Context, *Iteration) error { return nil })
	assert.Assert(t, errors.Is(err, backend.ErrClosed), "%v", err)
}
