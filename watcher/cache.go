package watcher

import (
	"context"
	"fmt"
	"sync"

	"github.com/sdpconfig/sdpconfig/backend"
)

// watchDepth is the depth of the deepest keys a Watcher's stream covers:
// twice backend.MaxDepth, so that the subtree of any key of MaxDepth levels
// (what a recursive delete checks) is covered.
const watchDepth = 2 * backend.MaxDepth

// watchRanges returns the ranges of the Watcher's one stream: every key of
// the backend, at every depth from 1 to watchDepth.
func watchRanges() []backend.Range {
	rs := make([]backend.Range, watchDepth)
	for d := 1; d <= watchDepth; d++ {
		rs[d-1] = backend.PrefixAt("/", d)
	}
	return rs
}

// tooDeep returns the error for a read below watchDepth.
func tooDeep(op, path string) error {
	return backend.WrapPath(op, path, fmt.Errorf("%w: watcher transactions read keys at most %d levels deep",
		backend.ErrInvalidPath, watchDepth))
}

// The cache is a partial, multi-version copy of the store, kept current by
// the Watcher's stream, which covers the whole keyspace from the cache's
// base revision on.
//
//   - rev: every event up to rev has been applied. Reads are served at any
//     revision from logFrom to rev.
//   - Keys and listed ranges enter the cache when a read misses: the key or
//     range is read from the store at the reader's revision R, then the
//     events after R that the stream already delivered are replayed on it
//     from the log. From then on the stream keeps it current; events for
//     keys and ranges the cache does not hold are ignored.
//   - A key keeps the versions that reads at a pinned revision may need (the
//     latest one at or before logFrom, and the ones after it). Transactions
//     pin the revision they read at; logFrom is the oldest pinned revision
//     (rev when nothing is pinned), and the log holds every event after it.
//   - A listed range holds every key in it that exists at some revision
//     served; a key deleted for good (as seen from logFrom on) is dropped.
//   - gen counts relists: after a compaction cut the stream's history, the
//     cache is emptied and starts again at a new base revision.
//
// One mutex guards it all; no I/O is done while it is held.
type cache struct {
	b    backend.Backend
	st   *counters
	kick chan struct{} // capacity 1: ask the feed for a progress response

	mu      sync.Mutex
	ready   bool  // start has been called
	err     error // the cache is dead: every call fails with err
	rev     int64 // every event up to rev is applied
	base    int64 // the stream covers every event after base (this gen)
	logFrom int64 // log holds every event after logFrom; >= base
	gen     uint64
	keys    map[string]*keyEntry
	ranges  map[rangeID]*rangeEntry
	lens    map[int][]int // depth -> sorted distinct prefix lengths of ranges
	log     []logEvent
	pins    map[int64]int // pinned revisions -> number of pins
	npins   int
	multi   map[*keyEntry]struct{} // keys holding more than one version
	changed chan struct{}          // closed (and replaced) when rev, gen or err change
	waiter  *waitSet               // the loop's wait, nil when not waiting
	waitSeq uint64

	// Eviction (cache_evict.go).
	budget    int    // most keys kept; <= 0: no bound
	epoch     uint32 // the mark of reads; moves on at each sweep and iteration
	iterStart uint32 // the epoch the current iteration started at
	nextSweep int    // sweep when the cache holds more keys than this
}

type logEvent struct {
	rev int64
	ev  backend.Event
}

// newCache returns a cache of b that keeps at most budget keys beyond
// those the loop needs (no bound if budget <= 0).
func newCache(b backend.Backend, st *counters, budget int) *cache {
	return &cache{
		budget:    budget,
		nextSweep: budget + budget/8,
		b:         b,
		st:        st,
		kick:      make(chan struct{}, 1),
		keys:      make(map[string]*keyEntry),
		ranges:    make(map[rangeID]*rangeEntry),
		lens:      make(map[int][]int),
		pins:      make(map[int64]int),
		multi:     make(map[*keyEntry]struct{}),
		changed:   make(chan struct{}),
	}
}

// broadcast wakes everyone waiting for a change of rev, gen or err. The
// caller holds c.mu.
func (c *cache) broadcast() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// start makes the cache serve reads, empty, at revision rev: the stream
// delivers every event after rev.
func (c *cache) start(rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ready = true
	c.gen = 1
	c.rev, c.base, c.logFrom = rev, rev, rev
	c.broadcast()
}

// relist drops everything cached and starts again at revision rev, after
// the history the stream needed was compacted away. A waiting loop wakes
// with Relisted.
func (c *cache) relist(rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.rev, c.base = max(c.rev, rev), rev
	c.logFrom = c.rev
	clear(c.keys)
	clear(c.ranges)
	clear(c.lens)
	clear(c.multi)
	c.log = nil
	if c.waiter != nil {
		c.waiter.fire(Relisted, nil)
	}
	c.broadcast()
}

