package watcher

import (
	"github.com/sdpconfig/sdpconfig/backend"
)

// The loop's wait: what the last iteration read, and the change that ends
// the wait.

// watchItem is a key or range a transaction read, the snapshot revision it
// read it at, and the cache generation.
type watchItem struct {
	r   backend.Range
	rev int64
	gen uint64
}

// waitSet is one wait of the loop for a change of what it read.
type waitSet struct {
	seq    uint64
	fired  chan struct{}
	reason Reason
	err    error
}

// fire ends the wait with reason or err, the first time only. The caller
// holds the cache's mutex.
func (ws *waitSet) fire(reason Reason, err error) {
	select {
	case <-ws.fired:
	default:
		ws.reason, ws.err = reason, err
		close(ws.fired)
	}
}

// touched wakes the waiting loop if it waits on an entry (seq) read at
// waitRev that has just changed at rev. The caller holds c.mu.
func (c *cache) touched(seq uint64, waitRev, rev int64) {
	if c.waiter != nil && seq == c.waiter.seq && rev > waitRev {
		c.waiter.fire(Changed, nil)
	}
}

// watch starts a wait of the loop for a change of any of items after the
// revision it was read at. The returned wait has fired already if one
// changed before the call (or cannot be told apart from one that did: a
// key the cache did not keep). Call unwatch when the wait is over.
func (c *cache) watch(items []watchItem) *waitSet {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waitSeq++
	ws := &waitSet{seq: c.waitSeq, fired: make(chan struct{})}
	if c.err != nil {
		ws.fire(0, c.err)
		return ws
	}
	for _, it := range items {
		if it.gen != c.gen {
			ws.fire(Relisted, nil)
			return ws
		}
	}
	for _, it := range items {
		var since, last int64
		var seq *uint64
		var waitRev *int64
		if it.r.Prefix {
			rg := c.ranges[rangeID{it.r.Path, it.r.KeyDepth()}]
			if rg == nil {
				ws.fire(Changed, nil)
				return ws
			}
			since, last, seq, waitRev = rg.since, rg.lastEvent, &rg.waitSeq, &rg.waitRev
		} else {
			e := c.keys[it.r.Path]
			if e == nil {
				ws.fire(Changed, nil)
				return ws
			}
			since, last, seq, waitRev = e.since(), e.lastEvent, &e.waitSeq, &e.waitRev
		}
		if since > it.rev || last > it.rev {
			ws.fire(Changed, nil)
			return ws
		}
		if *seq != ws.seq {
			*seq, *waitRev = ws.seq, it.rev
		} else {
			*waitRev = min(*waitRev, it.rev)
		}
	}
	c.waiter = ws
	return ws
}

// unwatch ends the wait ws.
func (c *cache) unwatch(ws *waitSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiter == ws {
		c.waiter = nil
	}
	c.newIteration()
}
