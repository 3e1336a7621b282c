package watcher

// Eviction keeps the cache within a budget of keys (Options.CacheKeys),
// least recently used first, approximated as CLOCK does: every read marks
// its key or range with the current epoch, and a sweep, run when the cache
// has grown an eighth over its budget, drops what no read marked since the
// sweep before. A sweep never drops:
//   - what the loop waits on (it would miss the change it waits for);
//   - what the current iteration read (its wait would then fire at once);
//   - a key holding versions older than its latest, which a pinned
//     transaction may need;
//   - a listed key alone: a range answers for its keys only with all of
//     them, so a range is evicted as a whole, with the members no other
//     range holds and no Get read.
//
// Read-your-writes does not depend on what is cached: a transaction reads
// at a revision at or after its last commit, and a key not cached is read
// from the store at that revision. The one stream is not touched.

// DefaultCacheKeys is the budget of a Watcher's cache when
// Options.CacheKeys is 0.
const DefaultCacheKeys = 100_000

// mark records that a read used e. The caller holds c.mu.
func (c *cache) mark(e *keyEntry) { e.used = c.epoch }

// markRange records that a read used rg. The caller holds c.mu.
func (c *cache) markRange(rg *rangeEntry) { rg.used = c.epoch }

// newIteration starts an iteration of the loop: what it reads from now on
// is kept until its wait ends. The caller holds c.mu.
func (c *cache) newIteration() {
	c.epoch++
	c.iterStart = c.epoch
	c.nextSweep = c.budget + c.budget/8
}

// maybeEvict runs a sweep when the cache has outgrown its budget. The
// caller holds c.mu.
func (c *cache) maybeEvict() {
	if c.budget <= 0 || len(c.keys) <= c.nextSweep {
		return
	}
	c.sweep()
	// When the current iteration holds more than the budget, sweep again
	// only after another eighth: sweeps stay O(1) per insert.
	c.nextSweep = max(c.budget, len(c.keys)) + max(c.budget/8, 1)
}

// sweep drops the ranges and keys not used since the last sweep and not
// protected (see above), until the cache is within its budget. The caller
// holds c.mu.
func (c *cache) sweep() {
	last := c.epoch // marks older than this were made before the last sweep
	c.epoch++
	evicted := 0
	for id, rg := range c.ranges {
		if len(c.keys) <= c.budget {
			break
		}
		if rg.used >= last || rg.used >= c.iterStart || c.waited(rg.waitSeq) || c.rangeHasHistory(rg) {
			continue
		}
		c.dropRange(id, rg)
		evicted++
	}
	for path, e := range c.keys {
		if len(c.keys) <= c.budget {
			break
		}
		if e.used >= last || e.used >= c.iterStart || c.waited(e.waitSeq) || len(e.vs) > 1 || c.listed(e) {
			continue
		}
		delete(c.keys, path)
		evicted++
	}
	c.st.evictions.Add(int64(evicted))
}

// waited reports whether the loop's current wait includes the entry whose
// waitSeq is seq. The caller holds c.mu.
func (c *cache) waited(seq uint64) bool { return c.waiter != nil && seq == c.waiter.seq }

// listed reports whether a cached range holds e. The caller holds c.mu.
func (c *cache) listed(e *keyEntry) bool {
	found := false
	c.eachRange(e.path, func(rg *rangeEntry) { found = found || rg.members[e.path] == e })
	return found
}

// rangeHasHistory reports whether a member of rg holds older versions. The
// caller holds c.mu.
func (c *cache) rangeHasHistory(rg *rangeEntry) bool {
	for _, e := range rg.members {
		if len(e.vs) > 1 {
			return true
		}
	}
	return false
}

// dropRange removes a range, and those of its members that no Get read and
// no other range holds. The caller holds c.mu.
func (c *cache) dropRange(id rangeID, rg *rangeEntry) {
	delete(c.ranges, id)
	if !c.sameLength(id) {
		ls := c.lens[id.depth]
		for i, n := range ls {
			if n == len(id.prefix) {
				c.lens[id.depth] = append(ls[:i:i], ls[i+1:]...)
				break
			}
		}
		if len(c.lens[id.depth]) == 0 {
			delete(c.lens, id.depth)
		}
	}
	for path, e := range rg.members {
		if !e.direct && !c.listed(e) {
			delete(c.keys, path)
		}
	}
}

// sameLength reports whether another cached range at id's depth has a
// prefix of the same length (lens lists distinct lengths). The caller
// holds c.mu.
func (c *cache) sameLength(id rangeID) bool {
	for other := range c.ranges {
		if other.depth == id.depth && len(other.prefix) == len(id.prefix) {
			return true
		}
	}
	return false
}

// size returns the number of keys and ranges cached.
func (c *cache) size() (keys, ranges int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys), len(c.ranges)
}

// footprint returns the keys the cache holds, the bytes of their paths and
// current values, and its revision, for metrics.
func (c *cache) footprint() (keys int, bytes, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, e := range c.keys {
		bytes += int64(len(p))
		if n := len(e.vs); n > 0 {
			bytes += int64(len(e.vs[n-1].kv.Value))
		}
	}
	return len(c.keys), bytes, c.rev
}
