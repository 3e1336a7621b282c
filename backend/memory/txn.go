package memory

import (
	"context"
	"fmt"
	"strconv"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Commit applies t atomically, as an etcd Txn: if every compare of t.If
// holds, t.Then runs, otherwise t.Else, all at one new revision (none when
// the chosen branch changes nothing).
//
// Before anything is read it checks, in this order: paths and values
// (ErrInvalidPath, ErrInvalidValue), compare targets, relations and op
// kinds (ErrInvalidTxn), the op count and byte size (ErrTxnTooLarge), and
// that neither branch writes a key twice or puts a key inside a range it
// deletes (ErrInvalidTxn). A put of the chosen branch with a lease the
// store does not hold fails with ErrLeaseExpired, writing nothing.
func (b *Backend) Commit(ctx context.Context, t backend.Txn) (backend.TxnResult, error) {
	if path, err := b.lockWrite(ctx, t); err != nil {
		return backend.TxnResult{}, backend.WrapPath("commit", path, err)
	}
	defer b.mu.Unlock()
	res, path, err := b.commitLocked(t, false)
	return res, backend.WrapPath("commit", path, err)
}

// Create writes a new key attached to lease (or NoLease) and returns the
// new revision. It fails with ErrCollision if the key exists, and with
// ErrLeaseExpired if the lease does not.
func (b *Backend) Create(ctx context.Context, path, value string, lease backend.LeaseID) (int64, error) {
	t := backend.Txn{
		If:   []backend.Compare{{Range: backend.Key(path), Target: backend.CreateRevision, Op: backend.Equal, Value: 0}},
		Then: []backend.Op{backend.Put(path, value, lease)},
	}
	if _, err := b.lockWrite(ctx, t); err != nil {
		return 0, backend.WrapPath("create", path, err)
	}
	defer b.mu.Unlock()
	res, _, err := b.commitLocked(t, false)
	if err != nil {
		return 0, backend.WrapPath("create", path, err)
	}
	if !res.Succeeded {
		return res.Revision, backend.WrapPath("create", path, backend.ErrCollision)
	}
	return res.Revision, nil
}

// Update overwrites an existing key, keeping its lease (etcd's
// IgnoreLease), and returns the new revision. It fails with ErrVanished if
// the key does not exist.
func (b *Backend) Update(ctx context.Context, path, value string) (int64, error) {
	t := backend.Txn{
		If:   []backend.Compare{{Range: backend.Key(path), Target: backend.Version, Op: backend.Greater, Value: 0}},
		Then: []backend.Op{backend.Put(path, value, backend.NoLease)},
	}
	if _, err := b.lockWrite(ctx, t); err != nil {
		return 0, backend.WrapPath("update", path, err)
	}
	defer b.mu.Unlock()
	res, _, err := b.commitLocked(t, true)
	if err != nil {
		return 0, backend.WrapPath("update", path, err)
	}
	if !res.Succeeded {
		return res.Revision, backend.WrapPath("update", path, backend.ErrVanished)
	}
	return res.Revision, nil
}

// Delete removes, at one revision, the key path (or with opts.Prefix every
// key at its depth starting with path) and with opts.Recursive every key
// below them down to opts.MaxDepth levels: for a key, the prefix path+"/"
// at each of the MaxDepth depths below it; with Prefix, the prefix path
// itself at each of those depths, which is exactly the keys below every
// path the prefix matches. With opts.MustExist it fails with ErrVanished,
// deleting nothing, when there is nothing to delete. Like the etcd backend
// it is one commit of 1+MaxDepth delete ops, so a MaxDepth of MaxTxnOps or
// more fails with ErrTxnTooLarge.
func (b *Backend) Delete(ctx context.Context, path string, opts backend.DeleteOptions) (backend.DeleteResult, error) {
	var err error
	if opts.Prefix {
		err = backend.ValidatePrefix(path)
	} else {
		err = backend.ValidatePath(path)
	}
	if err != nil {
		return backend.DeleteResult{}, backend.WrapPath("delete", path, err)
	}
	t := backend.Txn{}
	for _, r := range deleteRanges(path, opts) {
		t.Then = append(t.Then, backend.Delete(r))
	}
	if _, err := b.lockWrite(ctx, t); err != nil {
		return backend.DeleteResult{}, backend.WrapPath("delete", path, err)
	}
	defer b.mu.Unlock()
	if opts.MustExist && !b.anyExists(t.Then) {
		return backend.DeleteResult{Revision: b.rev}, backend.WrapPath("delete", path, backend.ErrVanished)
	}
	res, _, err := b.commitLocked(t, false)
	if err != nil {
		return backend.DeleteResult{}, backend.WrapPath("delete", path, err)
	}
	return backend.DeleteResult{Revision: res.Revision, Deleted: res.Deleted}, nil
}

// deleteRanges returns the ranges Delete removes for path and opts.
func deleteRanges(path string, opts backend.DeleteOptions) []backend.Range {
	first := backend.Key(path)
	if opts.Prefix {
		first = backend.PrefixAt(path, 0)
	}
	rs := []backend.Range{first}
	if !opts.Recursive {
		return rs
	}
	n := opts.MaxDepth
	if n <= 0 {
		n = backend.MaxDepth
	}
	below := path + "/"
	if opts.Prefix {
		below = path
	}
	d := backend.Depth(path)
	for i := 1; i <= n; i++ {
		rs = append(rs, backend.PrefixAt(below, d+i))
	}
	return rs
}

// anyExists reports whether a delete op of ops would delete a key. The
// caller holds b.mu.
func (b *Backend) anyExists(ops []backend.Op) bool {
	found := false
	for _, op := range ops {
		b.scanRange(op.Range, b.rev, func(string, version) bool {
			found = true
			return false
		})
		if found {
			return true
		}
	}
	return false
}

// lockWrite takes b.mu for a write of t: on success it returns with b.mu
// held. It checks t first (paths and values before anything else), then
// ctx, then that the backend is open, and returns the path an error
// concerns.
func (b *Backend) lockWrite(ctx context.Context, t backend.Txn) (string, error) {
	b.mu.Lock()
	if path, err := b.checkTxn(t); err != nil {
		b.mu.Unlock()
		return path, err
	}
	if err := ctx.Err(); err != nil {
		b.mu.Unlock()
		return t.FirstPath(), err
	}
	if b.closed {
		b.mu.Unlock()
		return t.FirstPath(), backend.ErrClosed
	}
	return "", nil
}

// validPath checks a key path. A path the store has held is valid (every
// write checks its paths), which spares hot paths the character checks.
// The caller holds b.mu exclusively.
func (b *Backend) validPath(p string) error {
	if b.recordOf(p) != nil {
		return nil
	}
	return backend.ValidatePath(p)
}

// validWritePath checks the path of a put, with validPath's fast path.
// The caller holds b.mu exclusively.
func (b *Backend) validWritePath(p string) error {
	if b.recordOf(p) != nil {
		return nil
	}
	return backend.ValidateWritePath(p)
}

// recordOf returns the record of path, or nil, remembering it: a commit
// looks the same key up several times (check, compare, put). The caller
// holds b.mu exclusively.
func (b *Backend) recordOf(path string) *record {
	if b.hot != nil && b.hot.path == path {
		return b.hot
	}
	rec := b.keys[path]
	if rec != nil {
		b.hot = rec
	}
	return rec
}

// commitLocked evaluates t's compares and runs the chosen branch. With
// keepLease, puts keep the key's lease (etcd's IgnoreLease). It returns the
// path an error concerns. The caller holds b.mu and has checked t.
func (b *Backend) commitLocked(t backend.Txn, keepLease bool) (backend.TxnResult, string, error) {
	ok := true
	for _, c := range t.If {
		if !b.holds(c) {
			ok = false
			break
		}
	}
	ops := t.Then
	if !ok {
		ops = t.Else
	}
	// Like etcd, check the chosen branch's leases before writing anything.
	if !keepLease {
		for _, op := range ops {
			if op.Kind == backend.OpPut && op.Lease != backend.NoLease && b.leases[op.Lease] == nil {
				return backend.TxnResult{}, op.Range.Path, fmt.Errorf("%w: lease %d", backend.ErrLeaseExpired, op.Lease)
			}
		}
	}
	w := b.newBatch()
	for _, op := range ops {
		switch op.Kind {
		case backend.OpPut:
			w.put(op.Range.Path, op.Value, op.Lease, keepLease)
		case backend.OpDelete:
			w.deleteRange(op.Range)
		}
	}
	rev := w.commit()
	return backend.TxnResult{Succeeded: ok, Revision: rev, Deleted: w.deleted}, "", nil
}

// holds evaluates one compare at the current revision, with etcd's rules:
// a missing key compares as zeros; a prefix range holds if every key in it
// holds, and an empty range compares as a missing key. The caller holds
// b.mu.
func (b *Backend) holds(c backend.Compare) bool {
	found, all := false, true
	b.scanRange(c.Range, b.rev, func(_ string, v version) bool {
		found = true
		all = c.Holds(backend.KeyValue{ModRevision: v.mod, CreateRevision: v.create, Version: v.ver})
		return all
	})
	if !found {
		return c.Holds(backend.KeyValue{})
	}
	return all
}

// checkTxn validates t before any read, as the etcd server does with a
// request, and returns the path an error concerns. The caller holds b.mu
// exclusively.
func (b *Backend) checkTxn(t backend.Txn) (string, error) {
	size := 0
	for _, c := range t.If {
		if err := b.validRange(c.Range); err != nil {
			return c.Range.Path, err
		}
		if c.Target < backend.ModRevision || c.Target > backend.Version {
			return c.Range.Path, fmt.Errorf("%w: unknown compare target %d", backend.ErrInvalidTxn, c.Target)
		}
		if c.Op < backend.Equal || c.Op > backend.Greater {
			return c.Range.Path, fmt.Errorf("%w: unknown compare relation %d", backend.ErrInvalidTxn, c.Op)
		}
		size += keySize(c.Range)
	}
	for _, ops := range [2][]backend.Op{t.Then, t.Else} {
		for _, op := range ops {
			p := op.Range.Path
			switch op.Kind {
			case backend.OpPut:
				if op.Range.Prefix {
					return p, fmt.Errorf("%w: a put needs a key, not a prefix range", backend.ErrInvalidTxn)
				}
				if err := b.validWritePath(p); err != nil {
					return p, err
				}
				if err := backend.ValidateValue(p, op.Value); err != nil && !op.Binary {
					return p, err
				}
				size += keySize(op.Range) + len(op.Value)
			case backend.OpDelete:
				if err := b.validRange(op.Range); err != nil {
					return p, err
				}
				size += keySize(op.Range)
			default:
				return p, fmt.Errorf("%w: unknown op kind %d", backend.ErrInvalidTxn, op.Kind)
			}
		}
	}
	// The size last, as backend.Backend.Commit says.
	for _, ops := range [2][]backend.Op{t.Then, t.Else} {
		if err := backend.ValidateBranch(ops); err != nil {
			return "", err
		}
	}
	if n := max(len(t.If), len(t.Then), len(t.Else)); n > b.maxTxnOps {
		return t.FirstPath(), fmt.Errorf("%w: %d compares or ops in a branch, the store allows %d", backend.ErrTxnTooLarge, n, b.maxTxnOps)
	}
	if size > b.maxRequestBytes {
		err := fmt.Errorf("%w: %d bytes of keys and values, the store allows %d", backend.ErrTxnTooLarge, size, b.maxRequestBytes)
		return t.FirstPath(), backend.SizeRefused(err, append(t.Then[:len(t.Then):len(t.Then)], t.Else...), b.maxRequestBytes)
	}
	return "", nil
}

// validRange checks a range, sparing a key the store has held the
// character checks. The caller holds b.mu exclusively.
func (b *Backend) validRange(r backend.Range) error {
	if !r.Prefix {
		return b.validPath(r.Path)
	}
	return r.Validate()
}

// keySize is the size of r on the wire: its stored key, and the range end
// of a prefix range, which is as long.
func keySize(r backend.Range) int {
	n := len(strconv.Itoa(r.KeyDepth())) + len(r.Path)
	if r.Prefix {
		n *= 2
	}
	return n
}
