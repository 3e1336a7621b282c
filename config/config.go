package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
)

// DefaultClientLeaseTTL is the time to live of the client lease unless
// Options.ClientLeaseTTL says otherwise: ska-sdp-config's lease default.
const DefaultClientLeaseTTL = 10 * time.Second

// closeTimeout bounds the revocation of the client lease in Close, which
// has no context.
const closeTimeout = 5 * time.Second

// Options configure Open and New. The zero value is valid: for Open,
// everything from the environment, then the defaults.
//
// The connection settings (Backend to Password) are read by Open only
// (through ResolveSettings); each zero field is taken from its SDP_CONFIG_*
// environment variable, then its default. New ignores them and the
// environment, except Prefix, which New takes from Options alone.
type Options struct {
	Backend    string   // "etcd3" or "memory" (SDP_CONFIG_BACKEND; default "etcd3")
	Host       string   // server host (SDP_CONFIG_HOST; default 127.0.0.1)
	Port       int      // server client port, 0 for unset (SDP_CONFIG_PORT; default 2379)
	Endpoints  []string // cluster endpoints, "host:port" each (SDP_CONFIG_ENDPOINTS, comma-separated)
	Protocol   string   // "http" or "https" (SDP_CONFIG_PROTOCOL; default "http")
	CACert     string   // CA certificate file (SDP_CONFIG_CERT)
	ClientCert string   // client certificate file (SDP_CONFIG_CLIENT_CERT)
	ClientKey  string   // client key file (SDP_CONFIG_CLIENT_KEY)
	Username   string   // etcd user (SDP_CONFIG_USERNAME)
	Password   string   // etcd password (SDP_CONFIG_PASSWORD)
	// Prefix is the global key prefix (SDP_CONFIG_PREFIX for Open): a path
	// such as "/sdp" put before every path of this Config, so that several
	// deployments can share one store. "" is none.
	Prefix string

	// DialTimeout bounds connecting to etcd in Open; 0 means 5s.
	DialTimeout time.Duration
	// Owner identifies this process in ownership keys; nil means
	// DefaultOwner().
	Owner *OwnerInfo
	// ClientLeaseTTL is the time to live of the client lease; 0 means
	// DefaultClientLeaseTTL.
	ClientLeaseTTL time.Duration
	// TxnOptions are applied to every Config.Txn, before its own options.
	TxnOptions []txn.Option

	// Registerer, when set, receives the metrics of this Config's
	// transactions (txn.Observer) and, for Open, of its etcd client
	// (sdpconfig_txn_*, sdpconfig_etcd_*, sdpconfig_lease_*). nil
	// registers nothing.
	Registerer prometheus.Registerer
	// TracerProvider, when set, traces transactions and etcd requests;
	// nil traces nothing.
	TracerProvider trace.TracerProvider
	// Logger receives structured logs (lease lost, transactions given up);
	// nil discards them.
	Logger *slog.Logger
}

// Config is a handle on a configuration store: transactions, leases and
// the client lease of ownership keys, over one backend. It is safe for
// concurrent use. Close it when done.
type Config struct {
	b     backend.Backend // the view every call uses: prefixed if Prefix is set
	owned bool            // Close closes b
	owner OwnerInfo
	ttl   time.Duration
	txnOp []txn.Option
	tel   Telemetry // passed on to Config.Watcher and the controllers

	grantMu sync.Mutex // held while granting the client lease
	mu      sync.Mutex
	closed  bool
	client  backend.Lease   // the client lease, nil until first needed
	leases  []backend.Lease // leases handed out by Lease, still alive when last pruned
}

// New returns a Config over b, which stays the caller's: Close does not
// close b, it only revokes the client lease and closes the leases handed
// out by Lease. Of opts, New uses Prefix, Owner, ClientLeaseTTL,
// TxnOptions, Registerer, TracerProvider and Logger; it reads no
// environment. New panics if opts.Prefix is not "" or a valid path, or if
// opts.Registerer holds other collectors under sdpconfig_txn_* names
// (programming errors; ResolveSettings validates prefixes that come from
// users).
func New(b backend.Backend, opts Options) *Config {
	if b == nil {
		panic("config: New with a nil backend")
	}
	c, err := newConfig(b, opts, false)
	if err != nil {
		panic(err.Error())
	}
	return c
}

