package etcd3

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Backend is a backend.Backend over an etcd v3 cluster. It is safe for
// concurrent use. It also implements backend.Limiter.
type Backend struct {
	cfg     Config
	cli     *clientv3.Client
	owned   bool             // Close closes cli
	lessor  clientv3.Lease   // this backend's own, so Close can stop it
	watcher clientv3.Watcher // this backend's own, so Close can stop it
	ks      keyspace
	m       *metrics

	// ctx ends when the backend closes; every request and background
	// goroutine derives from it.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	watchSeq uint64 // numbers the watch streams
	leases   map[*lease]struct{}
	streams  map[*watchStream]struct{}
	// progressKnown says progressOK was learnt from the servers: whether
	// they order progress notifications after their events.
	progressKnown, progressOK bool
	progressAsked             time.Time // when the versions were last asked
	// revByTxn: the user may not read the prefix's root key, so the
	// revision is asked with an empty transaction (see currentRevision).
	revByTxn atomic.Bool
	wg       sync.WaitGroup // goroutines of leases and streams
}

var (
	_ backend.Backend = (*Backend)(nil)
	_ backend.Limiter = (*Backend)(nil)
)

// New connects to the etcd cluster cfg describes and returns a backend that
// owns the connection. It returns once a member has answered a read, or
// fails with an error wrapping ErrUnavailable (nobody answered within
// cfg.DialTimeout or ctx), ErrPermissionDenied (bad credentials) or a
// configuration error. Errors never contain the password.
//
// Errors come as soon as they are known, each saying what is wrong: the
// TLS files are checked first (one that cannot be read or holds no PEM
// certificate, a client certificate expired or not valid yet, a key that
// does not match it); then every endpoint is dialled at once, with the
// TLS handshake and the first words of HTTP/2, and when none answers New
// fails at once with why each did not ("connection refused at
// 127.0.0.1:2379", a server certificate signed by an unknown authority, a
// client certificate the server refused) rather than after DialTimeout.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.TLS.checkFiles(time.Now()); err != nil {
		return nil, fmt.Errorf("etcd3: %w", err)
	}
	cc, err := cfg.clientConfig()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd3: %w", err)
	}
	eps := strings.Join(cfg.Endpoints, ",")
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if !cfg.NoProbe {
		if err := probe(pctx, cfg.Endpoints, cc.TLS, cfg.TLS.CertFile); err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("etcd3: connecting to %s: %w", eps, cerr)
			}
			return nil, fmt.Errorf("etcd3: connecting to %s: %w: %w", eps, backend.ErrUnavailable, oneLine(err))
		}
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		s, _ := sentinelOf(err)
		return nil, fmt.Errorf("etcd3: connecting to %s: %w: %w", eps, s, err)
	}
	b := newBackend(cli, cfg, m, true)
	if _, err := b.currentRevision(pctx); err != nil {
		b.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("etcd3: connecting to %s: %w", eps, cerr)
		}
		s, _ := sentinelOf(err)
		return nil, fmt.Errorf("etcd3: connecting to %s: %w: %w", eps, s, err)
	}
	return b, nil
}

// NewFromClient returns a backend over an existing client, which it does
// not own: Close leaves cli open, and cli must outlive the backend.
// cfg.Endpoints, DialTimeout, TLS, Username, Password, Logger and
// DialOptions are ignored (they are the client's business).
func NewFromClient(cli *clientv3.Client, cfg Config) (*Backend, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd3: %w", err)
	}
	return newBackend(cli, cfg, m, false), nil
}

func newBackend(cli *clientv3.Client, cfg Config, m *metrics, owned bool) *Backend {
	ctx, cancel := context.WithCancel(context.Background())
	return &Backend{
		cfg:     cfg,
		cli:     cli,
		owned:   owned,
		lessor:  clientv3.NewLease(cli),
		watcher: clientv3.NewWatcher(cli),
		ks:      newKeyspace(cfg.Prefix),
		m:       m,
		ctx:     ctx,
		cancel:  cancel,
		leases:  make(map[*lease]struct{}),
		streams: make(map[*watchStream]struct{}),
	}
}

