package memory

import (
	"context"
	"fmt"
	"sort"

	"github.com/sdpconfig/sdpconfig/backend"
)

// version is one write of a key: a put, or a tombstone (create == 0) for a
// delete.
type version struct {
	mod    int64 // revision of the write
	create int64 // revision that created the key; 0 for a tombstone
	ver    int64 // writes since creation
	lease  backend.LeaseID
	sub    int // position of the write within its revision
	value  string
}

func (v version) tombstone() bool { return v.create == 0 }

// keyValue returns v as the SPI's KeyValue, with or without its value.
func (v version) keyValue(path string, withValue bool) backend.KeyValue {
	kv := backend.KeyValue{
		Path:           path,
		CreateRevision: v.create,
		ModRevision:    v.mod,
		Version:        v.ver,
		Lease:          v.lease,
	}
	if withValue {
		kv.Value = v.value
	}
	return kv
}

// record is the history of one key, oldest write first. Compaction keeps,
// as etcd v3.7 does, the newest write at or before the compact revision,
// unless it is a tombstone older than the compact revision, and everything
// after it: a delete at the compact revision itself stays, so that a watch
// from there reports it.
type record struct {
	path  string
	depth int
	hist  []version
}

// at returns the key as it was at rev, and whether it existed then.
func (r *record) at(rev int64) (version, bool) {
	h := r.hist
	n := len(h)
	if n > 0 && h[n-1].mod <= rev { // the common case: the newest write
		return h[n-1], !h[n-1].tombstone()
	}
	i := sort.Search(n, func(i int) bool { return h[i].mod > rev })
	if i == 0 {
		return version{}, false
	}
	return h[i-1], !h[i-1].tombstone()
}

// latest returns the key's newest write, and whether the key exists now.
func (r *record) latest() (version, bool) {
	if len(r.hist) == 0 {
		return version{}, false
	}
	v := r.hist[len(r.hist)-1]
	return v, !v.tombstone()
}

// compact drops the history before rev and reports whether nothing is
// left.
func (r *record) compact(rev int64) bool {
	h := r.hist
	i := sort.Search(len(h), func(i int) bool { return h[i].mod > rev })
	// h[i-1] is the newest write at or before rev: keep it unless it is a
	// tombstone before rev.
	keep := i
	if i > 0 && (!h[i-1].tombstone() || h[i-1].mod == rev) {
		keep = i - 1
	}
	if keep == 0 {
		return false
	}
	n := len(h) - keep
	if cap(h) > 2*n+32 {
		// Let a long history go.
		r.hist = append([]version(nil), h[keep:]...)
	} else {
		// Reuse the array: a key written steadily between compactions
		// then appends without allocating.
		copy(h, h[keep:])
		clear(h[n:])
		r.hist = h[:n]
	}
	return n == 0
}

// readRev checks a read revision against the store's and returns the
// revision to read at. The caller holds b.mu.
func (b *Backend) readRev(rev int64) (int64, error) {
	if b.closed {
		return 0, backend.ErrClosed
	}
	if rev > b.rev {
		return 0, fmt.Errorf("%w: revision %d, store at %d", backend.ErrFutureRevision, rev, b.rev)
	}
	if rev <= 0 {
		rev = b.rev
	}
	if rev < b.compactRev {
		return 0, fmt.Errorf("%w: revision %d, compacted at %d", backend.ErrCompacted, rev, b.compactRev)
	}
	return rev, nil
}

// scanRange calls fn for every key of r that exists at rev, in path order,
// until fn returns false. The caller holds b.mu exclusively.
func (b *Backend) scanRange(r backend.Range, rev int64, fn func(path string, v version) bool) {
	if !r.Prefix {
		if rec := b.recordOf(r.Path); rec != nil {
			if v, ok := rec.at(rev); ok {
				fn(r.Path, v)
			}
		}
		return
	}
	b.index.ascend(r.KeyDepth(), r.Path, "", func(p string) bool {
		v, ok := b.keys[p].at(rev)
		if !ok {
			return true
		}
		return fn(p, v)
	})
}

