package txn

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Transactions of one process that conflict take turns: after a conflict,
// a transaction queues on every key its commit compares, in path order,
// and each key's queue lets one transaction at a time go on, in order of
// arrival; the transaction tries again once it has the turn of all its
// keys. A new transaction whose commit would compare a key that has a
// queue joins the queues instead of committing ahead of those waiting. So
// contended keys are committed to in first-come order, and no transaction
// starves while newcomers keep winning, as they do with back-off alone.
// Taking the turns in path order, one after the other, keeps two
// transactions from waiting on each other. Transactions of other
// processes are not in the queues; against them the back-off still works.

// Unwrapper is implemented by a backend that passes another one's calls on
// (as a caching watcher's transactions commit through a wrapper of the
// watcher's backend): transactions on the wrapper and on the backend it
// wraps take turns in the same queues.
type Unwrapper interface {
	// Unwrap returns the backend wrapped.
	Unwrap() backend.Backend
}

// store returns the backend b wraps, through every Unwrapper: the one
// whose keys transactions on b take turns on. It returns nil for a backend
// whose value cannot key a map (a struct holding a slice, passed by
// value): transactions on it take no turns, and rely on the back-off.
func store(b backend.Backend) backend.Backend {
	for {
		u, ok := b.(Unwrapper)
		if !ok {
			break
		}
		b = u.Unwrap()
	}
	if !reflect.ValueOf(b).Comparable() {
		return nil
	}
	return b
}

// turns are the queues, by backend and key.
var turns = struct {
	sync.Mutex
	q map[turnKey]*turnQueue
}{q: map[turnKey]*turnQueue{}}

type turnKey struct {
	b    backend.Backend
	path string
}

// turnQueue is the waiting line of one key: its head has the turn.
type turnQueue struct {
	line []*ticket
}

// ticket is one transaction's place in a queue; turn is closed when it is
// at the head.
type ticket struct {
	key  turnKey
	turn chan struct{}
}

// hold is one transaction's tickets, in path order.
type hold struct {
	tickets []*ticket
}

// quickRetries is how many conflicts a transaction holding its keys' turns
// retries at once while other transactions of this process run on the
// same backend, before it backs off: in-process contenders wait behind it,
// or commit on keys it compares after the first; the back-off is for
// contention with other processes, and for a transaction that runs alone.
const quickRetries = 5

// maxTurnWait bounds a wait for one key's turn: a transaction run inside
// another's function, on a key the outer one holds the turn of, must not
// wait for it forever. After it, the transaction goes on anyway.
const maxTurnWait = time.Second

// running counts the Runs in progress, by backend; a backend with none
// has no entry.
var running = struct {
	sync.Mutex
	n map[backend.Backend]int
}{n: map[backend.Backend]int{}}

// enter counts one more Run in progress on b; leave, when it returns.
func enter(b backend.Backend) {
	running.Lock()
	running.n[b]++
	running.Unlock()
}

// leave counts one Run fewer in progress on b.
func leave(b backend.Backend) {
	running.Lock()
	defer running.Unlock()
	if running.n[b]--; running.n[b] == 0 {
		delete(running.n, b)
	}
}

// others reports whether other Runs than the caller's are in progress on b.
func others(b backend.Backend) bool {
	running.Lock()
	defer running.Unlock()
	return running.n[b] > 1
}

// turnPaths returns the distinct paths that c compares, sorted: the keys
// (and the start keys of ranges) whose turns a retry of c takes.
func turnPaths(c *backend.Txn) []string {
	paths := make([]string, 0, len(c.If))
	for _, cmp := range c.If {
		paths = append(paths, cmp.Range.Path)
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// queued reports whether a path that cmps compare has a queue of b (some
// transaction waits for its turn there).
func queued(b backend.Backend, cmps []backend.Compare) bool {
	turns.Lock()
	defer turns.Unlock()
	if len(turns.q) == 0 {
		return false
	}
	for _, cmp := range cmps {
		if turns.q[turnKey{b, cmp.Range.Path}] != nil {
			return true
		}
	}
	return false
}

// take queues on the paths c compares, one after the other in path order,
// and returns when it has the turn of each, or ctx ends (then it has left
// every queue). waited reports whether a turn did not come at once.
func take(ctx context.Context, b backend.Backend, c *backend.Txn) (h *hold, waited bool, err error) {
	h = &hold{}
	for _, p := range turnPaths(c) {
		tk := join(b, p)
		h.tickets = append(h.tickets, tk)
		if tk.head() {
			continue
		}
		waited = true
		if err := tk.wait(ctx); err != nil {
			h.release()
			return nil, false, err
		}
	}
	return h, waited, nil
}

// release leaves every queue of h, handing each turn on.
func (h *hold) release() {
	for _, tk := range h.tickets {
		tk.leave()
	}
}

// join puts a new ticket at the end of path's queue of b.
func join(b backend.Backend, path string) *ticket {
	turns.Lock()
	defer turns.Unlock()
	k := turnKey{b, path}
	q := turns.q[k]
	if q == nil {
		q = &turnQueue{}
		turns.q[k] = q
	}
	tk := &ticket{key: k, turn: make(chan struct{})}
	q.line = append(q.line, tk)
	if len(q.line) == 1 {
		close(tk.turn)
	}
	return tk
}

// wait blocks until tk has the turn, maxTurnWait has passed, or ctx ends.
func (tk *ticket) wait(ctx context.Context) error {
	tm := time.NewTimer(maxTurnWait)
	defer tm.Stop()
	select {
	case <-tk.turn:
		return nil
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// head reports whether tk has the turn.
func (tk *ticket) head() bool {
	select {
	case <-tk.turn:
		return true
	default:
		return false
	}
}

// leave takes tk out of its queue, handing the turn on if it had it.
func (tk *ticket) leave() {
	turns.Lock()
	defer turns.Unlock()
	q := turns.q[tk.key]
	if q == nil {
		return
	}
	for i, x := range q.line {
		if x != tk {
			continue
		}
		q.line = append(q.line[:i], q.line[i+1:]...)
		if i == 0 && len(q.line) > 0 {
			close(q.line[0].turn)
		}
		break
	}
	if len(q.line) == 0 {
		delete(turns.q, tk.key)
	}
}
