package mirror

import "github.com/sdpconfig/sdpconfig/backend"

// View is a read-only view of a Mirror's keys. Its methods are safe from any
// goroutine, including from inside callbacks.
type View interface {
	// Get returns the key at path, and whether the mirror holds it.
	Get(path string) (backend.KeyValue, bool)
	// Len returns how many keys the mirror holds.
	Len() int
	// Range calls fn for each key in path order until fn returns false.
	// Inside a callback the keys do not change while ranging; elsewhere a
	// key changed meanwhile may be seen with its old or new value, and
	// each key is seen at most once.
	Range(fn func(kv backend.KeyValue) bool)
	// Revision returns the revision the keys were last consistent at: the
	// store's state at that revision, restricted to the prefix. It is 0
	// before the first refresh; during a refresh it keeps the previous
	// value while the keys move to the new state one by one.
	Revision() int64
}

// stateView is the View of a state.
type stateView struct{ st *state }

func (v stateView) Get(path string) (backend.KeyValue, bool) {
	e, ok := v.st.get(path)
	if !ok {
		return backend.KeyValue{}, false
	}
	return e.kv(path), true
}

func (v stateView) Len() int { return v.st.len() }

func (v stateView) Range(fn func(kv backend.KeyValue) bool) { v.st.rangeFrom("", fn) }

func (v stateView) Revision() int64 { return v.st.revision() }
