package mirror

import (
	"fmt"
	"runtime/debug"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Handler receives a Mirror's callbacks. They run one at a time on the
// goroutine that called Mirror.Run, in revision order, and the Mirror waits
// for each to return: a slow callback delays the mirror, and Stop takes
// effect once the running callback returns.
//
// A callback that returns an error or panics stops the Mirror: Run returns
// a *CallbackError, and the change is not recorded in the state file, so a
// Mirror restarted from the file delivers it again.
type Handler interface {
	// Add is called for a key the mirror did not hold.
	Add(kv backend.KeyValue) error
	// Change is called for a key the mirror held that was written again:
	// old is the mirror's copy, new the key after the write. The value may
	// be unchanged (a rewrite moves the mod revision).
	Change(old, new backend.KeyValue) error
	// Delete is called for a key the mirror held that was deleted (by a
	// delete, a lease ending, or found missing by a refresh); old is the
	// mirror's last copy.
	Delete(old backend.KeyValue) error
	// RefreshDone is called when the mirror has caught up with the store:
	// after its first refresh (or, resuming from a state file, once the
	// watch has delivered every change made while it was away), and after
	// every refresh that follows a compacted watch. view is the mirrored
	// state, read-only, consistent at view.Revision() while the callback
	// runs; it stays usable afterwards but then follows the mirror.
	RefreshDone(view View) error
}

// HandlerFuncs is a Handler made of optional functions; a nil function
// ignores its callback.
type HandlerFuncs struct {
	AddFunc         func(kv backend.KeyValue) error
	ChangeFunc      func(old, new backend.KeyValue) error
	DeleteFunc      func(old backend.KeyValue) error
	RefreshDoneFunc func(view View) error
}

// Add calls AddFunc if it is set.
func (h HandlerFuncs) Add(kv backend.KeyValue) error {
	if h.AddFunc == nil {
		return nil
	}
	return h.AddFunc(kv)
}

// Change calls ChangeFunc if it is set.
func (h HandlerFuncs) Change(old, new backend.KeyValue) error {
	if h.ChangeFunc == nil {
		return nil
	}
	return h.ChangeFunc(old, new)
}

// Delete calls DeleteFunc if it is set.
func (h HandlerFuncs) Delete(old backend.KeyValue) error {
	if h.DeleteFunc == nil {
		return nil
	}
	return h.DeleteFunc(old)
}

// RefreshDone calls RefreshDoneFunc if it is set.
func (h HandlerFuncs) RefreshDone(view View) error {
	if h.RefreshDoneFunc == nil {
		return nil
	}
	return h.RefreshDoneFunc(view)
}

// CallbackError is the error Run returns when a callback failed or
// panicked.
type CallbackError struct {
	Prefix   string // the Mirror's prefix
	Callback string // "Add", "Change", "Delete" or "RefreshDone"
	Path     string // the key concerned; empty for RefreshDone
	Revision int64  // the revision of the change (the view's for RefreshDone)
	Err      error  // what the callback returned, or the panic as an error
	Panic    any    // the panic value, nil if the callback returned Err
	Stack    []byte // the stack of the panic, nil if it did not panic
}

// Error names the prefix, callback, key and revision.
func (e *CallbackError) Error() string {
	what := "failed"
	if e.Panic != nil {
		what = "panicked"
	}
	if e.Callback == "RefreshDone" {
		return fmt.Sprintf("mirror: mirror %q: RefreshDone callback at revision %d %s: %v", e.Prefix, e.Revision, what, e.Err)
	}
	return fmt.Sprintf("mirror: mirror %q: %s callback for %q at revision %d %s: %v", e.Prefix, e.Callback, e.Path, e.Revision, what, e.Err)
}

// Unwrap returns the callback's error.
func (e *CallbackError) Unwrap() error { return e.Err }

// call runs one callback, turning an error or a panic into a
// *CallbackError.
func (m *Mirror) call(callback, path string, rev int64, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &CallbackError{Prefix: m.prefix, Callback: callback, Path: path, Revision: rev,
				Err: fmt.Errorf("panic: %v", r), Panic: r, Stack: debug.Stack()}
		}
	}()
	if err := fn(); err != nil {
		return &CallbackError{Prefix: m.prefix, Callback: callback, Path: path, Revision: rev, Err: err}
	}
	return nil
}

func (m *Mirror) callAdd(kv backend.KeyValue) error {
	return m.call("Add", kv.Path, kv.ModRevision, func() error { return m.h.Add(kv) })
}

func (m *Mirror) callChange(old, new backend.KeyValue) error {
	return m.call("Change", new.Path, new.ModRevision, func() error { return m.h.Change(old, new) })
}

func (m *Mirror) callDelete(old backend.KeyValue, rev int64) error {
	return m.call("Delete", old.Path, rev, func() error { return m.h.Delete(old) })
}

func (m *Mirror) callRefreshDone() error {
	v := m.View()
	return m.call("RefreshDone", "", v.Revision(), func() error { return m.h.RefreshDone(v) })
}
