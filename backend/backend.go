package backend

import (
	"context"
	"time"
)

// Backend is a storage backend: an MVCC key-value store with etcd's
// semantics. Every method takes a context first and honours its
// cancellation; every error wraps one of this package's sentinels (or the
// context's error) and names the path it concerns. Implementations are safe
// for concurrent use.
type Backend interface {
	// Get reads one key at rev (0: newest). It returns the key, and the
	// store's current revision when the read was served (as etcd's response
	// header does, also for a read at an older rev), which is set even when
	// the error is ErrNotFound. A read at rev 0 sees exactly that revision.
	Get(ctx context.Context, path string, rev int64) (KeyValue, int64, error)

	// List returns the keys at the depths opts selects whose path starts with
	// prefix, sorted by path, all read at one revision. Append "/" to a path
	// to list its children: List("/pb/", ...) lists "/pb/a" but not "/pbx".
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)

	// Commit applies t atomically (see Txn). It fails with ErrTxnTooLarge
	// when t has more compares or ops per branch than the store allows, and
	// with ErrIndeterminate when the outcome is unknown. Its input is
	// checked before any I/O in one order, on every backend: each compare,
	// then each op of Then, then of Else (ErrInvalidPath, ErrInvalidValue,
	// ErrInvalidTxn, naming the first bad one), and only then the size
	// (ErrTxnTooLarge): a commit both too large and holding a bad path
	// fails for the path.
	Commit(ctx context.Context, t Txn) (TxnResult, error)

	// Create writes a new key, attached to lease (or NoLease), and returns
	// the new revision. It fails with ErrCollision if the key exists.
	//
	// The revision returned with an error, by every method, is the store's
	// current revision when the store answered no (ErrNotFound,
	// ErrCollision, ErrVanished), and 0 when the request failed (a future
	// or compacted revision, a bad argument, an unreachable store).
	Create(ctx context.Context, path, value string, lease LeaseID) (int64, error)

	// Update overwrites an existing key, keeping its lease, and returns the
	// new revision. It fails with ErrVanished if the key does not exist.
	Update(ctx context.Context, path, value string) (int64, error)

	// Delete removes a key or a range of keys as opts says, atomically.
	Delete(ctx context.Context, path string, opts DeleteOptions) (DeleteResult, error)

	// Lease grants a lease of ttl (rounded up to whole seconds, at least one)
	// and keeps it alive until it is revoked or closed, or the backend
	// closes. Keys attached to it are deleted when it ends.
	Lease(ctx context.Context, ttl time.Duration) (Lease, error)

	// Watch streams the changes to ranges from revision fromRev on (0: from
	// the next write), over one stream however many ranges there are.
	// Events come in revision order, each once, with previous values (see
	// Event.Prev for when one is absent). A fromRev at or before the
	// compact revision ends the stream at once with ErrCompacted, and
	// CompactRevision the revision after the compact one: the first a
	// watch may start from. (Reads at the compact revision itself work;
	// a watch from it does not, on every backend alike: etcd before 3.4.34
	// and 3.5.15 loses the deletes made at the compact revision.) A
	// watch that falls behind a later compaction ends the same way.
	Watch(ctx context.Context, ranges []Range, fromRev int64) (WatchStream, error)

	// Revision returns the current store revision.
	Revision(ctx context.Context) (int64, error)

	// Compact discards the history before rev: reads and watches at older
	// revisions fail with ErrCompacted afterwards. Compacting at or below an
	// earlier compaction fails with ErrCompacted; above the current
	// revision, with ErrFutureRevision.
	Compact(ctx context.Context, rev int64) error

	// Close releases the backend, ends its watch streams with ErrClosed and
	// stops keeping its leases alive (they expire on their own). Every later
	// call fails with ErrClosed. Close is idempotent.
	Close() error
}

// LeaseID identifies a lease in the store.
type LeaseID int64

// NoLease is the LeaseID of a key attached to no lease.
const NoLease LeaseID = 0

// Lease is a granted lease, kept alive by the backend.
type Lease interface {
	// ID returns the lease's identifier, to attach keys to it.
	ID() LeaseID
	// TTL returns the lease's time to live as granted by the store, which
	// may exceed what was asked: etcd raises a TTL below its minimum (1.5
	// times its election timeout, in whole seconds: 2 s with etcd's
	// default settings) and the memory backend does the same with
	// memory.WithMinLeaseTTL. Expiry follows this TTL.
	TTL() time.Duration
	// Done is closed when the lease has ended: expired, revoked, closed, or
	// lost with its backend.
	Done() <-chan struct{}
	// Err returns nil while the lease is alive, then why it ended:
	// ErrLeaseExpired (expired or revoked), ErrClosed or ErrUnavailable.
	Err() error
	// Revoke ends the lease now; the store deletes its keys at once.
	Revoke(ctx context.Context) error
	// Close stops keeping the lease alive without revoking it: its keys
	// vanish when its TTL runs out. Close is idempotent.
	Close() error
}

// WatchStream is an open watch.
type WatchStream interface {
	// Responses delivers the stream's responses in order. The channel is
	// closed after a response with Err, or after Close.
	Responses() <-chan WatchResponse
	// RequestProgress asks for a progress notification: a response with no
	// events whose Revision is the store's current revision, sent once every
	// event up to it has been delivered.
	RequestProgress(ctx context.Context) error
	// Close ends the stream and releases it. It is idempotent.
	Close() error
}

// Limiter is implemented by backends whose store limits the size of a
// commit, so that callers fail early with ErrTxnTooLarge.
type Limiter interface {
	// MaxTxnOps returns the most compares, or ops per branch, a commit may
	// have.
	MaxTxnOps() int
}
