package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// demoWatch runs a caching watcher loop (Config.Watcher) over the demo's
// processing blocks, in its own goroutine. Each iteration reads the state
// of every block through the watcher (from its cache, which one watch
// stream keeps current) and prints what changed since the last iteration;
// the loop then sleeps until one of the keys it read changes. Like every
// level-triggered loop, it sees the latest state: changes made in quick
// succession may be seen together.
type demoWatch struct {
	w    *config.Watcher
	out  *lineWriter
	done chan struct{}

	mu      sync.Mutex
	rev     int64             // the revision of the last iteration's view
	view    map[string]string // block id -> status seen
	changes int               // status changes seen
	iters   int               // iterations run
	err     error             // why the loop ended, if it did
	notify  chan struct{}     // closed and replaced on every iteration
}

// startDemoWatch starts the watcher loop and returns once its first
// iteration has printed what it sees.
func startDemoWatch(ctx context.Context, d *demoRun) (*demoWatch, error) {
	w := &demoWatch{
		w:      d.cfg.Watcher(watcher.Options{}),
		out:    d.out,
		done:   make(chan struct{}),
		notify: make(chan struct{}),
	}
	go func() {
		defer close(w.done)
		err := w.w.Run(ctx, func(ctx context.Context, it *config.Iteration) error { return w.iterate(ctx, it, d) })
		w.mu.Lock()
		w.err = err
		close(w.notify)
		w.notify = make(chan struct{})
		w.mu.Unlock()
	}()
	if err := w.waitFor(ctx, 1, 10*time.Second); err != nil {
		w.stop()
		return nil, err
	}
	return w, nil
}

// iterate is the loop body: read the states, print the differences.
func (w *demoWatch) iterate(ctx context.Context, it *config.Iteration, d *demoRun) error {
	states := make(map[string]string, len(d.pbIDs))
	err := it.Txn(ctx, func(t *config.Txn) error {
		for _, id := range d.pbIDs {
			s, err := demoPBStates.Get(t, id)
			switch {
			case errors.Is(err, backend.ErrNotFound):
				states[id] = "(gone)"
			case err != nil:
				return err
			default:
				states[id] = demoStateString(s)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	changed := 0
	for _, id := range d.pbIDs {
		if w.view[id] == states[id] {
			continue
		}
		if w.view != nil {
			changed++
		}
		w.out.printf("watcher: %s is %s (iteration %d, %s, revision %d)\n", id, states[id], it.N(), it.Reason(), it.Revision())
	}
	if w.view == nil {
		w.out.printf("watcher: sees %d processing block(s) at revision %d, read through its cache; it sleeps until one of the %d keys it read changes\n",
			len(states), it.Revision(), it.Watched())
	}
	w.view, w.rev = states, it.Revision()
	w.changes += changed
	w.iters++
	close(w.notify)
	w.notify = make(chan struct{})
	return nil
}

// waitFor waits until an iteration has seen the store at revision rev or
// later, at most timeout.
func (w *demoWatch) waitFor(ctx context.Context, rev int64, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		w.mu.Lock()
		seen, err, notify := w.rev, w.err, w.notify
		w.mu.Unlock()
		if seen >= rev && seen > 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the watcher stopped: %w", err)
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return fmt.Errorf("the watcher did not see revision %d within %v (it is at %d)", rev, timeout, seen)
		}
	}
}

// stats returns the status changes seen, the iterations run, and the
// watcher's own counters.
func (w *demoWatch) stats() (changes, iters int, ws watcher.Stats) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changes, w.iters, w.w.Stats()
}

// stop ends the loop and waits for its goroutine. It is idempotent.
func (w *demoWatch) stop() {
	w.w.Close()
	<-w.done
}

// demoStateString returns a state for display.
func demoStateString(s demoState) string {
	if s.Error != "" {
		return s.Status + " (" + s.Error + ")"
	}
	return s.Status
}
