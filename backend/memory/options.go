package memory

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
}

func defaultOptions() options {
	return options{
		clock:           RealClock{},
		maxTxnOps:       DefaultMaxTxnOps,
		maxRequestBytes: DefaultMaxRequestBytes,
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
