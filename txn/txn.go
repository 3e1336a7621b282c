package txn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Txn is one attempt of a transaction, handed to the function Run runs. It
// reads one snapshot of the store, pinned by its first read, overlaid with
// its own writes, and buffers its writes until Run commits them. A Txn is
// not safe for concurrent use, and must not be used after its function
// returns.
type Txn struct {
	ctx    context.Context
	reader Reader
	hook   func(backend.Range)

	rev  int64 // snapshot revision; 0 until the first read pins it
	seed *seed // state to pin the snapshot at, by the first read; nil if none
	fail error // the first read error: the attempt cannot commit
	done bool  // the attempt has ended

	keys   table           // every key the attempt read or wrote
	ranges []backend.Range // listed prefix ranges the outcome depends on
	ov     overlay         // own writes (over keys)

	onCommit []func()
	// queuedAhead, if set, reports whether a commit with these compares
	// should wait for its turns instead (see fair.go).
	queuedAhead func(cmps []backend.Compare) bool
	// obs, if set, times the commit (see WithObserver).
	obs *Observer
}

func newTxn(ctx context.Context, r Reader, hook func(backend.Range), rev int64) *Txn {
	t := &Txn{ctx: ctx, reader: r, hook: hook, rev: rev}
	t.ov.keys = &t.keys
	return t
}

// Context returns the context Run was called with.
func (t *Txn) Context() context.Context { return t.ctx }

// Revision returns the snapshot revision the transaction reads at: the
// store revision of its first read (or the one WithSnapshot pinned, or, for
// a retry that starts from the state its failed commit brought back, that
// commit's revision), 0 before that.
func (t *Txn) Revision() int64 { return t.rev }

// OnCommit registers f to be called after this attempt commits, in the
// goroutine that called Run, after every callback registered before it.
// Callbacks of attempts that did not commit are dropped.
func (t *Txn) OnCommit(f func()) {
	if f != nil {
		t.onCommit = append(t.onCommit, f)
	}
}

// Get returns the value of the key at path as the snapshot and the
// transaction's own writes have it; ok is false when the key is absent.
// Unless the transaction wrote the key itself, the commit checks that the
// key is unchanged (or still absent).
func (t *Txn) Get(path string) (value string, ok bool, err error) {
	kv, ok, err := t.GetKV(path)
	return kv.Value, ok, err
}

// GetKV is Get returning the whole key. For a key the transaction wrote,
// only Path, Value and Lease are set.
func (t *Txn) GetKV(path string) (backend.KeyValue, bool, error) {
	if err := t.check(path); err != nil {
		return backend.KeyValue{}, false, err
	}
	if w, known := t.ov.lookup(path); known {
		if w.deleted {
			return backend.KeyValue{}, false, nil
		}
		return backend.KeyValue{Path: path, Value: w.value, Lease: w.lease}, true, nil
	}
	e, err := t.snapshotKey(path)
	if err != nil {
		return backend.KeyValue{}, false, err
	}
	kv, present := e.kv, e.present
	t.track(e, depRead)
	return kv, present, nil
}

// List returns the paths of the keys at the depths opts selects whose path
// starts with prefix, sorted, as the snapshot and the transaction's own
// writes have them. Append "/" to a path to list its children. Unless
// opts.Untracked, the commit checks that no key was created at those depths
// under prefix and that every listed key still exists (not that its value
// is unchanged: use ListValues for that).
func (t *Txn) List(prefix string, opts ListOptions) ([]string, error) {
	kvs, err := t.list(prefix, opts, false)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(kvs))
	for i, kv := range kvs {
		paths[i] = kv.Path
	}
	return paths, nil
}

// ListValues is List returning keys with their values. Unless
// opts.Untracked, the commit also checks that each listed key is unchanged.
// For keys the transaction wrote, only Path, Value and Lease are set.
func (t *Txn) ListValues(prefix string, opts ListOptions) ([]backend.KeyValue, error) {
	return t.list(prefix, opts, true)
}

