package etcd3

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Lease grants a lease of ttl, rounded up to whole seconds and at least one
// second, and keeps it alive from a goroutine of its own until it is
// revoked or closed, it is lost, or the backend closes. The grant is
// retried on transient errors (an extra lease granted by a retry expires on
// its own). ctx bounds the grant only. A ttl above etcd's maximum (9e9
// seconds) fails with ErrInvalidValue.
func (b *Backend) Lease(ctx context.Context, ttl time.Duration) (backend.Lease, error) {
	secs := int64(ttl / time.Second)
	if ttl%time.Second > 0 {
		secs++
	}
	secs = max(secs, 1)
	var resp *clientv3.LeaseGrantResponse
	err := b.read(ctx, "lease_grant", func(ctx context.Context) error {
		var err error
		resp, err = b.lessor.Grant(ctx, secs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("etcd3: lease grant: %w", err)
	}
	b.m.leasesGranted.Inc()
	l := &lease{
		b:      b,
		id:     resp.ID,
		ttl:    time.Duration(resp.TTL) * time.Second,
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	kctx, cancel := context.WithCancel(b.ctx)
	l.stopKeepAlive = cancel
	ch, err := b.lessor.KeepAlive(kctx, resp.ID)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("etcd3: lease %x keep-alive: %w", int64(resp.ID), b.mapErr(ctx, err))
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("etcd3: lease grant: %w", backend.ErrClosed)
	}
	b.leases[l] = struct{}{}
	b.wg.Add(1)
	b.mu.Unlock()
	go l.keepAlive(kctx, ch)
	return l, nil
}

// lease is a granted lease kept alive by its goroutine.
type lease struct {
	b             *Backend
	id            clientv3.LeaseID
	ttl           time.Duration
	done          chan struct{} // closed by end
	exited        chan struct{} // closed when keepAlive returns
	stopKeepAlive context.CancelFunc

	mu  sync.Mutex
	err error
}

// ID returns the lease's identifier.
func (l *lease) ID() backend.LeaseID { return backend.LeaseID(l.id) }

// TTL returns the time to live the store granted.
func (l *lease) TTL() time.Duration { return l.ttl }

// Done is closed when the lease has ended: expired, revoked, closed, or
// lost with its backend or the store.
func (l *lease) Done() <-chan struct{} { return l.done }

// Err returns nil while the lease is alive, then why it ended:
// ErrLeaseExpired (expired or revoked), ErrClosed (the lease or the backend
// was closed) or ErrUnavailable (keep-alives went unanswered for a TTL and
// the store could not say whether the lease still exists).
func (l *lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// end records why the lease ended, the first time only, and closes Done.
func (l *lease) end(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	l.err = err
	close(l.done)
}

// keepAlive drains the client's keep-alive responses until the channel
// closes. The client closes it when the store says the lease is gone, when
// keep-alives went unanswered for a TTL, or when kctx ends (Close, Revoke,
// the backend's Close: then the lease has already ended).
func (l *lease) keepAlive(kctx context.Context, ch <-chan *clientv3.LeaseKeepAliveResponse) {
	defer l.b.wg.Done()
	defer close(l.exited)
	defer l.forget()
	for range ch {
		l.b.m.keepAlives.Inc()
	}
	if kctx.Err() != nil {
		return
	}
	err := l.lostReason()
	l.b.m.leaseLost(int64(l.id), err)
	l.end(err)
}

// lostReason asks the store whether the lease still exists, after its
// keep-alive stopped: ErrLeaseExpired if it does not, ErrUnavailable if the
// store cannot say (the lease may live on until its TTL runs out).
func (l *lease) lostReason() error {
	ctx, cancel := context.WithTimeout(l.b.ctx, l.b.cfg.RequestTimeout)
	defer cancel()
	resp, err := l.b.lessor.TimeToLive(ctx, l.id)
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound), err == nil && resp.TTL <= 0:
		return fmt.Errorf("etcd3: lease %x: %w", int64(l.id), backend.ErrLeaseExpired)
	case l.b.isClosed():
		return fmt.Errorf("etcd3: lease %x: %w", int64(l.id), backend.ErrClosed)
	case err != nil:
		return fmt.Errorf("etcd3: lease %x: keep-alive lost: %w: %w", int64(l.id), backend.ErrUnavailable, err)
	}
	return fmt.Errorf("etcd3: lease %x: keep-alive lost while the lease has %ds left: %w", int64(l.id), resp.TTL, backend.ErrUnavailable)
}

// forget unregisters the lease from its backend.
func (l *lease) forget() {
	l.b.mu.Lock()
	delete(l.b.leases, l)
	l.b.mu.Unlock()
}

// Revoke ends the lease now: the store deletes its keys at once. It works
// after Close too, while the lease has not expired; it fails with
// ErrLeaseExpired if the store no longer holds the lease, and with
// ErrClosed once the backend is closed. A revoke whose answer is lost is
// retried; if the retry finds the lease gone, the revoke took effect.
func (l *lease) Revoke(ctx context.Context) error {
	attempts := 0
	err := l.b.read(ctx, "lease_revoke", func(ctx context.Context) error {
		attempts++
		_, err := l.b.lessor.Revoke(ctx, l.id)
		if attempts > 1 && errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("etcd3: revoke lease %x: %w", int64(l.id), err)
	}
	l.end(fmt.Errorf("etcd3: lease %x revoked: %w", int64(l.id), backend.ErrLeaseExpired))
	l.stop()
	return nil
}

// Close stops keeping the lease alive without revoking it: it expires, and
// its keys vanish, one TTL after the last keep-alive. Done is closed and
// Err is ErrClosed (unless the lease had already ended). Close waits for the
// keep-alive goroutine, is idempotent and returns nil.
func (l *lease) Close() error {
	l.end(fmt.Errorf("etcd3: lease %x: %w", int64(l.id), backend.ErrClosed))
	l.stop()
	return nil
}

// stop ends the keep-alive goroutine and waits for it.
func (l *lease) stop() {
	l.stopKeepAlive()
	<-l.exited
}
