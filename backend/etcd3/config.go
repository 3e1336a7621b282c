package etcd3

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Defaults of the Config fields left zero.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	// DefaultMaxTxnOps is etcd's default --max-txn-ops.
	DefaultMaxTxnOps = 128
)

// Config configures a Backend. The zero value of every field means its
// default; only Endpoints is required by New.
type Config struct {
	// Endpoints are the client URLs of the etcd members
	// ("http://127.0.0.1:2379", "https://etcd-0:2379", ...). The client
	// balances over them and fails over between them.
	Endpoints []string

	// DialTimeout bounds New's wait for a first answer from the store, and
	// the client's authentication. Default DefaultDialTimeout.
	DialTimeout time.Duration

	// RequestTimeout bounds each request (each attempt, for the reads that
	// retry) whose context has no deadline. Default DefaultRequestTimeout.
	RequestTimeout time.Duration

	// TLS secures the connection. The zero value connects in plain text
	// (unless an endpoint is https://, which then uses the system roots).
	TLS TLSConfig

	// Username and Password authenticate to an etcd with auth enabled. The
	// password never appears in an error, a log line or Config's String.
	Username string
	Password string

	// Prefix is an optional global prefix: a path ("/app") put in front of
	// every path, so that "/pb/x" is stored as "3/app/pb/x", exactly as
	// ska-sdp-config stores "/app/pb/x". Results carry paths without it.
	// Empty means none.
	Prefix string

	// MaxTxnOps is the most compares, or ops per branch, a commit may have:
	// set it to the server's --max-txn-ops. Larger commits fail early with
	// ErrTxnTooLarge. Default DefaultMaxTxnOps.
	MaxTxnOps int

	// Retry bounds the retries of reads (Get, List, Revision) and lease
	// grants on transient errors. Commits are never retried.
	Retry RetryConfig

	// Logger receives the etcd client's logs. Default: none.
	Logger *zap.Logger

	// Log receives the backend's own events, with structured fields: a
	// lease lost, a watch stream restarted or compacted, a request
	// retried. Default: none. Passwords and keys are never logged.
	Log *slog.Logger

	// Registerer receives the sdpconfig_etcd_* and sdpconfig_lease_*
	// metrics (see docs/observability.md). Default: none, so a Backend
	// registers nothing globally. Backends on one registry share series.
	Registerer prometheus.Registerer

	// TracerProvider, if set, makes a client span per request
	// (sdpconfig.etcd.get, .list, .txn, ...), a child of the span in the
	// request's context. Default: none.
	TracerProvider trace.TracerProvider

	// VerifyProgress makes every watch stream check each progress
	// notification against the store before delivering it, as streams do
	// on their own on servers that may send one ahead of its events (etcd
	// before 3.4.25 and 3.5.8: etcd issue 15220). For tests of that path
	// on a newer server.
	VerifyProgress bool

	// DialOptions are extra gRPC dial options for the etcd client, for
	// instance a faster reconnect backoff in tests.
	DialOptions []grpc.DialOption

	// NoProbe skips New's own dial of the endpoints, which names a refused
	// connection or a certificate problem at once: for DialOptions whose
	// dialer does not reach the endpoints over TCP (a proxy, an in-memory
	// listener). New then waits up to DialTimeout, as the etcd client does.
	NoProbe bool
}

// TLSConfig says how to secure the connection: either files in PEM form,
// or a ready *tls.Config.
type TLSConfig struct {
	// CAFile is the certificate authority that signs the servers'
	// certificates; empty means the system roots.
	CAFile string
	// CertFile and KeyFile are the client's certificate and key, for
	// servers that authenticate clients by certificate.
	CertFile string
	KeyFile  string
	// Config, when not nil, is used as is and the files must be empty.
	Config *tls.Config
}

// enabled reports whether any TLS setting is given.
func (t TLSConfig) enabled() bool {
	return t.Config != nil || t.CAFile != "" || t.CertFile != "" || t.KeyFile != ""
}

