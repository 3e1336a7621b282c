package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// Mode says whether a Mirror stops after its refresh or follows changes.
type Mode int

const (
	// RefreshAndPersist refreshes, then follows the store's changes until
	// the Mirror is stopped. It is the zero Mode.
	RefreshAndPersist Mode = iota
	// RefreshOnly brings the mirror up to date once (a refresh, or from a
	// state file the changes made since it was written), calls RefreshDone,
	// and ends.
	RefreshOnly
)

// String returns "RefreshAndPersist" or "RefreshOnly".
func (m Mode) String() string {
	switch m {
	case RefreshAndPersist:
		return "RefreshAndPersist"
	case RefreshOnly:
		return "RefreshOnly"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Defaults of MirrorOptions.
const (
	DefaultPageSize      = 1000
	DefaultRetryInterval = 100 * time.Millisecond
	DefaultMaxRetry      = 10 * time.Second
)

// progressRetry is how often a Mirror repeats an unanswered progress
// request (a store may drop one while its watch is catching up).
const progressRetry = time.Second

// MirrorOptions configure a Mirror. The zero value is a RefreshAndPersist
// mirror held in memory only.
type MirrorOptions struct {
	// Mode is RefreshAndPersist (the zero value) or RefreshOnly.
	Mode Mode
	// StatePath is a bbolt file the mirror keeps its keys and cookie in, so
	// that a restart resumes where it left off; it is created if missing.
	// Empty: memory only, and every Run starts with a full refresh.
	StatePath string
	// WipeOnMismatch empties a state file written for another prefix or in
	// another format version instead of refusing it (ErrStateMismatch). A
	// file that is not a state file at all is always refused.
	WipeOnMismatch bool
	// PageSize is how many keys one List of a refresh returns; 0 means
	// DefaultPageSize.
	PageSize int
	// RetryInterval is the first wait before retrying an unavailable store;
	// waits grow exponentially up to MaxRetry and retries go on until Run's
	// context ends. 0 means DefaultRetryInterval.
	RetryInterval time.Duration
	// MaxRetry caps the wait between retries; 0 means DefaultMaxRetry.
	MaxRetry time.Duration
	// Registerer, when set, receives the mirror's metrics
	// (sdpconfig_mirror_*, labelled with its prefix: revision, lag,
	// events applied, refreshes, relists, state-file write latency). nil
	// registers nothing.
	Registerer prometheus.Registerer
	// Logger receives the mirror's structured logs (refreshes, relists,
	// retries); nil discards them.
	Logger *slog.Logger
}

// Errors of a Mirror besides those of its state file.
var (
	// ErrMirrorStopped is returned by WaitForRevision when the Mirror ended
	// before reaching the revision; it wraps Run's error, if any.
	ErrMirrorStopped = errors.New("mirror: mirror stopped")
	// ErrMirrorRan is returned by a second call to Run.
	ErrMirrorRan = errors.New("mirror: Mirror.Run called more than once")
)

// Mirror keeps a local copy of every key under a prefix, tells a Handler of
// each change (Add, Change, Delete, then RefreshDone once up to date), and
// optionally persists the copy and its cookie (a revision) in a bbolt state
// file, so that a restart resumes the watch after the cookie without
// listing the prefix again. A compacted cookie falls back to a refresh
// that reconciles the copy with the store. The Mirrors section of the
// package documentation gives the full contract.
//
// Run runs it; Stop, WaitForRevision and View are safe from any goroutine.
type Mirror struct {
	b      backend.Backend
	prefix string
	ranges []backend.Range
	depths []int
	h      Handler
	opts   MirrorOptions
	st     *state
	file   *stateFile // nil without StatePath
	met    *metrics   // nil without Registerer
	log    *slog.Logger
	// diskCookie is the cookie in the state file (0: none). Only Run's
	// goroutine uses it.
	diskCookie int64

	mu       sync.Mutex
	started  bool
	stopped  bool
	done     bool
	runErr   error
	cancel   context.CancelFunc
	revCh    chan struct{} // closed when the revision moves or Run ends
	wanted   int64         // the highest revision a WaitForRevision awaits
	progress chan struct{} // a WaitForRevision wants a progress request
}

// NewMirror returns a Mirror of every key whose path starts with prefix (see
// backend.ValidatePrefix), at the prefix's depth and backend.MaxDepth-1
// levels below, calling h (nil: no callbacks). With opts.StatePath it opens
// (or creates) the state file and loads it; the file stays open until Run
// returns or Stop is called. It fails with ErrInvalidPath for a bad prefix,
// ErrStateMismatch, ErrStateCorrupt or ErrStateLocked for a state file it
// cannot use.
func NewMirror(b backend.Backend, prefix string, h Handler, opts MirrorOptions) (*Mirror, error) {
	if err := backend.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	if opts.Mode != RefreshAndPersist && opts.Mode != RefreshOnly {
		return nil, fmt.Errorf("mirror: mirror %q: unknown mode %v", prefix, opts.Mode)
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = DefaultRetryInterval
	}
	if opts.MaxRetry <= 0 {
		opts.MaxRetry = DefaultMaxRetry
	}
	if h == nil {
		h = HandlerFuncs{}
	}
	met, err := newMetrics(opts.Registerer, prefix)
	if err != nil {
		return nil, fmt.Errorf("mirror: mirror %q: %w", prefix, err)
	}
	m := &Mirror{
		b:        b,
		prefix:   prefix,
		h:        h,
		opts:     opts,
		met:      met,
		log:      telemetry.Logger(opts.Logger),
		revCh:    make(chan struct{}),
		progress: make(chan struct{}, 1),
	}
	d := backend.Depth(prefix)
	for i := 0; i < backend.MaxDepth; i++ {
		m.ranges = append(m.ranges, backend.PrefixAt(prefix, d+i))
		m.depths = append(m.depths, i)
	}
	if opts.StatePath == "" {
		m.st = newState()
		return m, nil
	}
	f, st, err := openStateFile(opts.StatePath, prefix, opts.WipeOnMismatch)
	if err != nil {
		return nil, err
	}
	m.file, m.st, m.diskCookie = f, st, st.rev
	return m, nil
}

// Prefix returns the prefix the Mirror covers.
func (m *Mirror) Prefix() string { return m.prefix }

// View returns a read-only view of the mirrored keys. It follows the
// mirror: each call sees the latest applied state. It stays usable after
// Run returns.
func (m *Mirror) View() View { return stateView{m.st} }

// Stop asks Run to return (with nil) as soon as the callback in progress, if
// any, returns; the state file then holds every change whose callback
// completed. Before Run, it releases the state file and makes Run return at
// once. Stop is safe from any goroutine, any number of times, and does not
// wait for Run to return.
func (m *Mirror) Stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	cancel, started := m.cancel, m.started
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	} else if !started {
		m.finish(nil)
	}
}

