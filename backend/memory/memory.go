package memory

import (
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Backend is an in-memory MVCC store with etcd's semantics. It implements
// backend.Backend and backend.Limiter and is safe for concurrent use. Build
// it with New; the zero value is not usable.
type Backend struct {
	clock           Clock
	maxTxnOps       int
	maxRequestBytes int
	minLeaseTTL     time.Duration // the shortest TTL granted (WithMinLeaseTTL)
	retain          int64         // revisions kept by automatic compaction (WithAutoCompaction); 0: none

	mu         sync.RWMutex
	closed     bool
	rev        int64 // current store revision
	compactRev int64 // -1 until the first Compact, as in etcd
	keys       map[string]*record
	hot        *record // the record writers looked up last (see recordOf)
	index      index
	leases     map[backend.LeaseID]*leaseState
	lastLease  backend.LeaseID
	streams    map[*watchStream]struct{}

	// wg counts the goroutines and pending timer calls of the backend, so
	// that Close returns only when none is left.
	wg sync.WaitGroup
}

var (
	_ backend.Backend = (*Backend)(nil)
	_ backend.Limiter = (*Backend)(nil)
)

// New returns an empty store at revision 1, as a new etcd is.
func New(opts ...Option) *Backend {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return &Backend{
		clock:           o.clock,
		maxTxnOps:       o.maxTxnOps,
		maxRequestBytes: o.maxRequestBytes,
		minLeaseTTL:     o.minLeaseTTL,
		retain:          o.retain,
		rev:             1,
		compactRev:      -1,
		keys:            make(map[string]*record),
		leases:          make(map[backend.LeaseID]*leaseState),
		streams:         make(map[*watchStream]struct{}),
	}
}

// MaxTxnOps returns the most compares, or ops per branch, a commit may have
// (see WithMaxTxnOps).
func (b *Backend) MaxTxnOps() int { return b.maxTxnOps }

// Close ends every watch stream with ErrClosed and every lease handle with
// ErrClosed (Done closed), stops the backend's timers and goroutines, and
// makes every later call fail with ErrClosed. It returns when no goroutine
// of the backend is left. Close is idempotent and always returns nil.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.wg.Wait()
		return nil
	}
	b.closed = true
	streams := b.takeStreams()
	for _, l := range b.leases {
		l.stopTimer(b)
		l.handle.end(backend.ErrClosed)
	}
	b.leases = nil
	b.mu.Unlock()

	for _, s := range streams {
		s.stop(backend.ErrClosed, 0)
	}
	b.wg.Wait()
	return nil
}

// DropWatches is a test hook: it ends every open watch stream with
// backend.ErrUnavailable, as a cut network stream would. Responses queued
// but not yet received are dropped with it; a consumer that resumes from
// the last revision it received plus one misses nothing. DropWatches
// returns when every stream has delivered its final response to its
// channel buffer and closed it.
func (b *Backend) DropWatches() {
	b.mu.Lock()
	streams := b.takeStreams()
	b.mu.Unlock()
	for _, s := range streams {
		s.stop(backend.ErrUnavailable, 0)
	}
	for _, s := range streams {
		<-s.done
	}
}

// takeStreams unregisters and returns every open stream. The caller holds
// b.mu.
func (b *Backend) takeStreams() []*watchStream {
	streams := make([]*watchStream, 0, len(b.streams))
	for s := range b.streams {
		streams = append(streams, s)
	}
	clear(b.streams)
	return streams
}
