package memory

import "time"

// Defaults, copied from etcd's server defaults.
const (
	// DefaultMaxTxnOps is etcd's --max-txn-ops default: the most compares,
	// or ops per branch, a commit may have.
	DefaultMaxTxnOps = 128
	// DefaultMaxRequestBytes is etcd's --max-request-bytes default
	// (1.5 MiB): the most key and value bytes a commit may carry.
	DefaultMaxRequestBytes = 1536 * 1024
)

// Option configures a Backend built by New.
type Option func(*options)

type options struct {
	clock           Clock
	maxTxnOps       int
	maxRequestBytes int
	minLeaseTTL     time.Duration
	retain          int64
}

func defaultOptions() options {
	return options{
		clock:           RealClock{},
		maxTxnOps:       DefaultMaxTxnOps,
		maxRequestBytes: DefaultMaxRequestBytes,
		minLeaseTTL:     time.Second,
	}
}

// WithClock sets the clock leases expire on. The default is the real clock;
// tests pass a FakeClock and advance it to expire leases. A nil clock keeps
// the default.
func WithClock(c Clock) Option {
	return func(o *options) {
		if c != nil {
			o.clock = c
		}
	}
}

// WithMaxTxnOps sets the most compares, or ops per branch, a commit may have
// before it fails with backend.ErrTxnTooLarge, like etcd's --max-txn-ops.
// The default is DefaultMaxTxnOps; n < 1 keeps it.
func WithMaxTxnOps(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxTxnOps = n
		}
	}
}

// WithMaxRequestBytes sets the most bytes of keys (in their stored form
// "<depth><path>") and values a commit may carry, over all its compares and
// both branches, before it fails with backend.ErrTxnTooLarge, like etcd's
// --max-request-bytes. The default is DefaultMaxRequestBytes; n < 1 keeps it.
func WithMaxRequestBytes(n int) Option {
	return func(o *options) {
		if n >= 1 {
			o.maxRequestBytes = n
		}
	}
}

// WithMinLeaseTTL sets the shortest TTL a lease is granted, like etcd's
// own minimum: etcd raises a shorter TTL to 1.5 times its election
// timeout, rounded up to whole seconds, and reports the raised TTL. With
// etcd's default settings (1 s election timeout, as Debian's etcd 3.4
// runs) that is 2 s; sdptest's servers, with 100 ms, grant 1 s. The
// default is 1 s, the least any store grants; d is rounded up to whole
// seconds, and d < 1s keeps the default.
func WithMinLeaseTTL(d time.Duration) Option {
	return func(o *options) {
		if d >= time.Second {
			o.minLeaseTTL = roundTTL(d)
		}
	}
}

// WithAutoCompaction makes the store compact its history on its own, as
// etcd does with --auto-compaction-mode=revision
// --auto-compaction-retention=retain: whenever retain revisions have
// passed since the compaction revision stood retain revisions back, it
// compacts at the current revision minus retain (so between retain and
// 2*retain revisions of history stay readable). It keeps the cost of a
// commit flat however long the store runs: without it the history, and
// the memory and time it costs, grow without bound, as in an etcd that
// is never compacted. The default is none, as etcd's; retain < 1 keeps it.
func WithAutoCompaction(retain int64) Option {
	return func(o *options) {
		if retain >= 1 {
			o.retain = retain
		}
	}
}
