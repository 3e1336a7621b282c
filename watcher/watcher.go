package watcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
	"github.com/sdpconfig/sdpconfig/txn"
)

// DefaultRequeryProgress is how often a Watcher asks the store for its
// current revision unless Options.RequeryProgress says otherwise: the
// default requery_progress of ska-sdp-config's watcher (0.2 s).
const DefaultRequeryProgress = 200 * time.Millisecond

var (
	// ErrWatcherClosed is returned by Run and Loop when the Watcher was
	// closed, and by every Run after Close.
	ErrWatcherClosed = errors.New("watcher: watcher closed")
	// ErrWatcherRunning is returned by Run and Loop when the Watcher's loop
	// is already running: a Watcher runs one loop at a time.
	ErrWatcherRunning = errors.New("watcher: loop already running")
	// ErrIterationOver is returned by Iteration.Txn called after the body
	// of its iteration returned.
	ErrIterationOver = errors.New("watcher: iteration is over")
)

// Options configure a Watcher. The zero value is valid: no timeout,
// DefaultRequeryProgress, the default transaction options.
type Options struct {
	// Timeout wakes the loop when nothing else has woken it for this long
	// after an iteration (the wake reason is then TimedOut). 0 means no
	// timeout.
	Timeout time.Duration

	// RequeryProgress is how often the watcher asks the store for its
	// current revision, so that its cache (and with it the snapshot of
	// watcher transactions) moves on even when no watched key changes: it
	// bounds how stale a read in a watcher transaction can be. 0 means
	// DefaultRequeryProgress; a negative value disables the requests.
	RequeryProgress time.Duration

	// CacheKeys bounds the keys the cache keeps: beyond it, the keys and
	// listed ranges read least recently are dropped (and read from the
	// store again when needed), except what the loop waits on and what
	// the current iteration read. 0 means DefaultCacheKeys; a negative
	// value keeps every key read until the loop ends.
	CacheKeys int

	// TxnOptions are applied to every transaction of the loop, before the
	// options given to Iteration.Txn. WithReader and WithReadHook are the
	// watcher's own and are ignored here.
	TxnOptions []txn.Option

	// Registerer, when set, receives the watcher's metrics
	// (sdpconfig_watcher_*: wakes by reason, cache size, revision lag,
	// relists), summed over every Watcher registered on it. nil registers
	// nothing.
	Registerer prometheus.Registerer
	// TracerProvider, when set, traces each iteration of the loop (span
	// sdpconfig.watcher.iteration); nil traces nothing.
	TracerProvider trace.TracerProvider
	// Logger receives the loop's structured logs (relists, resumed
	// streams); nil discards them.
	Logger *slog.Logger
}

// Reason says why an iteration of the loop runs.
type Reason int

// The reasons an iteration runs. When several hold at once, the first in
// this list is reported.
const (
	// FirstRun is the reason of the first iteration.
	FirstRun Reason = iota + 1
	// Relisted: the store's history the watcher needed was compacted away
	// and its cache was dropped and reloaded at a newer revision; what the
	// last iteration read may have changed in ways the watcher cannot tell.
	Relisted
	// Changed: a key or range the last iteration's transactions read
	// changed after the snapshot they read it at.
	Changed
	// Triggered: Trigger was called.
	Triggered
	// TimedOut: Options.Timeout passed with nothing else happening.
	TimedOut
)