// MaxTxnOps returns Config.MaxTxnOps: the most compares, or ops per branch,
// a commit may have.
func (b *Backend) MaxTxnOps() int { return b.cfg.MaxTxnOps }

// Prefix returns the global prefix (Config.Prefix), "" for none.
func (b *Backend) Prefix() string { return b.ks.prefix }

// Close ends every watch stream with ErrClosed and every lease's
// keep-alive (the leases expire on their own), waits for their goroutines,
// and closes the client if the backend owns it. Requests in flight fail
// with ErrClosed (a commit with ErrIndeterminate as well). Close is
// idempotent.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	leases := make([]*lease, 0, len(b.leases))
	for l := range b.leases {
		leases = append(leases, l)
	}
	streams := make([]*watchStream, 0, len(b.streams))
	for s := range b.streams {
		streams = append(streams, s)
	}
	b.mu.Unlock()

	for _, l := range leases {
		l.end(fmt.Errorf("lease %x: %w", int64(l.id), backend.ErrClosed))
	}
	for _, s := range streams {
		s.stop(backend.ErrClosed)
	}
	b.cancel()
	b.wg.Wait()
	b.lessor.Close()
	b.watcher.Close()
	if b.owned {
		return b.cli.Close()
	}
	return nil
}

func (b *Backend) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// reqCtx returns the context of one request: ctx, ended also by Close, and
// bounded by RequestTimeout when ctx has no deadline. It fails when the
// backend is closed or ctx has ended.
func (b *Backend) reqCtx(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if b.isClosed() {
		return nil, nil, backend.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var cancel context.CancelFunc
	if _, ok := ctx.Deadline(); ok {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, b.cfg.RequestTimeout)
	}
	stop := context.AfterFunc(b.ctx, cancel)
	return ctx, func() { stop(); cancel() }, nil
}

// Revision returns the current store revision (linearizably).
func (b *Backend) Revision(ctx context.Context) (int64, error) {
	var rev int64
	err := b.read(ctx, "revision", func(ctx context.Context) error {
		var err error
		rev, err = b.currentRevision(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("etcd3: revision: %w", err)
	}
	return rev, nil
}

// currentRevision asks the store for its revision with a linearizable
// count of one key at the root of the backend's prefix: never behind a
// write another member acknowledged. (An empty transaction, allowed to
// every user, is not: etcd counts a transaction without a read as
// serializable and answers it from the member's own state.) A user that
// may not read even that key gets the empty transaction's revision, which
// may lag behind by what the member has not applied yet.
func (b *Backend) currentRevision(ctx context.Context) (int64, error) {
	if !b.revByTxn.Load() {
		resp, err := b.cli.Get(ctx, b.ks.key("/"), clientv3.WithCountOnly())
		if err == nil {
			return resp.Header.Revision, nil
		}
		if !isPermissionDenied(err) {
			return 0, err
		}
		b.revByTxn.Store(true)
	}
	resp, err := b.cli.Txn(ctx).Commit()
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// Compact discards the store's history before rev (for every user of the
// store, whatever their prefix). It is not retried: a retry of a compaction
// that took effect would fail with ErrCompacted.
func (b *Backend) Compact(ctx context.Context, rev int64) error {
	rctx, done, err := b.reqCtx(ctx)
	if err != nil {
		return fmt.Errorf("etcd3: compact at revision %d: %w", rev, err)
	}
	defer done()
	if _, err := b.cli.Compact(rctx, rev); err != nil {
		return fmt.Errorf("etcd3: compact at revision %d: %w", rev, b.mapErr(ctx, err))
	}
	return nil
}

// oneLine joins the lines of errors.Join into one, "; "-separated.
func oneLine(err error) error {
	if !strings.Contains(err.Error(), "\n") {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
}
