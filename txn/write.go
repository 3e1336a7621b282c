package txn

import (
	"github.com/sdpconfig/sdpconfig/backend"
)

// Create writes a new key at path, attached to the lease WithLease gives
// (none by default). It fails at once with backend.ErrCollision if the key
// exists in the snapshot or the transaction's own writes; otherwise the
// commit checks that the key is still absent.
func (t *Txn) Create(path, value string, opts ...WriteOption) error {
	if err := t.checkWrite(path, value); err != nil {
		return err
	}
	present, _, err := t.exists(path, depExists)
	if err != nil {
		return err
	}
	if present {
		return backend.WrapPath("create", path, backend.ErrCollision)
	}
	t.ov.put(path, value, leaseOf(opts))
	return nil
}

// Update overwrites the existing key at path, keeping its lease. It fails at
// once with backend.ErrVanished if the key is absent from the snapshot and
// the transaction's own writes; otherwise the commit checks that the key is
// unchanged since the snapshot.
func (t *Txn) Update(path, value string) error {
	if err := t.checkWrite(path, value); err != nil {
		return err
	}
	present, lease, err := t.exists(path, depRead)
	if err != nil {
		return err
	}
	if !present {
		return backend.WrapPath("update", path, backend.ErrVanished)
	}
	t.ov.put(path, value, lease)
	return nil
}

// Put writes the key at path whether it exists or not, attached to the
// lease WithLease gives (none by default, as etcd's put). It reads nothing;
// the commit checks that no one else wrote the key since the snapshot.
func (t *Txn) Put(path, value string, opts ...WriteOption) error {
	if err := t.checkWrite(path, value); err != nil {
		return err
	}
	t.ov.put(path, value, leaseOf(opts))
	return nil
}

// Delete deletes the key at path and, with opts.Recursive, every key below
// it down to backend.MaxDepth levels. With opts.MustExist it fails at once
// with backend.ErrVanished, deleting nothing, when there is nothing to
// delete; the commit then checks that what it found still exists. The
// commit checks that no one else wrote the deleted keys since the snapshot.
func (t *Txn) Delete(path string, opts DeleteOptions) error {
	if err := t.check(path); err != nil {
		return err
	}
	if opts.MustExist {
		found, err := t.existsForDelete(path, opts.Recursive)
		if err != nil {
			return err
		}
		if !found {
			return backend.WrapPath("delete", path, backend.ErrVanished)
		}
	}
	t.ov.del(path)
	if opts.Recursive {
		for _, r := range backend.Subtree(path) {
			t.ov.delRange(r)
		}
	}
	return nil
}

func (t *Txn) checkWrite(path, value string) error {
	if err := t.usable(); err != nil {
		return err
	}
	if err := validWritePath(path); err != nil {
		return err
	}
	return backend.ValidateValue(path, value)
}

// exists reports whether the key is present in the snapshot with the own
// writes, and its lease, tracking it as kind when it comes from the
// snapshot.
func (t *Txn) exists(path string, kind depKind) (bool, backend.LeaseID, error) {
	if w, known := t.ov.lookup(path); known {
		return !w.deleted, w.lease, nil
	}
	if e := t.keys.find(path); e != nil && e.seen && kind == depExists {
		// Listed already: whether it exists is known, no need to read.
		present := e.present
		t.track(e, kind)
		return present, backend.NoLease, nil
	}
	e, err := t.snapshotKey(path)
	if err != nil {
		return false, backend.NoLease, err
	}
	present, lease := e.present, e.kv.Lease
	t.track(e, kind)
	return present, lease, nil
}

// existsForDelete reports whether a delete of path (recursive or not) would
// delete anything. For a recursive delete of an absent key it depends on
// one key below path that still exists (a witness), or, if there is none, on
// no key being created below path.
func (t *Txn) existsForDelete(path string, recursive bool) (bool, error) {
	present, _, err := t.exists(path, depExists)
	if err != nil || present || !recursive {
		return present, err
	}
	sub := backend.Subtree(path)
	for i := range t.keys.entries {
		e := &t.keys.entries[i]
		if e.written && !e.w.deleted && inAny(sub, e.path()) {
			return true, nil
		}
	}
	depths := make([]int, len(sub))
	for i := range depths {
		depths[i] = i
	}
	kvs, err := t.snapshotList(sub[0].Path, depths, false)
	if err != nil {
		return false, err
	}
	for _, kv := range kvs {
		if _, known := t.ov.lookup(kv.Path); !known {
			t.track(t.observed(kv, false), depExists)
			return true, nil
		}
	}
	for _, r := range sub {
		t.trackRange(r)
	}
	return false, nil
}

func inAny(rs []backend.Range, path string) bool {
	for _, r := range rs {
		if r.Contains(path) {
			return true
		}
	}
	return false
}