// String returns the reason's name, as "Changed".
func (r Reason) String() string {
	switch r {
	case FirstRun:
		return "FirstRun"
	case Relisted:
		return "Relisted"
	case Changed:
		return "Changed"
	case Triggered:
		return "Triggered"
	case TimedOut:
		return "TimedOut"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Stats are a Watcher's counters since New, for tests and metrics.
type Stats struct {
	// Streams is the number of backend watch streams opened: one per loop
	// run, plus one per resume after a cut stream or a compaction.
	Streams int64
	// Iterations is the number of iterations run (bodies called).
	Iterations int64
	// Hits is the number of reads (a key, or one depth of a listed range)
	// served from the cache.
	Hits int64
	// Misses is the number of reads that went to the store.
	Misses int64
	// Resumes is the number of watch streams reopened after being cut.
	Resumes int64
	// Relists is the number of times the cache was dropped because the
	// history it needed was compacted.
	Relists int64
	// Revision is the cache's revision: every change of the store up to it
	// has been applied. 0 when the loop is not running.
	Revision int64
	// CacheKeys and CacheRanges are the keys and listed ranges the cache
	// holds now (0 when the loop is not running).
	CacheKeys, CacheRanges int
	// Evictions is the number of keys and ranges dropped to keep the cache
	// within Options.CacheKeys.
	Evictions int64
}

type counters struct {
	streams, iterations, hits, misses, resumes, relists, evictions atomic.Int64

	wakes    [len(reasonLabels)]atomic.Int64 // iterations by Reason
	storeRev atomic.Int64                    // newest store revision heard of
}

// Watcher is a caching watcher loop (ska-sdp-config's Etcd3Watcher): it
// runs a body, records what the transactions the body starts through the
// Iteration read, and runs the body again when one of those keys or ranges
// changes, when Trigger is called, or when the timeout passes.
//
// A running Watcher holds one backend watch stream, over the whole
// keyspace of its backend, however many keys its transactions read, and
// keeps it across iterations. The stream keeps a local cache current: every
// key and listed range a watcher transaction reads is loaded once, at the
// cache's revision, and updated from the stream from then on, so that
// later reads cost no round trip and every read of a transaction is at one
// consistent revision. Writes commit to the store as in txn.Run.
//
// Consistency: a watcher transaction reads the store as it was at its
// snapshot, the cache's revision when its attempt starts. That revision
// lags the store by the stream's delivery delay, and by at most about
// Options.RequeryProgress when no key under the backend changes. After a
// watcher transaction commits at revision R, later watcher transactions
// read at R or later; after a conflict, the retry reads at least at the
// revision the failed commit reported. Writes made outside the watcher (by
// Config.Txn, or another process) are seen once the stream delivers them:
// use Iteration.WaitRevision for read-your-writes across them.
//
// Coverage: the stream covers keys down to 32 levels deep (twice
// backend.MaxDepth, so that a recursive delete below any key of 16 levels
// is covered); reading a deeper key or range in a watcher transaction
// fails with an error wrapping backend.ErrInvalidPath.
//
// Memory: the cache holds every key and listed range read through the
// watcher while it runs (deleted keys of listed ranges are dropped); it is
// released when the loop returns. While a watcher transaction runs, the
// changes delivered meanwhile are also kept (for reads at its snapshot),
// until it ends: keep watcher transactions short.
//
// A Watcher runs one loop at a time; its methods are safe for concurrent
// use.
type Watcher struct {
	b       backend.Backend
	opts    Options
	trigger chan struct{} // capacity 1: a pending Trigger
	st      counters
	metrics *collector   // nil without Options.Registerer
	tracer  trace.Tracer // nil without Options.TracerProvider
	log     *slog.Logger

	// lastCommit is the revision of the latest commit of a watcher
	// transaction: later watcher transactions read at least at it.
	lastCommit atomic.Int64

	mu     sync.Mutex
	closed bool
	run    *running // the running loop, nil if none
}

// running is the state of a running loop that Close needs.
type running struct {
	cancel context.CancelCauseFunc
	cache  *cache
	feed   *feed
}

// New returns a Watcher over b, which stays the caller's. It does no I/O:
// the stream opens when Run or Loop starts. New panics if b is nil or if
// opts.Registerer holds other collectors under the watcher's metric names
// (programming errors).
func New(b backend.Backend, opts Options) *Watcher {
	if b == nil {
		panic("watcher: New with a nil backend")
	}
	if opts.RequeryProgress == 0 {
		opts.RequeryProgress = DefaultRequeryProgress
	}
	opts.TxnOptions = append([]txn.Option(nil), opts.TxnOptions...)
	w := &Watcher{b: b, opts: opts, trigger: make(chan struct{}, 1),
		tracer: telemetry.Tracer(opts.TracerProvider, "watcher"), log: telemetry.Logger(opts.Logger)}
	if opts.Registerer != nil {
		m, err := register(opts.Registerer, w)
		if err != nil {
			panic("watcher: " + err.Error())
		}
		w.metrics = m
	}
	return w
}

// Trigger makes the loop run its body again: at once if it is waiting,
// else as soon as the running iteration ends. Triggers before the start of
// an iteration are served by that iteration. Trigger never blocks and may
// be called from any goroutine.
func (w *Watcher) Trigger() {
	select {
	case w.trigger <- struct{}{}:
	default:
	}
}

// Close stops the running loop, if any (Run and Loop then return
// ErrWatcherClosed, once the running body returns), and makes later Runs
// fail with ErrWatcherClosed. It returns when the loop's stream and its
// goroutine are gone; it does not wait for the body to return, so it may
// be called from the body. Close is idempotent and returns nil.
func (w *Watcher) Close() error {
	w.mu.Lock()
	w.closed = true
	r := w.run
	w.mu.Unlock()
	if r != nil {
		r.cancel(ErrWatcherClosed)
		r.feed.stop()
	}
	if w.metrics != nil {
		w.metrics.retire(w)
	}
	return nil
}

// Stats returns the Watcher's counters.
func (w *Watcher) Stats() Stats {
	s := Stats{
		Streams:    w.st.streams.Load(),
		Iterations: w.st.iterations.Load(),
		Hits:       w.st.hits.Load(),
		Misses:     w.st.misses.Load(),
		Resumes:    w.st.resumes.Load(),
		Relists:    w.st.relists.Load(),
		Evictions:  w.st.evictions.Load(),
	}
	w.mu.Lock()
	if w.run != nil {
		s.Revision = w.run.cache.revision()
		s.CacheKeys, s.CacheRanges = w.run.cache.size()
	}
	w.mu.Unlock()
	return s
}

// noteCommit records that a watcher transaction committed at rev.
func (w *Watcher) noteCommit(rev int64) {
	w.st.noteStoreRevision(rev)
	for {
		old := w.lastCommit.Load()
		if rev <= old || w.lastCommit.CompareAndSwap(old, rev) {
			return
		}
	}
}
