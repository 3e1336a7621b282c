package memory

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// leaseState is a lease as the store holds it.
type leaseState struct {
	id     backend.LeaseID
	ttl    time.Duration
	keys   map[string]struct{} // paths attached to the lease
	handle *lease
	// timer expires the lease once its handle no longer keeps it alive;
	// nil while it is kept alive.
	timer Timer
}

// Lease grants a lease of ttl, rounded up to whole seconds and at least the
// minimum TTL (WithMinLeaseTTL, 1 s by default), and keeps it alive until it is revoked, its handle is closed, or
// the backend closes. A kept-alive lease never expires, whatever the clock
// does. ctx bounds the grant only.
func (b *Backend) Lease(ctx context.Context, ttl time.Duration) (backend.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lease grant: %w", err)
	}
	ttl = max(roundTTL(ttl), b.minLeaseTTL)

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("lease grant: %w", backend.ErrClosed)
	}
	b.lastLease++
	h := &lease{b: b, id: b.lastLease, ttl: ttl, done: make(chan struct{})}
	b.leases[h.id] = &leaseState{id: h.id, ttl: ttl, keys: make(map[string]struct{}), handle: h}
	return h, nil
}

// roundTTL rounds ttl up to whole seconds, at least one, without
// overflowing.
func roundTTL(ttl time.Duration) time.Duration {
	const most = math.MaxInt64 / time.Second
	secs := ttl / time.Second
	if ttl%time.Second > 0 && secs < most {
		secs++
	}
	return max(secs, 1) * time.Second
}

// ExpireLease is a test hook: it expires lease id now, as if its TTL had run
// out, kept alive or not: its keys are deleted at one new revision (none if
// it has no keys), and its handle ends with ErrLeaseExpired. It fails with
// ErrLeaseExpired if the store does not hold the lease.
func (b *Backend) ExpireLease(id backend.LeaseID) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("expire lease %d: %w", id, backend.ErrClosed)
	}
	l := b.leases[id]
	if l == nil {
		return fmt.Errorf("expire lease %d: %w", id, backend.ErrLeaseExpired)
	}
	b.endLease(l)
	return nil
}

// endLease deletes l's keys at one new revision, sorted by their stored
// form as etcd's lessor deletes them, forgets l and ends its handle with
// ErrLeaseExpired. The caller holds b.mu.
func (b *Backend) endLease(l *leaseState) {
	l.stopTimer(b)
	delete(b.leases, l.id)
	keys := make([]string, 0, len(l.keys))
	for p := range l.keys {
		keys = append(keys, backend.EncodeKey(p))
	}
	sort.Strings(keys)
	w := b.newBatch()
	for _, k := range keys {
		p, _ := backend.DecodeKey(k)
		w.deleteKey(b.keys[p])
	}
	w.commit()
	l.handle.end(backend.ErrLeaseExpired)
}

// scheduleExpiry arms l's expiry timer ttl from now on the clock. The
// caller holds b.mu and the backend is open.
func (l *leaseState) scheduleExpiry(b *Backend) {
	b.wg.Add(1)
	var t Timer
	t = b.clock.AfterFunc(l.ttl, func() {
		defer b.wg.Done()
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.closed || b.leases[l.id] != l || l.timer != t {
			return
		}
		l.timer = nil
		b.endLease(l)
	})
	l.timer = t
}

// stopTimer disarms l's expiry timer, if any. The caller holds b.mu.
func (l *leaseState) stopTimer(b *Backend) {
	if l.timer == nil {
		return
	}
	if l.timer.Stop() {
		b.wg.Done()
	}
	l.timer = nil
}

// lease is the handle Backend.Lease returns.
type lease struct {
	b    *Backend
	id   backend.LeaseID
	ttl  time.Duration
	done chan struct{}

	mu     sync.Mutex
	err    error
	closed bool // Close was called
}

// ID returns the lease's identifier.
func (h *lease) ID() backend.LeaseID { return h.id }

// TTL returns the granted time to live, in whole seconds.
func (h *lease) TTL() time.Duration { return h.ttl }

// Done is closed when the lease has expired or been revoked, when the
// handle is closed, or when the backend closes.
func (h *lease) Done() <-chan struct{} { return h.done }

// Err returns nil while the lease is alive, then ErrLeaseExpired (expired
// or revoked) or ErrClosed (the handle or the backend was closed).
func (h *lease) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// end records why the handle ended, the first time only, and closes Done.
func (h *lease) end(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return
	}
	h.err = err
	close(h.done)
}

// Revoke ends the lease now: its keys are deleted at one new revision
// (none if it has no keys) and the handle ends with ErrLeaseExpired. It
// works after Close too, while the lease has not expired yet. It fails with
// ErrLeaseExpired if the lease has already ended in the store.
func (h *lease) Revoke(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("revoke lease %d: %w", h.id, err)
	}
	b := h.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("revoke lease %d: %w", h.id, backend.ErrClosed)
	}
	l := b.leases[h.id]
	if l == nil {
		return fmt.Errorf("revoke lease %d: %w", h.id, backend.ErrLeaseExpired)
	}
	b.endLease(l)
	return nil
}

// Close stops keeping the lease alive without revoking it: it expires, and
// its keys vanish, one TTL after Close on the backend's clock. The handle
// ends at once with ErrClosed (unless it had already ended). Close is
// idempotent and returns nil.
func (h *lease) Close() error {
	b := h.b
	b.mu.Lock()
	defer b.mu.Unlock()
	h.mu.Lock()
	first := !h.closed
	h.closed = true
	h.mu.Unlock()
	if !first || b.closed {
		return nil
	}
	if l := b.leases[h.id]; l != nil && l.timer == nil {
		l.scheduleExpiry(b)
	}
	h.end(backend.ErrClosed)
	return nil
}
