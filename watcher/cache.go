package watcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

type rangeID struct {
	prefix string
	depth  int
}

// version is a key's state from revision since on (until the next one).
type version struct {
	since   int64
	kv      backend.KeyValue
	present bool
}

type keyEntry struct {
	path      string
	vs        []version // oldest first; never empty
	direct    bool      // read by Get (not only listed): not dropped when deleted
	used      uint32    // the epoch of the last read (cache_evict.go)
	lastEvent int64     // revision of the latest event applied to it
	waitSeq   uint64    // == cache's waiter seq when the loop waits on it
	waitRev   int64     // the loop wakes on an event after waitRev
}

// since returns the oldest revision the entry can answer for.
func (e *keyEntry) since() int64 { return e.vs[0].since }

// at returns the entry's version at rev, if it holds one.
func (e *keyEntry) at(rev int64) (version, bool) {
	for i := len(e.vs) - 1; i >= 0; i-- {
		if e.vs[i].since <= rev {
			return e.vs[i], true
		}
	}
	return version{}, false
}

type rangeEntry struct {
	id        rangeID
	since     int64                // oldest revision the members answer for
	members   map[string]*keyEntry // every key of the range seen since since
	used      uint32               // the epoch of the last read (cache_evict.go)
	lastEvent int64
	waitSeq   uint64
	waitRev   int64
}

type logEvent struct {
	rev int64
	ev  backend.Event
}

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

// prune drops the versions of e older than the one current at logFrom
// (when nothing is pinned, all but the latest), and drops e itself when it
// is a listed key deleted for good. The caller holds c.mu.
func (c *cache) prune(e *keyEntry) {
	keep := len(e.vs) - 1
	if c.npins > 0 {
		for keep > 0 && e.vs[keep].since > c.logFrom {
			keep--
		}
	}
	if keep > 0 {
		e.vs = append(e.vs[:0], e.vs[keep:]...)
	}
	if len(e.vs) == 1 {
		delete(c.multi, e)
		if !e.direct && !e.vs[0].present {
			c.drop(e)
		}
	}
}

// drop removes a listed key, deleted for good, from the cache. The caller
// holds c.mu.
func (c *cache) drop(e *keyEntry) {
	delete(c.keys, e.path)
	c.eachRange(e.path, func(rg *rangeEntry) {
		if rg.members[e.path] == e {
			delete(rg.members, e.path)
		}
	})
}

// eachRange calls fn for each cached range that holds path. The caller
// holds c.mu.
func (c *cache) eachRange(path string, fn func(*rangeEntry)) {
	d := backend.Depth(path)
	for _, n := range c.lens[d] {
		if n > len(path) {
			break
		}
		if rg := c.ranges[rangeID{path[:n], d}]; rg != nil {
			fn(rg)
		}
	}
}

