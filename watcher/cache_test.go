package watcher

import (
	"context"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
)

// cacheRig is a cache over a memory backend, fed by hand from a real watch
// stream of the whole keyspace, so that tests choose when events apply.
type cacheRig struct {
	t  *testing.T
	b  *memory.Backend
	c  *cache
	st *counters
	s  backend.WatchStream
}

func newCacheRig(t *testing.T) *cacheRig {
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	st := &counters{}
	c := newCache(b, st, -1)
	rev, err := b.Revision(context.Background())
	assert.NilError(t, err)
	c.start(rev)
	s, err := b.Watch(context.Background(), watchRanges(), rev+1)
	assert.NilError(t, err)
	t.Cleanup(func() { s.Close() })
	return &cacheRig{t: t, b: b, c: c, st: st, s: s}
}

func (r *cacheRig) put(path, value string) int64 {
	r.t.Helper()
	rev, err := r.b.Commit(context.Background(), backend.Txn{Then: []backend.Op{backend.Put(path, value, backend.NoLease)}})
	assert.NilError(r.t, err)
	return rev.Revision
}

func (r *cacheRig) del(path string) int64 {
	r.t.Helper()
	res, err := r.b.Delete(context.Background(), path, backend.DeleteOptions{MustExist: true})
	assert.NilError(r.t, err)
	return res.Revision
}

// sync applies the stream's responses until the cache is at the store's
// revision.
func (r *cacheRig) sync() {
	r.t.Helper()
	want, err := r.b.Revision(context.Background())
	assert.NilError(r.t, err)
	for r.c.revision() < want {
		select {
		case resp := <-r.s.Responses():
			assert.NilError(r.t, resp.Err)
			r.c.apply(resp)
		case <-time.After(10 * time.Second):
			r.t.Fatal("no watch response")
		}
	}
}

// get reads path at rev and returns "value" or "absent".
func (r *cacheRig) get(path string, rev int64) string {
	r.t.Helper()
	kv, ok, err := r.c.get(context.Background(), path, rev)
	assert.NilError(r.t, err)
	if !ok {
		return "absent"
	}
	return kv.Value
}

// list lists the children of prefix at rev as "path=value".
func (r *cacheRig) list(prefix string, rev int64) []string {
	r.t.Helper()
	kvs, err := r.c.list(context.Background(), prefix, []int{backend.Depth(prefix)}, rev)
	assert.NilError(r.t, err)
	out := []string{}
	for _, kv := range kvs {
		out = append(out, kv.Path+"="+kv.Value)
	}
	return out
}

func (r *cacheRig) pin() int64 {
	r.t.Helper()
	rev, _, err := r.c.pin(context.Background(), 0)
	assert.NilError(r.t, err)
	return rev
}

func (r *cacheRig) counts() (hits, misses int64) { return r.st.hits.Load(), r.st.misses.Load() }

// A pinned revision keeps the versions reads at it need; unpinning drops
// them.
func TestCacheKeepsVersionsOfPinnedRevisions(t *testing.T) {
	r := newCacheRig(t)
	r.put("/k", "1")
	r.sync()
	old := r.pin()
	assert.Equal(t, r.get("/k", old), "1")
	r.put("/k", "2")
	r.put("/k", "3")
	r.sync()
	now := r.c.revision()
	assert.Equal(t, r.get("/k", old), "1")
	assert.Equal(t, r.get("/k", now), "3")
	assert.Equal(t, len(r.c.keys["/k"].vs), 3)
	r.c.unpin(old)
	assert.Equal(t, len(r.c.keys["/k"].vs), 1)
	assert.Equal(t, len(r.c.log), 0)
	hits, misses := r.counts()
	assert.Equal(t, hits, int64(2))
	assert.Equal(t, misses, int64(1))
}