func newConfig(b backend.Backend, opts Options, owned bool) (*Config, error) {
	if opts.Prefix != "" {
		if err := backend.ValidateWritePath(opts.Prefix); err != nil {
			return nil, fmt.Errorf("config: prefix %q: %w", opts.Prefix, err)
		}
		b = withPrefix(b, opts.Prefix)
	}
	c := &Config{b: b, owned: owned, ttl: opts.ClientLeaseTTL, txnOp: opts.TxnOptions}
	if opts.Registerer != nil || opts.TracerProvider != nil || opts.Logger != nil {
		ob, err := txn.NewObserver(txn.ObserverOptions{Registerer: opts.Registerer, TracerProvider: opts.TracerProvider, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("config: metrics: %w", err)
		}
		c.txnOp = append([]txn.Option{txn.WithObserver(ob)}, opts.TxnOptions...)
		c.tel = Telemetry{opts.Registerer, opts.TracerProvider, opts.Logger}
	}
	if c.ttl <= 0 {
		c.ttl = DefaultClientLeaseTTL
	}
	if opts.Owner != nil {
		c.owner = opts.Owner.clone()
	} else {
		c.owner = DefaultOwner()
	}
	return c, nil
}

// Backend returns the backend this Config uses, for what the Config does
// not offer (watches, raw reads). With a prefix it is a view that puts the
// prefix before every path and strips it from every result, so paths are
// the same as in transactions. It is owned by the Config: do not close it.
func (c *Config) Backend() backend.Backend { return c.b }

// Owner returns the owner information this Config writes into ownership
// keys (Options.Owner, or DefaultOwner()).
func (c *Config) Owner() OwnerInfo { return c.owner.clone() }

// Txn runs fn in a transaction, as txn.Run does: fn reads a consistent
// snapshot and its writes are committed atomically when it returns nil;
// when the store changed under the snapshot, fn runs again on a new one
// (bounded by txn.WithMaxAttempts, default 64, then txn.ErrTooManyRetries).
// fn may therefore be called several times and must be idempotent apart
// from its calls on the Txn: collect results in variables it overwrites, and
// act on them after Txn returns or in OnCommit callbacks. An error from fn
// aborts the transaction, writing nothing, and is returned as is. Options
// apply after Options.TxnOptions.
func (c *Config) Txn(ctx context.Context, fn func(*Txn) error, opts ...txn.Option) error {
	if err := c.checkOpen(); err != nil {
		return err
	}
	all := opts
	if len(c.txnOp) > 0 {
		all = append(append(make([]txn.Option, 0, len(c.txnOp)+len(opts)), c.txnOp...), opts...)
	}
	return txn.Run(ctx, c.b, func(t *txn.Txn) error {
		return fn(c.WrapTxn(t))
	}, all...)
}

// WrapTxn returns t as a Txn of this Config, so that typed entities and
// ownership work in transactions started elsewhere (a watcher's). The
// result is valid as long as t is.
func (c *Config) WrapTxn(t *txn.Txn) *Txn { return &Txn{Txn: t, c: c} }

// Lease grants a new lease of ttl (rounded up to whole seconds by the
// store) that the backend keeps alive until it is revoked or closed: keys
// written with txn.WithLease(l.ID()) vanish when it ends. Done() is closed
// when it ends, whatever the reason. Close closes it (without revoking it)
// if it is still alive then.
func (c *Config) Lease(ctx context.Context, ttl time.Duration) (backend.Lease, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	l, err := c.b.Lease(ctx, ttl)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		l.Close()
		return nil, errClosed
	}
	// Forget the leases that ended, so a long-lived Config does not grow.
	kept := c.leases[:0]
	for _, old := range c.leases {
		if !ended(old) {
			kept = append(kept, old)
		}
	}
	c.leases = append(kept, l)
	return l, nil
}

// ClientLease returns the lease of this client: granted on first use with
// Options.ClientLeaseTTL, kept alive until Close, which revokes it. If it
// has ended (expired after a partition, or revoked), a new one is granted:
// keys bound to the old one, such as ownership keys, are gone by then and
// must be taken again.
func (c *Config) ClientLease(ctx context.Context) (backend.Lease, error) {
	// grantMu serialises grants; mu is not held across the grant, so that
	// Close and IsOwner never wait for a slow store.
	c.grantMu.Lock()
	defer c.grantMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errClosed
	}
	if c.client != nil && !ended(c.client) {
		l := c.client
		c.mu.Unlock()
		return l, nil
	}
	old := c.client
	c.client = nil
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}

	l, err := c.b.Lease(ctx, c.ttl)
	if err != nil {
		return nil, fmt.Errorf("config: client lease: %w", err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		revoke(l)
		return nil, errClosed
	}
	c.client = l
	c.mu.Unlock()
	return l, nil
}

// currentClientLease returns the client lease if one was granted and is
// alive, without granting one.
func (c *Config) currentClientLease() backend.LeaseID {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil || ended(c.client) {
		return backend.NoLease
	}
	return c.client.ID()
}

// Close revokes the client lease (deleting the ownership keys bound to it),
// closes the leases handed out by Lease that are still alive (their keys
// vanish when their TTL runs out), and closes the backend if the Config
// owns it (Open). No goroutine of the Config outlives Close. Later calls
// fail with an error wrapping backend.ErrClosed. Close is idempotent; it
// returns the errors it met, joined.
func (c *Config) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	client, leases := c.client, c.leases
	c.client, c.leases = nil, nil
	c.mu.Unlock()

	var errs []error
	if client != nil {
		if err := revoke(client); err != nil {
			errs = append(errs, fmt.Errorf("config: revoke client lease: %w", err))
		}
	}
	for _, l := range leases {
		l.Close()
	}
	if c.owned {
		if err := c.b.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var errClosed = fmt.Errorf("config: %w", backend.ErrClosed)

func (c *Config) checkOpen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	return nil
}

// revoke revokes l, if it has not ended, within closeTimeout, and closes
// it. A lease that ended meanwhile is no error.
func revoke(l backend.Lease) error {
	defer l.Close()
	if ended(l) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := l.Revoke(ctx); err != nil && !errors.Is(err, backend.ErrLeaseExpired) {
		return err
	}
	return nil
}

// ended reports whether l's Done channel is closed.
func ended(l backend.Lease) bool {
	select {
	case <-l.Done():
		return true
	default:
		return false
	}
}
