package watcher

import (
	"sort"
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
// sorted slice of the same path strings for ordered ranges. One goroutine
// (the mirror's loop) writes; any goroutine reads. The mutex is never held
// while a callback runs.
type state struct {
	mu     sync.RWMutex
	keys   map[string]entry
	sorted []string // every key of keys, sorted
	rev    int64    // the revision the keys are consistent at; 0 before the first refresh
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
		// Refreshes deliver keys in order: appending is the common case.
		if n := len(s.sorted); n == 0 || s.sorted[n-1] < path {
			s.sorted = append(s.sorted, path)
		} else {
			i := sort.SearchStrings(s.sorted, path)
			s.sorted = append(s.sorted, "")
			copy(s.sorted[i+1:], s.sorted[i:])
			s.sorted[i] = path
		}
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
	i := sort.SearchStrings(s.sorted, path)
	copy(s.sorted[i:], s.sorted[i+1:])
	s.sorted[len(s.sorted)-1] = ""
	s.sorted = s.sorted[:len(s.sorted)-1]
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
	i := sort.Search(len(s.sorted), func(i int) bool { return s.sorted[i] > after })
	j := len(s.sorted)
	if upTo != "" {
		j = sort.Search(len(s.sorted), func(i int) bool { return s.sorted[i] > upTo })
	}
	if i >= j {
		return nil
	}
	return append([]string(nil), s.sorted[i:j]...)
}

// rangeChunk is how many keys rangeFrom reads under one lock.
const rangeChunk = 256

// rangeFrom calls fn for each key whose path starts with prefix, in path
// order, until fn returns false. The lock is taken per chunk, never while
// fn runs, so fn may call the state's other methods.
func (s *state) rangeFrom(prefix string, fn func(backend.KeyValue) bool) {
	buf := make([]backend.KeyValue, 0, rangeChunk)
	after := ""
	first := true
	for {
		buf = buf[:0]
		s.mu.RLock()
		i := sort.SearchStrings(s.sorted, prefix)
		if !first {
			i = sort.Search(len(s.sorted), func(i int) bool { return s.sorted[i] > after })
		}
		for ; i < len(s.sorted) && len(buf) < rangeChunk; i++ {
			p := s.sorted[i]
			if !strings.HasPrefix(p, prefix) {
				break
			}
			buf = append(buf, s.keys[p].kv(p))
		}
		s.mu.RUnlock()
		if len(buf) == 0 {
			return
		}
		for _, kv := range buf {
			if !fn(kv) {
				return
			}
		}
		if len(buf) < rangeChunk {
			return
		}
		after, first = buf[len(buf)-1].Path, false
	}
}