func (t *Txn) list(prefix string, opts ListOptions, withValues bool) ([]backend.KeyValue, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	if err := backend.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	depths, err := listDepths(prefix, opts)
	if err != nil {
		return nil, err
	}
	if len(depths) == 0 {
		return nil, nil
	}
	res, err := t.snapshotList(prefix, depths, withValues)
	if err != nil {
		return nil, err
	}
	base := backend.Depth(prefix)
	if !opts.Untracked {
		for _, d := range depths {
			t.trackRange(backend.PrefixAt(prefix, base+d))
		}
	}
	out := make([]backend.KeyValue, 0, len(res))
	seen := make(map[string]bool, len(res))
	for _, kv := range res {
		seen[kv.Path] = true
		if w, known := t.ov.lookup(kv.Path); known {
			if !w.deleted {
				out = append(out, backend.KeyValue{Path: kv.Path, Value: w.value, Lease: w.lease})
			}
			continue
		}
		if !opts.Untracked {
			kind := depExists
			if withValues {
				kind = depRead
			}
			t.trackQuiet(t.observed(kv, withValues), kind)
		}
		out = append(out, kv)
	}
	for i := range t.keys.entries {
		e := &t.keys.entries[i]
		if !e.written || e.w.deleted || seen[e.path()] || !strings.HasPrefix(e.path(), prefix) {
			continue
		}
		if _, ok := slices.BinarySearch(depths, backend.Depth(e.path())-base); ok {
			out = append(out, backend.KeyValue{Path: e.path(), Value: e.w.value, Lease: e.w.lease})
		}
	}
	slices.SortFunc(out, func(a, b backend.KeyValue) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// listDepths returns the sorted, distinct relative depths opts selects.
func listDepths(prefix string, opts ListOptions) ([]int, error) {
	var depths []int
	if opts.Depths != nil {
		depths = slices.Clone(opts.Depths)
	} else {
		if opts.Recurse < 0 {
			return nil, fmt.Errorf("txn: list %q: negative Recurse %d", prefix, opts.Recurse)
		}
		for d := 0; d <= opts.Recurse; d++ {
			depths = append(depths, d)
		}
	}
	slices.Sort(depths)
	depths = slices.Compact(depths)
	if len(depths) > 0 && depths[0] < 0 {
		return nil, fmt.Errorf("txn: list %q: negative depth %d", prefix, depths[0])
	}
	return depths, nil
}

// check validates path and that the transaction may still be used.
func (t *Txn) check(path string) error {
	if err := t.usable(); err != nil {
		return err
	}
	return validPath(path)
}

func (t *Txn) usable() error {
	if t.done {
		return errDone
	}
	return nil
}

// snapshotKey returns the entry of the key with its state at the snapshot,
// reading it (and pinning the snapshot) if it is not known yet. It does not
// track the key. The pointer is valid until the next entry is added.
func (t *Txn) snapshotKey(path string) (*entry, error) {
	if t.seed != nil {
		t.pinSeed()
	}
	if e := t.keys.find(path); e != nil && e.known {
		e.got = true
		return e, nil
	}
	if t.fail != nil {
		return nil, t.fail
	}
	kv, rev, err := t.reader.Get(t.ctx, path, t.rev)
	present := true
	if errors.Is(err, backend.ErrNotFound) {
		kv, present, err = backend.KeyValue{Path: path}, false, nil
	}
	if err != nil {
		return nil, t.readFailed("get", path, err)
	}
	if t.rev == 0 {
		t.rev = rev
	}
	kv.Path = path
	e := t.keys.add(path)
	e.kv, e.present, e.seen, e.known, e.got = kv, present, true, true, true
	return e, nil
}

// observed records kv, listed at the snapshot (withValue: with its value),
// and returns its entry. The pointer is valid until the next entry is added.
func (t *Txn) observed(kv backend.KeyValue, withValue bool) *entry {
	e := t.keys.add(kv.Path)
	if !e.known {
		e.kv, e.present, e.seen, e.known = kv, true, true, withValue
	}
	return e
}

// snapshotList lists the keys at the relative depths under prefix at the
// snapshot, pinning it if needed. It records and tracks nothing.
func (t *Txn) snapshotList(prefix string, depths []int, withValues bool) ([]backend.KeyValue, error) {
	if t.seed != nil {
		t.pinSeed()
	}
	if t.fail != nil {
		return nil, t.fail
	}
	res, err := t.reader.List(t.ctx, prefix, backend.ListOptions{Depths: depths, Revision: t.rev, WithValues: withValues})
	if err != nil {
		return nil, t.readFailed("list", prefix, err)
	}
	if res.More {
		return nil, t.readFailed("list", prefix, fmt.Errorf("txn: reader returned a partial list"))
	}
	if t.rev == 0 {
		t.rev = res.Revision
	}
	return res.KVs, nil
}

// readFailed records the first failed read of the attempt, which then cannot
// commit: a compacted snapshot makes it a conflict (Run retries), any other
// error fails Run even if fn ignores it.
func (t *Txn) readFailed(op, path string, err error) error {
	err = backend.WrapPath(op, path, err)
	if errors.Is(err, backend.ErrCompacted) {
		err = &ConflictError{Path: path, Revision: t.rev, Err: err}
	}
	if t.fail == nil {
		t.fail = err
	}
	return err
}

// track records that the outcome depends on the key of e as kind, and
// tells the read hook the first time.
func (t *Txn) track(e *entry, kind depKind) {
	if t.trackQuiet(e, kind) && t.hook != nil {
		t.hook(backend.Key(e.path()))
	}
}

// trackQuiet is track without the hook (for keys inside a hooked range); it
// reports whether the key was not tracked before.
func (t *Txn) trackQuiet(e *entry, kind depKind) (isNew bool) {
	if e.dep >= kind {
		return false
	}
	isNew = e.dep == 0
	e.dep = kind
	return isNew
}

// trackRange records that the outcome depends on no key being created in
// the prefix range r after the snapshot.
func (t *Txn) trackRange(r backend.Range) {
	if slices.Contains(t.ranges, r) {
		return
	}
	t.ranges = append(t.ranges, r)
	if t.hook != nil {
		t.hook(r)
	}
}