// fail kills the cache: every call fails with err from now on.
func (c *cache) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.waiter != nil {
		c.waiter.fire(0, err)
	}
	c.broadcast()
}

// revision returns the cache's revision (0 before start).
func (c *cache) revision() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rev
}

// requestProgress asks the feed for a progress response, so that rev
// catches up with the store even if no event comes.
func (c *cache) requestProgress() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// waitRev waits until the cache has applied every event up to rev (and has
// started, for rev 0).
func (c *cache) waitRev(ctx context.Context, rev int64) error {
	asked := false
	for {
		c.mu.Lock()
		err, ok, ch := c.err, c.ready && c.rev >= rev, c.changed
		c.mu.Unlock()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if !asked && rev > 0 {
			c.requestProgress()
			asked = true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("watcher: waiting for revision %d: %w", rev, context.Cause(ctx))
		}
	}
}

// pin waits until the cache has applied min, then pins its revision: the
// versions and events reads at it need are kept until unpin. It returns the
// revision and the generation.
func (c *cache) pin(ctx context.Context, min int64) (int64, uint64, error) {
	if err := c.waitRev(ctx, min); err != nil {
		return 0, 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, 0, c.err
	}
	c.pins[c.rev]++
	c.npins++
	return c.rev, c.gen, nil
}

// pinAt pins rev if the cache can serve it, and reports whether it did.
func (c *cache) pinAt(rev int64) (bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || !c.servable(rev) {
		return false, c.gen
	}
	c.pins[rev]++
	c.npins++
	return true, c.gen
}

// unpin releases a pin of rev.
func (c *cache) unpin(rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pins[rev] <= 1 {
		delete(c.pins, rev)
	} else {
		c.pins[rev]--
	}
	c.npins--
	c.advanceLog()
}

// servable reports whether reads at rev can be served (or loaded into)
// the cache. The caller holds c.mu.
func (c *cache) servable(rev int64) bool {
	return c.ready && rev >= c.logFrom && rev <= c.rev
}

// advanceLog moves logFrom up to the oldest pin (rev if none), dropping the
// events and versions no read can need any more. The caller holds c.mu.
func (c *cache) advanceLog() {
	from := c.rev
	for r := range c.pins {
		from = min(from, r)
	}
	if from <= c.logFrom {
		return
	}
	c.logFrom = from
	i := 0
	for i < len(c.log) && c.log[i].rev <= from {
		i++
	}
	c.log = c.log[i:]
	if len(c.log) == 0 {
		c.log = nil
	}
	for e := range c.multi {
		c.prune(e)
	}
}

// apply applies one response of the stream. Events the cache already
// applied (a resumed stream may repeat none, but a store might) are
// skipped.
func (c *cache) apply(resp backend.WatchResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	from := c.rev
	for _, ev := range resp.Events {
		if ev.KV.ModRevision > from {
			c.applyEvent(ev)
		}
	}
	top := resp.Revision
	if n := len(resp.Events); n > 0 {
		top = max(top, resp.Events[n-1].KV.ModRevision)
	}
	if top > c.rev {
		c.rev = top
		if c.npins == 0 {
			c.logFrom = c.rev
		}
		c.broadcast()
	}
}

// applyEvent applies one event. The caller holds c.mu.
func (c *cache) applyEvent(ev backend.Event) {
	rev, path := ev.KV.ModRevision, ev.KV.Path
	if c.npins > 0 {
		c.log = append(c.log, logEvent{rev: rev, ev: ev})
	}
	e := c.keys[path]
	var matched []*rangeEntry
	c.eachRange(path, func(rg *rangeEntry) { matched = append(matched, rg) })
	if e == nil && len(matched) == 0 {
		return
	}
	if e == nil {
		// A key new to cached ranges: it was absent from each since it
		// was loaded, or it would be a member.
		since := matched[0].since
		for _, rg := range matched[1:] {
			since = min(since, rg.since)
		}
		e = &keyEntry{path: path, vs: []version{{since: since, kv: backend.KeyValue{Path: path}}}}
		c.keys[path] = e
	}
	c.addVersion(e, versionOf(ev))
	e.lastEvent = rev
	c.touched(e.waitSeq, e.waitRev, rev)
	for _, rg := range matched {
		rg.members[path] = e
		rg.lastEvent = rev
		c.touched(rg.waitSeq, rg.waitRev, rev)
	}
	if len(e.vs) == 1 && !e.direct && !e.vs[0].present {
		c.drop(e)
	}
}