// addRange registers a new range entry. The caller holds c.mu.
func (c *cache) addRange(id rangeID) *rangeEntry {
	rg := &rangeEntry{id: id, members: make(map[string]*keyEntry)}
	c.ranges[id] = rg
	ls := c.lens[id.depth]
	if i, found := slices.BinarySearch(ls, len(id.prefix)); !found {
		c.lens[id.depth] = slices.Insert(ls, i, len(id.prefix))
	}
	return rg
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

func versionOf(ev backend.Event) version {
	if ev.Type == backend.EventDelete {
		return version{since: ev.KV.ModRevision, kv: backend.KeyValue{Path: ev.KV.Path}}
	}
	return version{since: ev.KV.ModRevision, kv: ev.KV, present: true}
}

// addVersion appends v to e's versions: the only one when nothing is
// pinned. The caller holds c.mu.
func (c *cache) addVersion(e *keyEntry, v version) {
	if c.npins == 0 {
		e.vs = append(e.vs[:0], v)
		delete(c.multi, e)
		return
	}
	e.vs = append(e.vs, v)
	c.multi[e] = struct{}{}
}

// touched wakes the waiting loop if it waits on an entry (seq) read at
// waitRev that has just changed at rev. The caller holds c.mu.
func (c *cache) touched(seq uint64, waitRev, rev int64) {
	if c.waiter != nil && seq == c.waiter.seq && rev > waitRev {
		c.waiter.fire(Changed, nil)
	}
}

// insertKey sets the entry of path from its state at rev, read from the
// store, and the events after rev from the log, and returns it (nil if it
// is a listed key deleted for good and not kept). The caller holds c.mu
// and has checked that the log covers rev (rev >= logFrom).
func (c *cache) insertKey(path string, rev int64, kv backend.KeyValue, present, direct bool) *keyEntry {
	e := c.keys[path]
	if e == nil {
		e = &keyEntry{path: path}
		c.keys[path] = e
	}
	e.direct = e.direct || direct
	kv.Path = path
	e.vs = append(e.vs[:0], version{since: rev, kv: kv, present: present})
	for _, le := range c.log {
		if le.rev > rev && le.ev.KV.Path == path {
			e.vs = append(e.vs, versionOf(le.ev))
			e.lastEvent = max(e.lastEvent, le.rev)
		}
	}
	c.eachRange(path, func(rg *rangeEntry) { rg.members[path] = e })
	if len(e.vs) > 1 {
		c.multi[e] = struct{}{}
	}
	c.prune(e)
	return c.keys[path]
}

// get returns the key at path as it was at rev, from the cache, loading it
// from the store if the cache does not hold it.
func (c *cache) get(ctx context.Context, path string, rev int64) (backend.KeyValue, bool, error) {
	if backend.Depth(path) > watchDepth {
		return backend.KeyValue{}, false, tooDeep("get", path)
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return backend.KeyValue{}, false, c.err
	}
	gen := c.gen
	if c.servable(rev) {
		if kv, present, ok := c.getCached(path, rev); ok {
			c.mu.Unlock()
			c.st.hits.Add(1)
			return kv, present, nil
		}
	}
	c.mu.Unlock()

	c.st.misses.Add(1)
	kv, _, err := c.b.Get(ctx, path, rev)
	present := true
	if errors.Is(err, backend.ErrNotFound) {
		kv, present, err = backend.KeyValue{Path: path}, false, nil
	}
	if err != nil {
		if errors.Is(err, backend.ErrCompacted) {
			c.requestProgress()
		}
		return backend.KeyValue{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.gen == gen && c.servable(rev) {
		e := c.keys[path]
		if e == nil || e.since() > rev {
			e = c.insertKey(path, rev, kv, present, true)
		} else {
			e.direct = true
		}
		if e != nil {
			c.mark(e)
		}
		c.maybeEvict()
	}
	return kv, present, nil
}

// getCached answers a read of path at rev from the cache, if it can. The
// caller holds c.mu and has checked that rev is servable.
func (c *cache) getCached(path string, rev int64) (backend.KeyValue, bool, bool) {
	if e := c.keys[path]; e != nil {
		if e.since() > rev {
			return backend.KeyValue{}, false, false
		}
		v, _ := e.at(rev)
		e.direct = true
		c.mark(e)
		return v.kv, v.present, true
	}
	// A cached range that holds path and has no entry for it: the key was
	// absent at every revision served.
	var since int64 = -1
	c.eachRange(path, func(rg *rangeEntry) {
		if rg.since <= rev && (since < 0 || rg.since < since) {
			since = rg.since
		}
	})
	if since < 0 {
		return backend.KeyValue{}, false, false
	}
	since = max(since, c.logFrom)
	c.keys[path] = &keyEntry{path: path, direct: true, used: c.epoch,
		vs: []version{{since: since, kv: backend.KeyValue{Path: path}}}}
	return backend.KeyValue{Path: path}, false, true
}

// list returns the keys at the absolute depths under prefix as they were
// at rev, sorted by path, from the cache, loading the ranges it does not
// hold from the store (in one List).
func (c *cache) list(ctx context.Context, prefix string, depths []int, rev int64) ([]backend.KeyValue, error) {
	for _, d := range depths {
		if d > watchDepth {
			return nil, tooDeep("list", prefix)
		}
	}
	var out []backend.KeyValue
	var missing []int
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	gen := c.gen
	ok := c.servable(rev)
	for _, d := range depths {
		rg := c.ranges[rangeID{prefix, d}]
		if !ok || rg == nil || rg.since > rev {
			missing = append(missing, d)
			continue
		}
		c.markRange(rg)
		for _, e := range rg.members {
			if v, found := e.at(rev); found && v.present {
				out = append(out, v.kv)
			}
		}
	}
	c.mu.Unlock()
	c.st.hits.Add(int64(len(depths) - len(missing)))

	if len(missing) > 0 {
		c.st.misses.Add(int64(len(missing)))
		base := backend.Depth(prefix)
		rel := make([]int, len(missing))
		for i, d := range missing {
			rel[i] = d - base
		}
		res, err := c.b.List(ctx, prefix, backend.ListOptions{Depths: rel, Revision: rev, WithValues: true})
		if err != nil {
			if errors.Is(err, backend.ErrCompacted) {
				c.requestProgress()
			}
			return nil, err
		}
		c.mu.Lock()
		if c.err == nil && c.gen == gen && c.servable(rev) {
			c.insertRanges(prefix, missing, rev, res.KVs)
			c.maybeEvict()
		}
		c.mu.Unlock()
		out = append(out, res.KVs...)
	}
	slices.SortFunc(out, func(a, b backend.KeyValue) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// insertRanges sets the ranges at depths under prefix from their keys at
// rev, read from the store, and the events after rev from the log. The
// caller holds c.mu and has checked that the log covers rev.
func (c *cache) insertRanges(prefix string, depths []int, rev int64, kvs []backend.KeyValue) {
	set := make(map[int]*rangeEntry, len(depths))
	for _, d := range depths {
		id := rangeID{prefix, d}
		rg := c.ranges[id]
		switch {
		case rg == nil:
			rg = c.addRange(id)
		case rg.since <= rev:
			continue // loaded meanwhile, at an older revision: keep it
		default:
			clear(rg.members)
		}
		rg.since = rev
		c.markRange(rg)
		set[d] = rg
	}
	if len(set) == 0 {
		return
	}
	for _, kv := range kvs {
		rg := set[backend.Depth(kv.Path)]
		if rg == nil {
			continue
		}
		e := c.keys[kv.Path]
		if e == nil || e.since() > rev {
			e = c.insertKey(kv.Path, rev, kv, true, false)
		}
		if e != nil {
			rg.members[kv.Path] = e
		}
	}
	// Keys created in the ranges after rev, which the stream delivered
	// before the ranges were cached.
	for _, le := range c.log {
		if le.rev <= rev {
			continue
		}
		p := le.ev.KV.Path
		rg := set[backend.Depth(p)]
		if rg == nil || !strings.HasPrefix(p, prefix) {
			continue
		}
		if _, listed := rg.members[p]; !listed {
			// Not listed at rev: absent then.
			e := c.keys[p]
			if e == nil || e.since() > rev {
				e = c.insertKey(p, rev, backend.KeyValue{}, false, false)
			}
			if e != nil {
				rg.members[p] = e
			}
		}
		rg.lastEvent = max(rg.lastEvent, le.rev)
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
