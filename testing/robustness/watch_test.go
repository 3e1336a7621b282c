package robustness

import (
	"context"
	"fmt"
	"sync"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// mirrorCheck is a Mirror handler that checks what it is told: for every
// key, each Change continues from the last version it saw (no gap, no
// duplicate, mod revisions increasing), and events come in revision order
// between refreshes. It records every (path, mod revision) it saw.
type mirrorCheck struct {
	mu        sync.Mutex
	last      map[string]backend.KeyValue
	seen      map[string]map[int64]bool
	events    int
	refreshes int   // RefreshDone calls; the first is the initial listing
	lastRev   int64 // the highest mod revision delivered since the last refresh
	// resuming is set while a restarted Mirror catches up: its refresh
	// delivers keys in path order, not revision order.
	resuming bool
	// relists are the view revisions of the RefreshDone calls after the
	// first: writes up to them may have been skipped (compacted).
	relists  []int64
	problems []string
}

func newMirrorCheck() *mirrorCheck {
	return &mirrorCheck{last: map[string]backend.KeyValue{}, seen: map[string]map[int64]bool{}}
}

func (m *mirrorCheck) problem(format string, args ...any) {
	m.problems = append(m.problems, fmt.Sprintf(format, args...))
}

func (m *mirrorCheck) saw(kv backend.KeyValue) {
	m.events++
	if m.seen[kv.Path] == nil {
		m.seen[kv.Path] = map[int64]bool{}
	}
	if m.seen[kv.Path][kv.ModRevision] {
		m.problem("mirror: %s at revision %d delivered twice", kv.Path, kv.ModRevision)
	}
	m.seen[kv.Path][kv.ModRevision] = true
	m.last[kv.Path] = kv
	if m.refreshes > 0 && !m.resuming {
		if kv.ModRevision < m.lastRev {
			m.problem("mirror: %s at revision %d after revision %d", kv.Path, kv.ModRevision, m.lastRev)
		}
		m.lastRev = kv.ModRevision
	}
}

func (m *mirrorCheck) Add(kv backend.KeyValue) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.last[kv.Path]; ok {
		m.problem("mirror: Add of %s it held (revision %d)", kv.Path, old.ModRevision)
	}
	m.saw(kv)
	return nil
}

func (m *mirrorCheck) Change(old, new backend.KeyValue) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, ok := m.last[old.Path]
	switch {
	case !ok:
		m.problem("mirror: Change of %s it never saw", old.Path)
	case prev.ModRevision != old.ModRevision || prev.Value != old.Value:
		m.problem("mirror: Change of %s from revision %d, last seen at %d", old.Path, old.ModRevision, prev.ModRevision)
	case new.ModRevision <= old.ModRevision:
		m.problem("mirror: Change of %s goes back from revision %d to %d", old.Path, old.ModRevision, new.ModRevision)
	}
	m.saw(new)
	return nil
}

func (m *mirrorCheck) Delete(old backend.KeyValue) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.problem("mirror: Delete of %s, which the workload never deletes", old.Path)
	delete(m.last, old.Path)
	return nil
}

func (m *mirrorCheck) RefreshDone(view mirror.View) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refreshes++
	if m.refreshes > 1 {
		m.relists = append(m.relists, view.Revision())
	}
	m.resuming = false
	m.lastRev = view.Revision()
	return nil
}

// resume marks the restart of the Mirror, and returns the highest
// revision delivered before.
func (m *mirrorCheck) resume() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resuming = true
	return m.lastRev
}

// missed returns the acknowledged writes of recs the mirror did not see,
// and how many of them fall in a window the mirror relisted over: after
// from, up to a relist's revision.
func (m *mirrorCheck) missed(recs []record, from int64) (missed, excused int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		for _, s := range r.wrote {
			if m.seen[slotPath(s)][r.rev] {
				continue
			}
			missed++
			for _, rel := range m.relists {
				if r.rev > from && r.rev <= rel {
					excused++
					break
				}
			}
		}
	}
	return missed, excused
}

// state returns the last values the mirror delivered.
func (m *mirrorCheck) state() bankState {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s bankState
	for i := range s {
		if kv, ok := m.last[slotPath(i)]; ok {
			s[i] = atoi(kv.Value)
		}
	}
	return s
}

// watcherCheck is the body of a caching watcher loop that reads every
// slot in each iteration and checks that each snapshot is consistent (the
// balances add up), that revisions never go back, and that the counter
// never goes down.
type watcherCheck struct {
	mu         sync.Mutex
	iterations int
	relists    int
	rev        int64
	last       bankState
	problems   []string
}

func (w *watcherCheck) body(ctx context.Context, it *config.Iteration) error {
	if it.Reason() == watcher.Relisted {
		w.mu.Lock()
		w.relists++
		w.mu.Unlock()
	}
	return it.Txn(ctx, func(t *config.Txn) error {
		s, err := readState(t)
		if err != nil {
			return err
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.iterations++
		sum := 0
		for i := 0; i < accounts; i++ {
			sum += s[i]
		}
		if sum != accounts*initialBalance {
			w.problems = append(w.problems, fmt.Sprintf("watcher: snapshot at revision %d holds %d in all, not %d", t.Revision(), sum, accounts*initialBalance))
		}
		if t.Revision() < w.rev {
			w.problems = append(w.problems, fmt.Sprintf("watcher: revision %d after %d", t.Revision(), w.rev))
		}
		if s[counterSlot] < w.last[counterSlot] {
			w.problems = append(w.problems, fmt.Sprintf("watcher: counter %d after %d", s[counterSlot], w.last[counterSlot]))
		}
		w.rev, w.last = t.Revision(), s
		return nil
	})
}

func (w *watcherCheck) state() bankState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}