// Get reads one key at rev (0: newest). The revision returned is the
// store's current revision, as in an etcd response header, also when the
// read is at an older revision or fails with ErrNotFound.
func (b *Backend) Get(ctx context.Context, path string, rev int64) (backend.KeyValue, int64, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	rec := b.keys[path]
	if rec == nil { // a path the store has held is valid
		if err := backend.ValidatePath(path); err != nil {
			return backend.KeyValue{}, 0, backend.WrapPath("get", path, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return backend.KeyValue{}, 0, backend.WrapPath("get", path, err)
	}
	at, err := b.readRev(rev)
	if err != nil {
		return backend.KeyValue{}, 0, backend.WrapPath("get", path, err)
	}
	if rec != nil {
		if v, ok := rec.at(at); ok {
			return v.keyValue(path, true), b.rev, nil
		}
	}
	return backend.KeyValue{}, b.rev, backend.WrapPath("get", path, backend.ErrNotFound)
}

// List returns the keys at the depths opts selects whose path starts with
// prefix, sorted by path, read at one revision. The revision returned is
// the store's current revision, as in an etcd response header.
func (b *Backend) List(ctx context.Context, prefix string, opts backend.ListOptions) (backend.ListResult, error) {
	if err := backend.ValidatePrefix(prefix); err != nil {
		return backend.ListResult{}, backend.WrapPath("list", prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return backend.ListResult{}, backend.WrapPath("list", prefix, err)
	}
	depths := listDepths(prefix, opts)
	b.mu.RLock()
	defer b.mu.RUnlock()
	at, err := b.readRev(opts.Revision)
	if err != nil {
		return backend.ListResult{Revision: b.rev}, backend.WrapPath("list", prefix, err)
	}
	// Each depth is scanned in order, so only the first limit+1 keys of
	// each can be among the first limit+1 overall.
	perDepth := -1
	if opts.Limit > 0 {
		perDepth = opts.Limit + 1
	}
	var kvs []backend.KeyValue
	for _, d := range depths {
		n := 0
		b.index.ascend(d, prefix, opts.After, func(p string) bool {
			v, ok := b.keys[p].at(at)
			if !ok {
				return true
			}
			kvs = append(kvs, v.keyValue(p, opts.WithValues))
			n++
			return n != perDepth
		})
	}
	if len(depths) > 1 {
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].Path < kvs[j].Path })
	}
	res := backend.ListResult{KVs: kvs, Revision: b.rev}
	if opts.Limit > 0 && len(kvs) > opts.Limit {
		res.KVs = kvs[:opts.Limit:opts.Limit]
		res.More = true
	}
	return res, nil
}

// listDepths returns the absolute depths opts selects below prefix, without
// duplicates.
func listDepths(prefix string, opts backend.ListOptions) []int {
	base := backend.Depth(prefix)
	if opts.Depths == nil {
		n := max(opts.Recurse, 0)
		ds := make([]int, 0, n+1)
		for r := 0; r <= n; r++ {
			ds = append(ds, base+r)
		}
		return ds
	}
	ds := make([]int, 0, len(opts.Depths))
	seen := make(map[int]bool, len(opts.Depths))
	for _, r := range opts.Depths {
		if d := base + r; d >= 0 && !seen[d] {
			seen[d] = true
			ds = append(ds, d)
		}
	}
	return ds
}

// Revision returns the current store revision.
func (b *Backend) Revision(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("revision: %w", err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return 0, fmt.Errorf("revision: %w", backend.ErrClosed)
	}
	return b.rev, nil
}

// Compact discards the history before rev, as etcd does: reads at a
// revision below rev fail with ErrCompacted afterwards, reads at rev work.
// Compacting at or below an earlier compaction fails with ErrCompacted;
// above the current revision, with ErrFutureRevision.
func (b *Backend) Compact(ctx context.Context, rev int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("compact at revision %d: %w", rev, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return fmt.Errorf("compact at revision %d: %w", rev, backend.ErrClosed)
	case rev <= b.compactRev:
		return fmt.Errorf("compact at revision %d: %w (compacted at %d)", rev, backend.ErrCompacted, b.compactRev)
	case rev > b.rev:
		return fmt.Errorf("compact at revision %d: %w (store at %d)", rev, backend.ErrFutureRevision, b.rev)
	}
	b.compactLocked(rev)
	return nil
}

// compactLocked discards the history before rev. The caller holds b.mu
// exclusively and has checked rev.
func (b *Backend) compactLocked(rev int64) {
	b.compactRev = rev
	b.hot = nil
	for p, rec := range b.keys {
		if rec.compact(rev) {
			delete(b.keys, p)
			b.index.remove(p, rec.depth)
		}
	}
}
