package txn

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// plan builds the one backend commit of the attempt; ok is false for a
// transaction that wrote nothing. Its compares fail if anything the attempt observed
// changed since the snapshot, or if anyone else wrote what it writes; its
// ops leave every written key in its final state, valid for etcd (no key
// written twice, no put inside a deleted range). plan may read the store
// (to expand a deleted range that the attempt writes into again), and fails
// with backend.ErrTxnTooLarge when the commit exceeds limit.
func (t *Txn) plan(limit int) (c backend.Txn, ok bool, err error) {
	if t.ov.empty() {
		return c, false, nil
	}
	if c.Then, err = t.ops(); err != nil {
		return c, false, err
	}
	c.If = t.compares()
	if err := checkSize(&c, limit); err != nil {
		return c, false, err
	}
	return c, true, nil
}

// ops returns the writes: a delete op per deleted range with no put inside
// it, per-key deletes of the snapshot's keys for the other deleted ranges,
// then one delete or put per written key, sorted by path.
func (t *Txn) ops() ([]backend.Op, error) {
	ops := make([]backend.Op, 0, len(t.ov.dels)+t.keys.writes)
	var expanded []backend.Op
	asRange := t.rangeOps()
	for i, r := range t.ov.dels {
		if asRange[i] {
			ops = append(ops, backend.Delete(r))
			continue
		}
		// etcd rejects a put inside a range the same commit deletes:
		// delete the range's keys one by one instead. The range compare
		// (no write in r since the snapshot) guarantees these are all.
		kvs, err := t.snapshotList(r.Path, []int{r.KeyDepth() - backend.Depth(r.Path)}, false)
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			if e := t.keys.find(kv.Path); e == nil || !e.written {
				expanded = append(expanded, backend.Delete(backend.Key(kv.Path)))
			}
		}
	}
	slices.SortFunc(ops, func(a, b backend.Op) int { return compareRange(a.Range, b.Range) })
	nranges := len(ops)
	ops = append(ops, expanded...)
	for i := range t.keys.entries {
		e := &t.keys.entries[i]
		switch {
		case !e.written:
		case !e.w.deleted:
			ops = append(ops, backend.Put(e.path(), e.w.value, e.w.lease))
		case !deletedAsRange(t.ov.dels, asRange, e.path()):
			ops = append(ops, backend.Delete(backend.Key(e.path())))
		}
	}
	if keys := ops[nranges:]; len(keys) > 1 {
		slices.SortFunc(keys, func(a, b backend.Op) int { return strings.Compare(a.Range.Path, b.Range.Path) })
	}
	return ops, nil
}

// rangeOps tells, for each deleted range, whether the commit can delete it
// with one range op: whether the attempt puts no key inside it.
func (t *Txn) rangeOps() []bool {
	asRange := make([]bool, len(t.ov.dels))
	for i, r := range t.ov.dels {
		asRange[i] = true
		for j := range t.keys.entries {
			e := &t.keys.entries[j]
			if e.written && !e.w.deleted && r.Contains(e.path()) {
				asRange[i] = false
				break
			}
		}
	}
	return asRange
}

// deletedAsRange reports whether path lies in one of dels that the commit
// deletes with one range op.
func deletedAsRange(dels []backend.Range, asRange []bool, path string) bool {
	for i, r := range dels {
		if asRange[i] && r.Contains(path) {
			return true
		}
	}
	return false
}

// compares returns the conditions of the commit, at most one per key and
// none implied by another:
//   - a key whose value was read: ModRevision = its mod revision at the
//     snapshot (CreateRevision = 0 if it was absent);
//   - a key whose existence only was observed (listed, or checked by Create
//     or Delete): CreateRevision = its create revision (0 if absent); if the
//     attempt also writes it, ModRevision = its mod revision, which also
//     says no one else wrote it;
//   - a written key not observed: ModRevision < snapshot+1, unless a
//     deleted range holds it;
//   - a deleted range: ModRevision < snapshot+1 (no key written in it);
//   - a listed range: CreateRevision < snapshot+1 (no key created in it),
//     unless a deleted range covers it.
//
// With no snapshot (the attempt only wrote, blindly), there are none: the
// writes commit unconditionally.
func (t *Txn) compares() []backend.Compare {
	if t.rev == 0 {
		return nil
	}
	next := t.rev + 1
	cs := make([]backend.Compare, 0, len(t.keys.entries)+len(t.ov.dels)+len(t.ranges))
	for _, r := range t.ov.dels {
		cs = append(cs, backend.Compare{Range: r, Target: backend.ModRevision, Op: backend.Less, Value: next})
	}
	for _, r := range t.ranges {
		if t.rangeCovered(r) {
			continue
		}
		cs = append(cs, backend.Compare{Range: r, Target: backend.CreateRevision, Op: backend.Less, Value: next})
	}
	if len(cs) > 1 {
		slices.SortFunc(cs, func(a, b backend.Compare) int { return compareRange(a.Range, b.Range) })
	}
	nranges := len(cs)
	for i := range t.keys.entries {
		e := &t.keys.entries[i]
		switch {
		case e.dep == 0 && (!e.written || t.ov.deletedByRange(e.path())):
			// Not observed, and not written or written inside a
			// deleted range, whose compare covers it.
		case e.dep == 0:
			cs = append(cs, keyCompare(e.path(), backend.ModRevision, backend.Less, next))
		case !e.present:
			cs = append(cs, keyCompare(e.path(), backend.CreateRevision, backend.Equal, 0))
		case e.dep == depRead || e.written:
			cs = append(cs, keyCompare(e.path(), backend.ModRevision, backend.Equal, e.kv.ModRevision))
		default:
			cs = append(cs, keyCompare(e.path(), backend.CreateRevision, backend.Equal, e.kv.CreateRevision))
		}
	}
	if keys := cs[nranges:]; len(keys) > 1 {
		slices.SortFunc(keys, func(a, b backend.Compare) int { return strings.Compare(a.Range.Path, b.Range.Path) })
	}
	return cs
}

// rangeCovered reports whether the listed range r needs no compare of its
// own: a deleted range, or another listed range, covers it.
func (t *Txn) rangeCovered(r backend.Range) bool {
	for _, d := range t.ov.dels {
		if rangeCovers(d, r) {
			return true
		}
	}
	for _, l := range t.ranges {
		if l != r && rangeCovers(l, r) {
			return true
		}
	}
	return false
}

func keyCompare(path string, target backend.CompareTarget, op backend.CompareOp, v int64) backend.Compare {
	return backend.Compare{Range: backend.Key(path), Target: target, Op: op, Value: v}
}

func compareRange(a, b backend.Range) int {
	return cmp.Or(cmp.Compare(a.KeyDepth(), b.KeyDepth()), strings.Compare(a.Path, b.Path))
}

// checkSize fails with backend.ErrTxnTooLarge, naming the first key past
// the limit, when c has more compares or ops than limit.
func checkSize(c *backend.Txn, limit int) error {
	var path string
	switch {
	case len(c.If) > limit:
		path = c.If[limit].Range.Path
	case len(c.Then) > limit:
		path = c.Then[limit].Range.Path
	default:
		return nil
	}
	return backend.WrapPath("commit", path, fmt.Errorf("%w: %d compares and %d ops, the store allows %d",
		backend.ErrTxnTooLarge, len(c.If), len(c.Then), limit))
}
