package txn

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// plan builds the one backend commit of the attempt: nil for a transaction
// that wrote nothing. Its compares fail if anything the attempt observed
// changed since the snapshot, or if anyone else wrote what it writes; its
// ops leave every written key in its final state, valid for etcd (no key
// written twice, no put inside a deleted range). plan may read the store
// (to expand a deleted range that the attempt writes into again), and fails
// with backend.ErrTxnTooLarge when the commit exceeds limit.
func (t *Txn) plan(limit int) (*backend.Txn, error) {
	if t.ov.empty() {
		return nil, nil
	}
	ops, err := t.ops()
	if err != nil {
		return nil, err
	}
	c := &backend.Txn{If: t.compares(), Then: ops}
	if err := checkSize(c, limit); err != nil {
		return nil, err
	}
	return c, nil
}

// ops returns the writes: a delete op per deleted range with no put inside
// it, per-key deletes of the snapshot's keys for the other deleted ranges,
// then one delete or put per written key, sorted by path.
func (t *Txn) ops() ([]backend.Op, error) {
	var ranges, keys []backend.Op
	for _, r := range t.ov.dels {
		if !t.putInside(r) {
			ranges = append(ranges, backend.Delete(r))
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
			if _, ok := t.ov.keys[kv.Path]; !ok {
				keys = append(keys, backend.Delete(backend.Key(kv.Path)))
			}
		}
	}
	for p, w := range t.ov.keys {
		switch {
		case !w.deleted:
			keys = append(keys, backend.Put(p, w.value, w.lease))
		case !t.deletedAsRange(p):
			keys = append(keys, backend.Delete(backend.Key(p)))
		}
	}
	slices.SortFunc(ranges, func(a, b backend.Op) int { return compareRange(a.Range, b.Range) })
	slices.SortFunc(keys, func(a, b backend.Op) int { return strings.Compare(a.Range.Path, b.Range.Path) })
	return append(ranges, keys...), nil
}

// putInside reports whether the attempt puts a key inside the range r.
func (t *Txn) putInside(r backend.Range) bool {
	for p, w := range t.ov.keys {
		if !w.deleted && r.Contains(p) {
			return true
		}
	}
	return false
}

// deletedAsRange reports whether path lies in a deleted range that the
// commit deletes with one range op.
func (t *Txn) deletedAsRange(path string) bool {
	for _, r := range t.ov.dels {
		if r.Contains(path) && !t.putInside(r) {
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
	var cs []backend.Compare
	for p, d := range t.deps {
		_, written := t.ov.keys[p]
		switch {
		case !d.present:
			cs = append(cs, keyCompare(p, backend.CreateRevision, backend.Equal, 0))
		case d.kind == depRead || written:
			cs = append(cs, keyCompare(p, backend.ModRevision, backend.Equal, d.kv.ModRevision))
		default:
			cs = append(cs, keyCompare(p, backend.CreateRevision, backend.Equal, d.kv.CreateRevision))
		}
	}
	for p := range t.ov.keys {
		if _, ok := t.deps[p]; ok || t.ov.deletedByRange(p) {
			continue
		}
		cs = append(cs, keyCompare(p, backend.ModRevision, backend.Less, next))
	}
	slices.SortFunc(cs, func(a, b backend.Compare) int { return strings.Compare(a.Range.Path, b.Range.Path) })
	var rs []backend.Compare
	for _, r := range t.ov.dels {
		rs = append(rs, backend.Compare{Range: r, Target: backend.ModRevision, Op: backend.Less, Value: next})
	}
	for _, r := range t.ranges {
		if t.rangeCovered(r) {
			continue
		}
		rs = append(rs, backend.Compare{Range: r, Target: backend.CreateRevision, Op: backend.Less, Value: next})
	}
	slices.SortFunc(rs, func(a, b backend.Compare) int { return compareRange(a.Range, b.Range) })
	return append(rs, cs...)
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
