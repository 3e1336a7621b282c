package mirror

import (
	"strings"
	"sync"

	"github.com/sdpconfig/sdpconfig/backend"
)

// entry is one mirrored key without its path (the path is the map key, so
// its bytes are held once).
type entry struct {
	value   string
	create  int64
	mod     int64
	version int64
	lease   backend.LeaseID
}

func entryOf(kv backend.KeyValue) entry {
	return entry{value: kv.Value, create: kv.CreateRevision, mod: kv.ModRevision, version: kv.Version, lease: kv.Lease}
}

func (e entry) kv(path string) backend.KeyValue {
	return backend.KeyValue{Path: path, Value: e.value, CreateRevision: e.create, ModRevision: e.mod, Version: e.version, Lease: e.lease}
}

// state is the mirror's in-memory copy of its keys: a map for lookups and a
// sorted index of the same path strings for ordered ranges. One goroutine
// (the mirror's loop) writes; any goroutine reads. The mutex is never held
// while a callback runs.
type state struct {
	mu     sync.RWMutex
	keys   map[string]entry
	sorted pathIndex // every key of keys
	rev    int64     // the revision the keys are consistent at; 0 before the first refresh
	resume listMark  // with rev 0: where the refresh a state file records stopped
}

func newState() *state { return &state{keys: make(map[string]entry)} }

// get returns the key at path.
func (s *state) get(path string) (entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.keys[path]
	return e, ok
}

// put stores e at path.
func (s *state) put(path string, e entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[path]; !ok {
		s.sorted.insert(path)
	}
	s.keys[path] = e
}

// remove deletes path; it reports whether the key was there.
func (s *state) remove(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[path]; !ok {
		return false
	}
	delete(s.keys, path)
	s.sorted.remove(path)
	return true
}

// setRevision records that the keys are consistent at rev.
func (s *state) setRevision(rev int64) {
	s.mu.Lock()
	s.rev = rev
	s.mu.Unlock()
}

func (s *state) revision() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev
}

func (s *state) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.keys)
}

// between returns, in order, the stored keys p with after < p <= upTo; an
// empty upTo means no upper bound.
func (s *state) between(after, upTo string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	s.sorted.ascend(after, false, func(p string) bool {
		if upTo != "" && p > upTo {
			return false
		}
		out = append(out, p)
		return true
	})
	return out
}

// rangeChunk is how many keys rangeFrom reads under one lock.
const rangeChunk = 256

// rangeFrom calls fn for each key whose path starts with prefix, in path
// order, until fn returns false. The lock is taken per chunk, never while
// fn runs, so fn may call the state's other methods.
func (s *state) rangeFrom(prefix string, fn func(backend.KeyValue) bool) {
	buf := make([]backend.KeyValue, 0, rangeChunk)
	from, orEqual := prefix, true
	for {
		buf = buf[:0]
		s.mu.RLock()
		s.sorted.ascend(from, orEqual, func(p string) bool {
			if !strings.HasPrefix(p, prefix) {
				return false
			}
			buf = append(buf, s.keys[p].kv(p))
			return len(buf) < rangeChunk
		})
		s.mu.RUnlock()
		for _, kv := range buf {
			if !fn(kv) {
				return
			}
		}
		if len(buf) < rangeChunk {
			return
		}
		from, orEqual = buf[len(buf)-1].Path, false
	}
}
