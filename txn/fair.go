package txn

import (
	"context"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Transactions of one process that conflict on a key take turns: after a
// conflict, a transaction queues on the key its commit compared first,
// and the queue lets one at a time try again, in order of arrival. A new
// transaction whose commit would compare a key that has a queue joins it
// instead of committing ahead of those waiting. So a hot key is committed
// to in first-come order, and no transaction starves while newcomers keep
// winning, as they do with back-off alone. Transactions of other
// processes are not in the queue; against them the back-off still works.

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

// queued reports whether path of b has a queue (some transaction waits for
// its turn there).
func queued(b backend.Backend, path string) bool {
	turns.Lock()
	defer turns.Unlock()
	return turns.q[turnKey{b, path}] != nil
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

// maxTurnWait bounds a wait for the turn: a transaction run inside
// another's function, on the key the outer one holds the turn of, must
// not wait for it forever. After it, the transaction tries anyway.
const maxTurnWait = time.Second

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
