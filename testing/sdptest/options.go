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
	// tls asks for TLS with client certificates; tlsFiles are the files
	// generated for it when the server or cluster starts.
	tls      bool
	tlsFiles *TLSFiles
	// rootPassword, when not empty, turns etcd's authentication on with
	// a root user of that password.
	rootPassword string
}

// WithTLS makes the server (every member, for a cluster) serve clients over
// TLS only and require a client certificate signed by its authority. The
// certificates are generated when the server starts, in t.TempDir() (see
// TLSFiles, returned by Etcd.TLS and Cluster.TLS). Endpoints become
// https:// URLs; Client and Backend present the trusted client certificate.
// Peers still talk in plain text on loopback.
func WithTLS() Option {
	return func(o *options) { o.tls = true }
}

// WithAuth turns etcd's user and role authentication on once the server
// (or cluster) has started: it creates the user RootUser with
// rootPassword and etcd's root role, then enables auth. Client and Backend
// authenticate as RootUser; Etcd.Auth adds users and roles (with
// permissions on path prefixes, see PrefixRanges). rootPassword must not
// be empty.
func WithAuth(rootPassword string) Option {
	return func(o *options) { o.rootPassword = rootPassword }
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
