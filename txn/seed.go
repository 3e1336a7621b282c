package txn

import (
	"context"

	"github.com/sdpconfig/sdpconfig/backend"
)

// seed is the state of the keys an attempt read alone, at one revision, as
// a failed commit brought it back (backend.CommitReader). The next attempt
// takes its snapshot at that revision, and knows those keys without reading
// them: every read of the attempt is still at one revision.
type seed struct {
	rev   int64
	reads []string           // every key read, present or not
	kvs   []backend.KeyValue // the keys of reads present at rev
}

// gotKeys returns the keys the attempt read alone (not only listed), in
// first-read order.
func (t *Txn) gotKeys() []string {
	var paths []string
	for i := range t.keys.entries {
		if e := &t.keys.entries[i]; e.got {
			paths = append(paths, e.path())
		}
	}
	return paths
}

// pinSeed pins the snapshot at the seed's revision and records the seed's
// keys as known there (unobserved until the attempt reads them). It runs at
// the attempt's first read, so that an attempt that reads nothing keeps no
// snapshot and commits its blind writes unconditionally, as ever.
func (t *Txn) pinSeed() {
	s := t.seed
	t.seed = nil
	if t.rev != 0 {
		return
	}
	t.rev = s.rev
	for _, p := range s.reads {
		e := t.keys.add(p)
		e.kv, e.present, e.seen, e.known = backend.KeyValue{Path: p}, false, true, true
	}
	for _, kv := range s.kvs {
		if e := t.keys.find(kv.Path); e != nil {
			e.kv, e.present = kv, true
			e.kv.Path = e.path()
		}
	}
}

// writesSince counts the writes to the keys of s between the attempt's
// snapshot and s, as far as the keys' versions tell: a key deleted counts
// one write, a key deleted and created again one more than its version.
func (t *Txn) writesSince(s *seed) int64 {
	var n int64
	kvs := s.kvs
	for _, p := range s.reads {
		var now backend.KeyValue
		present := len(kvs) > 0 && kvs[0].Path == p
		if present {
			now, kvs = kvs[0], kvs[1:]
		}
		e := t.keys.find(p)
		if e == nil {
			continue
		}
		switch {
		case !e.present && !present:
		case !e.present:
			n += now.Version
		case !present:
			n++
		case e.kv.CreateRevision != now.CreateRevision:
			n += 1 + now.Version
		default:
			n += now.Version - e.kv.Version
		}
	}
	return n
}

// fetchSeed reads the keys at paths in one round trip, at the newest
// revision, as the state an attempt starts from; nil if the read fails
// (the attempt then reads them one by one, and meets the error itself).
func fetchSeed(ctx context.Context, mg backend.MultiGetter, paths []string) *seed {
	kvs, rev, err := mg.GetMany(ctx, paths, 0)
	if err != nil {
		return nil
	}
	return &seed{rev: rev, reads: paths, kvs: kvs}
}
