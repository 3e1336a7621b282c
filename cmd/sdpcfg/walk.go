package main

import (
	"context"
	"errors"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
)

// pageSize is the number of keys each List request of a walk reads: a walk
// holds one page at a time, so its memory does not grow with the tree.
const pageSize = 1000

// walk reads a subtree in path order, a page at a time, every page at the
// revision of the first: ls, export, delete's count.
type walk struct {
	b      backend.Backend
	g      *globalOptions
	path   string // "/" or a key path
	depth  int    // levels below path to read; 0 means backend.MaxDepth
	dirs   bool   // report each subtree deeper than depth once, as "path/"
	self   bool   // also the key at path itself, first (not for "/")
	values bool   // read values too
	rev    int64  // the revision to read at; 0 is the newest
}

// maxRune sorts after every character a path may hold: "dir/"+maxRune
// skips a whole subtree.
const maxRune = "\U0010FFFF"

// run calls fn for each key of the walk, in path order (with dir set for
// the subtrees reported by dirs, whose path ends with "/"), and returns the
// revision it read at and the number of keys. It stops at the first error
// of fn or of the store.
func (w walk) run(ctx context.Context, fn func(kv backend.KeyValue, dir bool) error) (rev int64, n int, err error) {
	rev = w.rev
	if w.self && w.path != "/" {
		cctx, cancel := w.g.rpc(ctx)
		kv, r, err := w.b.Get(cctx, w.path, rev)
		cancel()
		switch {
		case err == nil:
			if !w.values {
				kv.Value = ""
			}
			if err := fn(kv, false); err != nil {
				return r, n, err
			}
			n++
		case !errors.Is(err, backend.ErrNotFound):
			return r, n, err
		}
		rev = r
	}
	prefix, base := "/", 0
	if w.path != "/" {
		prefix, base = w.path+"/", backend.Depth(w.path)
	}
	depth := w.depth
	if depth <= 0 || depth > backend.MaxDepth {
		depth = backend.MaxDepth
	}
	recurse := depth - 1
	if w.dirs {
		recurse = backend.MaxDepth - 1 // deeper keys reveal the subtrees
	}
	opts := backend.ListOptions{Recurse: recurse, Revision: rev, WithValues: w.values, Limit: pageSize}
	skip := "" // the subtree being skipped, "/pb/x/"
	for {
		cctx, cancel := w.g.rpc(ctx)
		res, err := w.b.List(cctx, prefix, opts)
		cancel()
		if err != nil {
			return rev, n, err
		}
		opts.Revision = res.Revision // every page at the first page's revision
		rev = res.Revision
		for _, kv := range res.KVs {
			if skip != "" && strings.HasPrefix(kv.Path, skip) {
				continue
			}
			skip = ""
			if backend.Depth(kv.Path)-base > depth {
				// The ancestor at the depth limit, up to its trailing "/".
				cut := 0
				for i := 0; i < base+depth; i++ {
					cut += strings.IndexByte(kv.Path[cut+1:], '/') + 1
				}
				skip = kv.Path[:cut+1]
				if err := fn(backend.KeyValue{Path: skip}, true); err != nil {
					return rev, n, err
				}
				continue
			}
			if err := fn(kv, false); err != nil {
				return rev, n, err
			}
			n++
		}
		if !res.More || len(res.KVs) == 0 {
			return rev, n, nil
		}
		opts.After = res.KVs[len(res.KVs)-1].Path
		if skip != "" {
			opts.After = skip + maxRune // the rest of the subtree, unread
		}
	}
}