// A key loaded at a pinned revision older than the cache's is read from
// the store at that revision, then brought up to date from the log.
func TestCacheLoadReplaysTheLog(t *testing.T) {
	r := newCacheRig(t)
	r.put("/k", "1")
	r.sync()
	old := r.pin()
	r.put("/k", "2")
	r.put("/other", "x")
	r.sync()
	assert.Equal(t, len(r.c.log), 2)
	assert.Equal(t, r.get("/k", old), "1") // a miss: loaded at old
	now := r.c.revision()
	assert.Equal(t, r.get("/k", now), "2") // a hit: replayed
	hits, misses := r.counts()
	assert.Equal(t, hits, int64(1))
	assert.Equal(t, misses, int64(1))
	assert.Equal(t, r.c.keys["/k"].lastEvent, now-1)
	r.c.unpin(old)
	assert.Equal(t, len(r.c.log), 0)
}

// A range loaded at an old pinned revision gets the keys created after it
// from the log; a key deleted for good leaves the range and the cache.
func TestCacheRangeLoadAndDrop(t *testing.T) {
	r := newCacheRig(t)
	r.put("/r/a", "1")
	r.put("/r/gone", "1")
	r.sync()
	old := r.pin()
	r.put("/r/b", "2")
	r.del("/r/gone")
	r.put("/r/a/deeper", "x")
	r.sync()
	now := r.c.revision()
	assert.DeepEqual(t, r.list("/r/", old), []string{"/r/a=1", "/r/gone=1"})
	assert.DeepEqual(t, r.list("/r/", now), []string{"/r/a=1", "/r/b=2"})
	hits, misses := r.counts()
	assert.Equal(t, misses, int64(1))
	assert.Equal(t, hits, int64(1))
	// Get of a key in the cached range, absent, is answered by the range.
	assert.Equal(t, r.get("/r/never", now), "absent")
	hits, misses = r.counts()
	assert.Equal(t, misses, int64(1))

	r.c.unpin(old)
	_, kept := r.c.keys["/r/gone"]
	assert.Assert(t, !kept, "a deleted listed key stays cached")
	assert.Equal(t, len(r.c.ranges[rangeID{"/r/", 2}].members), 2)

	// Without pins, a delete drops the key at once.
	r.del("/r/b")
	r.sync()
	_, kept = r.c.keys["/r/b"]
	assert.Assert(t, !kept)
	assert.DeepEqual(t, r.list("/r/", r.c.revision()), []string{"/r/a=1"})
}

// The loop's wait fires for a change after the revision an item was read
// at, whether it came before the wait started or during it, and not for
// other keys.
func TestCacheWatch(t *testing.T) {
	r := newCacheRig(t)
	r.put("/a", "1")
	r.put("/r/x", "1")
	r.sync()
	rev := r.c.revision()
	assert.Equal(t, r.get("/a", rev), "1")
	assert.DeepEqual(t, r.list("/r/", rev), []string{"/r/x=1"})
	items := []watchItem{
		{r: backend.Key("/a"), rev: rev, gen: 1},
		{r: backend.PrefixAt("/r/", 2), rev: rev, gen: 1},
	}
	fired := func(ws *waitSet) bool {
		select {
		case <-ws.fired:
			return true
		default:
			return false
		}
	}

	ws := r.c.watch(items)
	r.put("/b", "x")
	r.put("/r/x/y", "x")
	r.put("/rr", "x")
	r.sync()
	assert.Assert(t, !fired(ws))
	r.put("/r/new", "x")
	r.sync()
	assert.Assert(t, fired(ws))
	assert.Equal(t, ws.reason, Changed)
	r.c.unwatch(ws)

	// A change before the wait starts.
	ws = r.c.watch(items[:1])
	assert.Assert(t, !fired(ws))
	r.c.unwatch(ws)
	r.put("/a", "2")
	r.sync()
	ws = r.c.watch(items[:1])
	assert.Assert(t, fired(ws))
	r.c.unwatch(ws)

	// A relist wakes every wait of the old generation.
	rev = r.c.revision()
	ws = r.c.watch([]watchItem{{r: backend.Key("/a"), rev: rev, gen: 1}})
	assert.Assert(t, !fired(ws))
	r.c.relist(rev)
	assert.Assert(t, fired(ws))
	assert.Equal(t, ws.reason, Relisted)
	r.c.unwatch(ws)
	ws = r.c.watch([]watchItem{{r: backend.Key("/a"), rev: rev, gen: 1}})
	assert.Equal(t, ws.reason, Relisted)
	assert.Equal(t, len(r.c.keys), 0)
}