// build returns the *tls.Config the settings describe, or nil for none.
func (t TLSConfig) build() (*tls.Config, error) {
	switch {
	case t.Config != nil && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != ""):
		return nil, errors.New("TLS.Config and TLS files are mutually exclusive")
	case t.Config != nil:
		return t.Config.Clone(), nil
	case !t.enabled():
		return nil, nil
	case (t.CertFile == "") != (t.KeyFile == ""):
		return nil, errors.New("TLS.CertFile and TLS.KeyFile go together")
	}
	info := transport.TLSInfo{TrustedCAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile}
	c, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading TLS files: %w", err)
	}
	return c, nil
}

// RetryConfig bounds retries of idempotent requests. Zero fields take
// their defaults.
type RetryConfig struct {
	// MaxAttempts is the most attempts of one read, the first included.
	// Default 5; 1 disables retries.
	MaxAttempts int
	// InitialInterval is the wait before the first retry; later waits grow
	// exponentially with jitter. Default 50ms.
	InitialInterval time.Duration
	// MaxInterval caps the wait between two attempts. Default 1s.
	MaxInterval time.Duration
}

// String describes c for logs, with the password masked.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = "(set)"
	}
	return fmt.Sprintf("etcd3.Config{Endpoints: [%s], Prefix: %q, Username: %q, Password: %s, TLS: %v, DialTimeout: %v, RequestTimeout: %v, MaxTxnOps: %d}",
		strings.Join(c.Endpoints, " "), c.Prefix, c.Username, pw, c.TLS.enabled(), c.DialTimeout, c.RequestTimeout, c.MaxTxnOps)
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

// withDefaults returns c with its zero fields set to their defaults, and
// checks the fields that can be checked without I/O.
func (c Config) withDefaults() (Config, error) {
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxTxnOps <= 0 {
		c.MaxTxnOps = DefaultMaxTxnOps
	}
	if c.Retry.MaxAttempts <= 0 {
		c.Retry.MaxAttempts = 5
	}
	if c.Retry.InitialInterval <= 0 {
		c.Retry.InitialInterval = 50 * time.Millisecond
	}
	if c.Retry.MaxInterval <= 0 {
		c.Retry.MaxInterval = time.Second
	}
	if c.Prefix == "/" {
		c.Prefix = ""
	}
	if c.Prefix != "" {
		if err := backend.ValidateWritePath(c.Prefix); err != nil {
			return c, fmt.Errorf("etcd3: Config.Prefix: %w", err)
		}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c, nil
}

// clientConfig returns the etcd client configuration for c (with its
// defaults set).
func (c Config) clientConfig() (clientv3.Config, error) {
	if len(c.Endpoints) == 0 {
		return clientv3.Config{}, errors.New("etcd3: Config.Endpoints is empty")
	}
	tc, err := c.TLS.build()
	if err != nil {
		return clientv3.Config{}, fmt.Errorf("etcd3: %w", err)
	}
	if (c.Username == "") != (c.Password == "") {
		return clientv3.Config{}, errors.New("etcd3: Config.Username and Config.Password go together")
	}
	return clientv3.Config{
		Endpoints:            c.Endpoints,
		DialTimeout:          c.DialTimeout,
		DialKeepAliveTime:    30 * time.Second,
		DialKeepAliveTimeout: 10 * time.Second,
		TLS:                  tc,
		Username:             c.Username,
		Password:             c.Password,
		Logger:               c.Logger,
		DialOptions:          append([]grpc.DialOption{reconnectSoon}, c.DialOptions...),
	}, nil
}

// ReconnectMaxDelay bounds the wait between two attempts of the client at
// reconnecting to a member it lost: a server that comes back is reached
// within about this long. gRPC's own default grows to two minutes, so
// that after an outage of a minute a watch would resume only a minute or
// two after the server's return.
const ReconnectMaxDelay = time.Second

// reconnectSoon is the client's reconnection schedule: from 100 ms, times
// 1.6 each attempt, at most ReconnectMaxDelay, ±20%. DialOptions given in
// Config come after it, and so override it.
var reconnectSoon = grpc.WithConnectParams(grpc.ConnectParams{
	Backoff: grpcbackoff.Config{
		BaseDelay:  100 * time.Millisecond,
		Multiplier: 1.6,
		Jitter:     0.2,
		MaxDelay:   ReconnectMaxDelay,
	},
	MinConnectTimeout: 5 * time.Second,
})