// finish records the end of the Mirror: it closes the state file and
// releases every WaitForRevision.
func (m *Mirror) finish(err error) error {
	if m.file != nil {
		if cerr := m.file.close(); err == nil {
			err = cerr
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.done {
		m.done, m.runErr = true, err
		close(m.revCh)
	}
	return err
}

// advance records that the mirror is consistent at rev and wakes the
// waiters.
func (m *Mirror) advance(rev int64) {
	m.st.setRevision(rev)
	m.mu.Lock()
	close(m.revCh)
	m.revCh = make(chan struct{})
	m.mu.Unlock()
}

// WaitForRevision returns once the mirror has applied every change up to
// rev: after a write at revision rev, the mirror's view and callbacks have
// seen it (read-your-writes). It fails with ctx's error, or with
// ErrMirrorStopped (wrapping Run's error, if any) when the Mirror ends
// before reaching rev. It may be called before Run.
func (m *Mirror) WaitForRevision(ctx context.Context, rev int64) error {
	for {
		m.mu.Lock()
		if m.st.revision() >= rev {
			m.mu.Unlock()
			return nil
		}
		if m.done {
			err := m.runErr
			m.mu.Unlock()
			if err != nil {
				return fmt.Errorf("%w before revision %d: %w", ErrMirrorStopped, rev, err)
			}
			return fmt.Errorf("%w before revision %d", ErrMirrorStopped, rev)
		}
		ch := m.revCh
		if rev > m.wanted {
			m.wanted = rev
		}
		m.mu.Unlock()
		select {
		case m.progress <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// wantedRevision returns the highest revision a WaitForRevision awaits.
func (m *Mirror) wantedRevision() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.wanted
}
