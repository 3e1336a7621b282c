package watcher

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Listed ranges in the cache: a range answers for every key of a prefix
// at one depth, from the revision it was loaded at on.

type rangeID struct {
	prefix string
	depth  int
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
