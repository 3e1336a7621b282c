package watcher

import (
	"context"
	"errors"

	"github.com/sdpconfig/sdpconfig/backend"
)

// The versions of cached keys, and how a cached read picks one: a key
// holds the versions reads at pinned revisions may need, and a read at
// revision R takes the latest version at or before R.

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
