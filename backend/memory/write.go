package memory

import (
	"github.com/sdpconfig/sdpconfig/backend"
)

// writeBatch applies the writes of one revision. Writes are appended to
// the keys' histories at rev = b.rev+1, and the store revision moves to rev
// in commit, only if something was written. The caller holds b.mu for the
// batch's whole life.
type writeBatch struct {
	b       *Backend
	rev     int64
	n       int   // writes so far: the position of the next one
	deleted int64 // keys deleted
	watched bool  // streams are open: collect events
	events  []backend.Event
}

func (b *Backend) newBatch() *writeBatch {
	return &writeBatch{b: b, rev: b.rev + 1, watched: len(b.streams) > 0}
}

// put writes value to path, attached to lease, or with keepLease to the
// lease the key has.
func (w *writeBatch) put(path, value string, lease backend.LeaseID, keepLease bool) {
	b := w.b
	rec := b.recordOf(path)
	if rec == nil {
		rec = &record{path: path, depth: backend.Depth(path)}
		b.keys[path] = rec
		b.index.insert(path, rec.depth)
	}
	prev, existed := rec.latest()
	v := version{mod: w.rev, sub: w.n, lease: lease, value: value, create: w.rev, ver: 1}
	if existed {
		v.create = prev.create
		v.ver = prev.ver + 1
		if keepLease {
			v.lease = prev.lease
		}
	} else if keepLease {
		v.lease = backend.NoLease
	}
	if existed && prev.lease != v.lease {
		b.detach(prev.lease, path)
	}
	if v.lease != backend.NoLease && (!existed || prev.lease != v.lease) {
		b.leases[v.lease].keys[path] = struct{}{}
	}
	rec.hist = append(rec.hist, v)
	w.n++
	if w.watched {
		ev := backend.Event{Type: backend.EventPut, KV: v.keyValue(path, true)}
		if existed {
			p := prev.keyValue(path, true)
			ev.Prev = &p
		}
		w.events = append(w.events, ev)
	}
}

// deleteKey deletes path if it exists now (including this batch's writes).
func (w *writeBatch) deleteKey(rec *record) {
	prev, ok := rec.latest()
	if !ok {
		return
	}
	rec.hist = append(rec.hist, version{mod: w.rev, sub: w.n})
	w.n++
	w.deleted++
	w.b.detach(prev.lease, rec.path)
	if w.watched {
		p := prev.keyValue(rec.path, true)
		w.events = append(w.events, backend.Event{
			Type: backend.EventDelete,
			KV:   backend.KeyValue{Path: rec.path, ModRevision: w.rev},
			Prev: &p,
		})
	}
}

// deleteRange deletes every key of r that exists now, in path order.
func (w *writeBatch) deleteRange(r backend.Range) {
	b := w.b
	if !r.Prefix {
		if rec := b.recordOf(r.Path); rec != nil {
			w.deleteKey(rec)
		}
		return
	}
	var recs []*record
	b.scanRange(r, w.rev, func(p string, _ version) bool {
		recs = append(recs, b.keys[p])
		return true
	})
	for _, rec := range recs {
		w.deleteKey(rec)
	}
}

// commit moves the store to the batch's revision if it wrote anything,
// hands the events to the watch streams, and returns the store revision.
func (w *writeBatch) commit() int64 {
	b := w.b
	if w.n == 0 {
		return b.rev
	}
	b.rev = w.rev
	if len(w.events) > 0 {
		for s := range b.streams {
			s.notify(w.rev, w.events)
		}
	}
	if r := b.retain; r > 0 && b.rev-max(b.compactRev, 0) >= 2*r {
		// WithAutoCompaction: in steps of retain revisions, so that
		// the cost of a compaction is spread over as many commits.
		b.compactLocked(b.rev - r)
	}
	return b.rev
}

// detach removes path from the keys of lease, if the store holds it.
func (b *Backend) detach(lease backend.LeaseID, path string) {
	if lease == backend.NoLease {
		return
	}
	if l := b.leases[lease]; l != nil {
		delete(l.keys, path)
	}
}
