package sdptest

// Option configures an embedded etcd started by NewEtcd or NewBackend.
type Option func(*options)

// options holds what the Options set. Each field's zero value means etcd's
// (or this package's) default. Security settings (TLS, authentication)
// belong here too: they will configure both the server and the clients that
// Etcd.Client and Etcd.Backend build, so tests never repeat them.
type options struct {
	// maxTxnOps is the server's --max-txn-ops; 0 keeps etcd's 128.
	maxTxnOps uint
	// dataDir is the server's data directory; "" makes one in t.TempDir().
	dataDir string
}

// WithMaxTxnOps sets the most compares, or ops per branch, the server
// accepts in one transaction (etcd's --max-txn-ops, 128 by default). Tests
// of "transaction too large" paths use a small value to stay fast.
func WithMaxTxnOps(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxTxnOps = uint(n)
		}
	}
}

// WithDataDir makes the server keep its data in dir instead of a fresh
// directory under t.TempDir(). A dir that already holds the data of an
// earlier single-member server started by this package is reopened with its
// keys and revisions; the caller owns dir and removes it.
func WithDataDir(dir string) Option {
	return func(o *options) { o.dataDir = dir }
}

func buildOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
