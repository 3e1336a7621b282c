package txn

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/sdpconfig/sdpconfig/backend"
)

// DefaultMaxAttempts is how many times Run tries a transaction before it
// gives up with ErrTooManyRetries, unless WithMaxAttempts says otherwise.
const DefaultMaxAttempts = 64

// DefaultMaxTxnOps is the commit size limit Run assumes for a backend that
// does not implement backend.Limiter: etcd's default --max-txn-ops.
const DefaultMaxTxnOps = 128

// Reader is the read half of backend.Backend. A transaction reads through a
// Reader: the backend itself by default, or a local cache (WithReader).
// Get and List must behave as the backend's do; in particular a read at
// revision 0 returns the revision it was served at, which becomes the
// transaction's snapshot.
type Reader interface {
	// Get reads one key at rev (0: newest), as backend.Backend.Get.
	Get(ctx context.Context, path string, rev int64) (backend.KeyValue, int64, error)
	// List lists keys, as backend.Backend.List.
	List(ctx context.Context, prefix string, opts backend.ListOptions) (backend.ListResult, error)
}

// Stats reports what a call of Run did. Run fills it before returning,
// whatever the outcome.
type Stats struct {
	// Attempts is the number of times fn was called.
	Attempts int
	// Conflicts is the number of attempts that ended in a conflict: a failed
	// commit, or a snapshot that was compacted away.
	Conflicts int
	// Revision is the store revision of the successful commit; for a
	// read-only transaction, the snapshot revision it read at (0 if it read
	// nothing). It is 0 when Run failed.
	Revision int64
}

// Option configures Run.
type Option func(*options)

type options struct {
	maxAttempts int
	newBackOff  func() backoff.BackOff
	stats       *Stats
	reader      Reader
	hook        func(backend.Range)
	snapshot    int64
	prefetch    []string
	obs         *Observer
}

func buildOptions(opts []Option) options {
	if len(opts) == 0 {
		return options{maxAttempts: DefaultMaxAttempts, newBackOff: DefaultBackOff}
	}
	o := &options{maxAttempts: DefaultMaxAttempts, newBackOff: DefaultBackOff}
	for _, opt := range opts {
		opt(o)
	}
	return *o
}

// WithMaxAttempts bounds the number of attempts (calls of fn) to n;
// n < 1 means DefaultMaxAttempts.
func WithMaxAttempts(n int) Option {
	return func(o *options) {
		if n < 1 {
			n = DefaultMaxAttempts
		}
		o.maxAttempts = n
	}
}

// WithBackOff sets how long Run waits after a conflict before the next
// attempt. newBackOff is called once per Run, at the first conflict; a
// BackOff that returns backoff.Stop ends the run with ErrTooManyRetries.
// The default is DefaultBackOff.
func WithBackOff(newBackOff func() backoff.BackOff) Option {
	return func(o *options) {
		if newBackOff != nil {
			o.newBackOff = newBackOff
		}
	}
}

// WithStats makes Run fill *s with its attempt and conflict counts and the
// commit revision before it returns.
func WithStats(s *Stats) Option { return func(o *options) { o.stats = s } }

// WithReader makes the transaction read through r instead of the backend.
// Commits still go to the backend. r must serve reads at the revisions the
// backend has (a cache kept current by a watch of the backend does).
func WithReader(r Reader) Option { return func(o *options) { o.reader = r } }

// WithReadHook makes the transaction call hook with the range of every key
// and of every listed range it reads from the store and checks at commit
// (not for untracked lists, nor for keys answered from its own writes), in
// the goroutine that runs fn, before the read returns. A caching watcher
// uses it to watch exactly what its transactions depend on.
func WithReadHook(hook func(backend.Range)) Option { return func(o *options) { o.hook = hook } }

// WithSnapshot pins the snapshot of the first attempt at rev instead of the
// revision of its first read. Later attempts read the newest revision, as
// usual. A rev that is compacted away makes the first attempt conflict.
func WithSnapshot(rev int64) Option { return func(o *options) { o.snapshot = rev } }

// WithPrefetch makes the first attempt read the keys at paths in one round
// trip before fn runs, when the backend can (backend.MultiGetter, and no
// WithReader or WithSnapshot is given); their reads in fn are then
// answered from it, at its revision. A key prefetched that fn does not
// read adds no compare to the commit. Bad paths fail Run before anything
// is read.
func WithPrefetch(paths ...string) Option {
	return func(o *options) { o.prefetch = append(o.prefetch, paths...) }
}

// DefaultBackOff returns the default back-off between attempts: jittered
// exponential (±50%), from 5ms, times 2 each conflict, at most 500ms, with no
// overall time limit (attempts are bounded by WithMaxAttempts, time by the
// context).
func DefaultBackOff() backoff.BackOff {
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(5*time.Millisecond),
		backoff.WithRandomizationFactor(0.5),
		backoff.WithMultiplier(2),
		backoff.WithMaxInterval(500*time.Millisecond),
		backoff.WithMaxElapsedTime(0),
	)
}

// WriteOption configures Create and Put.
type WriteOption func(*writeOptions)

type writeOptions struct {
	lease backend.LeaseID
}

// leaseOf returns the lease opts set.
func leaseOf(opts []WriteOption) backend.LeaseID {
	if len(opts) == 0 {
		return backend.NoLease
	}
	o := &writeOptions{}
	for _, opt := range opts {
		opt(o)
	}
	return o.lease
}

// WithLease attaches the written key to lease id: the store deletes the key
// when the lease ends.
func WithLease(id backend.LeaseID) WriteOption { return func(o *writeOptions) { o.lease = id } }

// ListOptions select what List and ListValues return.
type ListOptions struct {
	// Recurse adds the Recurse levels below the prefix's own depth.
	Recurse int
	// Depths, when not nil, are exactly the levels to list, relative to the
	// prefix's depth (0 is the prefix's own depth); Recurse is then ignored.
	Depths []int
	// Untracked reads the list at the snapshot (with the transaction's own
	// writes) but does NOT check it at commit: keys created, changed or
	// deleted in the listed ranges after the snapshot do not make the
	// transaction conflict, and the read hook is not called. Use it for
	// large scans whose result the transaction does not depend on for
	// correctness (a tracked list costs one commit compare per listed key
	// and per depth, and a commit may hold at most the backend's limit).
	Untracked bool
}

// DeleteOptions select what Delete removes.
type DeleteOptions struct {
	// MustExist fails with backend.ErrVanished, deleting nothing, when no
	// key would be deleted.
	MustExist bool
	// Recursive also deletes every key below the path, down to
	// backend.MaxDepth levels.
	Recursive bool
}
