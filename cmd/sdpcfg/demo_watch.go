package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// demoWatch watches the processing blocks for the demo, from its own
// goroutine, and prints the state changes it sees.
type demoWatch struct {
	out    *lineWriter
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	rev     int64         // every change up to rev has been seen
	changes int           // state changes seen
	wakes   int           // responses of the stream
	err     error         // why the watch ended, if it did
	notify  chan struct{} // closed and replaced on every update
}

// startDemoWatch lists the states of the processing blocks, prints them,
// and watches /pb from there on.
func startDemoWatch(ctx context.Context, d *demoRun) (*demoWatch, error) {
	b := d.cfg.Backend()
	cctx, cancel := d.o.g.rpc(ctx)
	res, err := b.List(cctx, "/pb/", backend.ListOptions{Depths: []int{1}, WithValues: true})
	cancel()
	if err != nil {
		return nil, err
	}
	n := 0
	for _, kv := range res.KVs {
		if id, ok := demoPBStates.ID(kv.Path); ok && d.isDemoPB(id) {
			n++
			d.out.printf("watcher: %s is %s\n", id, demoStatus(kv.Value))
		}
	}
	d.out.printf("watcher: sees %d processing block(s) at revision %d; waiting for changes under /pb\n", n, res.Revision)
	wctx, wcancel := context.WithCancel(ctx)
	ws, err := b.Watch(wctx, backend.Subtree("/pb"), res.Revision+1)
	if err != nil {
		wcancel()
		return nil, err
	}
	w := &demoWatch{out: d.out, cancel: wcancel, done: make(chan struct{}), rev: res.Revision, notify: make(chan struct{})}
	go w.loop(ws, d)
	return w, nil
}

// loop reports the events of ws until it ends.
func (w *demoWatch) loop(ws backend.WatchStream, d *demoRun) {
	defer close(w.done)
	defer ws.Close()
	for resp := range ws.Responses() {
		changes := 0
		for _, ev := range resp.Events {
			id, ok := demoPBStates.ID(ev.KV.Path)
			if !ok || !d.isDemoPB(id) || ev.Type != backend.EventPut {
				continue
			}
			changes++
			w.out.printf("watcher: %s is %s (revision %d)\n", id, demoStatus(ev.KV.Value), ev.KV.ModRevision)
		}
		w.mu.Lock()
		w.changes += changes
		w.wakes++
		if resp.Err != nil {
			w.err = resp.Err
		} else {
			w.rev = max(w.rev, resp.Revision)
			for _, ev := range resp.Events {
				w.rev = max(w.rev, ev.KV.ModRevision)
			}
		}
		close(w.notify)
		w.notify = make(chan struct{})
		w.mu.Unlock()
	}
}

// waitFor waits until the watcher has seen every change up to rev, at
// most timeout.
func (w *demoWatch) waitFor(ctx context.Context, rev int64, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		w.mu.Lock()
		seen, err, notify := w.rev, w.err, w.notify
		w.mu.Unlock()
		if seen >= rev {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the watch ended: %w", err)
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

// stats returns the state changes seen and the number of wake-ups.
func (w *demoWatch) stats() (changes, wakes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changes, w.wakes
}

// stop ends the watch and waits for its goroutine. It is idempotent.
func (w *demoWatch) stop() {
	w.cancel()
	<-w.done
}

// isDemoPB tells whether id is a processing block of this demo run.
func (d *demoRun) isDemoPB(id string) bool {
	for _, p := range d.pbIDs {
		if p == id {
			return true
		}
	}
	return false
}

// demoStatus returns the status of a state value, for display.
func demoStatus(v string) string {
	var s demoState
	if err := json.Unmarshal([]byte(v), &s); err != nil || s.Status == "" {
		return oneLine(v)
	}
	if s.Error != "" {
		return s.Status + " (" + s.Error + ")"
	}
	return s.Status
}
