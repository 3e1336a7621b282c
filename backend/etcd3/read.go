package etcd3

import (
	"context"
	"errors"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Get reads one key at rev (0: newest). The revision returned is the etcd
// response header's: the store's current revision, also for a read at an
// older revision or one that fails with ErrNotFound. Transient errors are
// retried (see Config.Retry).
func (b *Backend) Get(ctx context.Context, path string, rev int64) (backend.KeyValue, int64, error) {
	if err := backend.ValidatePath(path); err != nil {
		return backend.KeyValue{}, 0, err
	}
	key := b.ks.key(path)
	var resp *clientv3.GetResponse
	err := b.read(ctx, "get", func(ctx context.Context) error {
		var err error
		if rev > 0 {
			resp, err = b.cli.Get(ctx, key, clientv3.WithRev(rev))
		} else {
			resp, err = b.cli.Get(ctx, key)
		}
		return err
	})
	if err != nil {
		return backend.KeyValue{}, 0, backend.WrapPath("get", path, err)
	}
	if len(resp.Kvs) == 0 {
		return backend.KeyValue{}, resp.Header.Revision, backend.WrapPath("get", path, backend.ErrNotFound)
	}
	kv, _ := b.ks.keyValue(resp.Kvs[0])
	kv.Path = path
	return kv, resp.Header.Revision, nil
}

// List returns the keys at the depths opts selects whose path starts with
// prefix, sorted by path. It reads one etcd range per depth, all at one
// revision: the first range's, which the others pin; keys only unless
// opts.WithValues (but see keysOnly). With Limit, each
// range asks for at most Limit+1 keys, which is enough to fill the page
// and to tell whether there are More. The result's Revision is the etcd
// response header's (the store's current revision when opts.Revision is 0,
// which is then the revision of the whole list). If the store is compacted
// between two ranges of a newest-revision list, the list starts again.
func (b *Backend) List(ctx context.Context, prefix string, opts backend.ListOptions) (backend.ListResult, error) {
	if err := backend.ValidatePrefix(prefix); err != nil {
		return backend.ListResult{}, err
	}
	depths := listDepths(prefix, opts)
	var res backend.ListResult
	err := b.read(ctx, "list", func(ctx context.Context) error {
		var err error
		for range 3 {
			var repin bool
			res, repin, err = b.listOnce(ctx, prefix, depths, opts)
			if !repin {
				break
			}
		}
		return err
	})
	if err != nil {
		return backend.ListResult{}, backend.WrapPath("list", prefix, err)
	}
	return res, nil
}

// listOnce reads the ranges of one List. repin reports a compaction after
// the first range of a newest-revision list: the list may start again.
func (b *Backend) listOnce(ctx context.Context, prefix string, depths []int, opts backend.ListOptions) (res backend.ListResult, repin bool, err error) {
	rev := opts.Revision
	if len(depths) == 0 {
		// Nothing to list, but the revision is checked as a list would
		// check it: a future or compacted one fails, as on memory.
		if rev == 0 {
			res.Revision, err = b.currentRevision(ctx)
			return res, false, err
		}
		resp, err := b.cli.Get(ctx, b.ks.key("/"), clientv3.WithCountOnly(), clientv3.WithRev(rev))
		if err != nil {
			return res, false, err
		}
		res.Revision = resp.Header.Revision
		return res, false, nil
	}
	ops := make([]clientv3.OpOption, 0, 4)
	for i, d := range depths {
		start := b.ks.rangeKey(prefix, d)
		end := clientv3.GetPrefixRangeEnd(start)
		if opts.After != "" {
			if after := b.ks.rangeKey(opts.After, d) + "\x00"; after > start {
				start = after
			}
		}
		ops = append(ops[:0], clientv3.WithRange(end))
		if rev > 0 {
			ops = append(ops, clientv3.WithRev(rev))
		}
		if !opts.WithValues && opts.Limit == 0 {
			ops = append(ops, keysOnly...)
		}
		if opts.Limit > 0 {
			ops = append(ops, clientv3.WithLimit(int64(opts.Limit)+1))
		}
		resp, err := b.cli.Get(ctx, start, ops...)
		if err != nil {
			repin := i > 0 && opts.Revision == 0 && errors.Is(err, rpctypes.ErrCompacted)
			return res, repin, err
		}
		if i == 0 {
			res.Revision = resp.Header.Revision
			if rev == 0 {
				rev = resp.Header.Revision
			}
		}
		for _, kv := range resp.Kvs {
			if x, ok := b.ks.keyValue(kv); ok {
				if !opts.WithValues {
					x.Value = ""
				}
				res.KVs = append(res.KVs, x)
			}
		}
	}
	if len(depths) > 1 || !opts.WithValues {
		slices.SortFunc(res.KVs, func(a, b backend.KeyValue) int { return strings.Compare(a.Path, b.Path) })
	}
	if opts.Limit > 0 && len(res.KVs) > opts.Limit {
		res.KVs = res.KVs[:opts.Limit:opts.Limit]
		res.More = true
	}
	return res, false, nil
}

// keysOnly are the options of a keys-only range that still reports each
// key's lease. etcd v3.7 serves a plain keys-only range (WithKeysOnly) from
// its in-memory index, which holds revisions and versions but no lease, so
// every Lease would read 0; it takes the full path (and drops the values
// before answering) when the range is sorted by value. The keys then come
// sorted by value, and List sorts them by path again. Sorting defeats
// Limit (the server would cut the list in value order), so a keys-only
// List with a Limit reads the values and drops them here instead.
var keysOnly = []clientv3.OpOption{clientv3.WithKeysOnly(), clientv3.WithSort(clientv3.SortByValue, clientv3.SortAscend)}

// listDepths returns the depths (of paths) opts selects below prefix,
// sorted and without duplicates.
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
	for _, r := range opts.Depths {
		if d := base + r; d > 0 {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}
