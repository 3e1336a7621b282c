package backend

import "context"

// MultiGetter is implemented by backends (that are also Limiters) that read several keys at one
// revision in one round trip (etcd: a transaction of Get ops). A
// transaction uses it to read at once the keys it is known to read: those
// a prefetch names, and those the attempt before a retry read.
type MultiGetter interface {
	// GetMany reads the keys at paths, all at one revision: rev, or the
	// newest when rev is 0. It returns the keys present there, with their
	// values, in the order of paths (a path missing from kvs was absent),
	// and that revision. Every path must be a valid key path (checked
	// before any I/O, ErrInvalidPath naming the first bad one); more
	// paths than Limiter.MaxTxnOps fail with ErrTxnTooLarge. A rev that
	// is compacted or in the future fails as Get does.
	GetMany(ctx context.Context, paths []string, rev int64) (kvs []KeyValue, revision int64, err error)
}
