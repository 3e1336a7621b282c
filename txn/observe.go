package txn

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// MaxConflictPrefixes bounds the label values of
// sdpconfig_txn_conflicts_total: the first path elements of conflicting
// keys are counted under their own prefix until this many are seen; later
// ones count under "other".
const MaxConflictPrefixes = 64

// ObserverOptions say where an Observer reports. Every field may be nil:
// what is nil is not reported.
type ObserverOptions struct {
	// Registerer receives the sdpconfig_txn_* metrics.
	Registerer prometheus.Registerer
	// TracerProvider makes a span per transaction (sdpconfig.txn), with a
	// child per attempt and per commit.
	TracerProvider trace.TracerProvider
	// Logger receives a debug record per conflict and a warning per
	// transaction that gave up (ErrTooManyRetries) or whose commit may or
	// may not have applied (ErrIndeterminate).
	Logger *slog.Logger
}

// Observer counts and traces the transactions it is given to (WithObserver).
// One Observer serves any number of concurrent transactions.
type Observer struct {
	attempts, commits, tooMany, indeterminate prometheus.Counter
	conflicts                                 *prometheus.CounterVec
	commitSeconds, runSeconds                 prometheus.Histogram
	tracer                                    trace.Tracer
	log                                       *slog.Logger
	opt                                       Option

	mu       sync.Mutex
	prefixes map[string]prometheus.Counter
}

// NewObserver registers the transaction metrics on o.Registerer (reusing
// those another Observer registered there) and returns the Observer.
func NewObserver(o ObserverOptions) (*Observer, error) {
	r := telemetry.Registry{Reg: o.Registerer}
	ob := &Observer{
		attempts:      r.Counter("sdpconfig_txn_attempts_total", "Attempts of transactions: calls of the transaction function."),
		commits:       r.Counter("sdpconfig_txn_commits_total", "Transactions committed (read-only ones included)."),
		conflicts:     r.CounterVec("sdpconfig_txn_conflicts_total", "Attempts that ended in a conflict, by the first path element of the key that conflicted.", "prefix"),
		tooMany:       r.Counter("sdpconfig_txn_too_many_retries_total", "Transactions that gave up with ErrTooManyRetries."),
		indeterminate: r.Counter("sdpconfig_txn_indeterminate_total", "Transactions whose commit may or may not have applied (ErrIndeterminate)."),
		commitSeconds: r.Histogram("sdpconfig_txn_commit_duration_seconds", "Latency of one commit request."),
		runSeconds:    r.Histogram("sdpconfig_txn_duration_seconds", "Latency of a whole transaction, every attempt and back-off included."),
		tracer:        telemetry.Tracer(o.TracerProvider, "txn"),
		log:           telemetry.Logger(o.Logger),
		prefixes:      map[string]prometheus.Counter{},
	}
	if r.Err != nil {
		return nil, r.Err
	}
	ob.opt = func(opts *options) { opts.obs = ob }
	return ob, nil
}

// WithObserver makes Run report to ob. It allocates nothing: the option is
// made once, with ob. A nil ob reports nothing.
func WithObserver(ob *Observer) Option {
	if ob == nil {
		return func(*options) {}
	}
	return ob.opt
}

// conflictPrefix returns the counter of the prefix of the key of c.
func (ob *Observer) conflict(c *ConflictError) {
	p := c.Path
	if p == "" && c.commit != nil && len(c.commit.If) > 0 {
		p = c.commit.If[0].Range.Path
	}
	p = firstElement(p)
	ob.mu.Lock()
	ctr, ok := ob.prefixes[p]
	if !ok {
		if len(ob.prefixes) >= MaxConflictPrefixes {
			p = "other"
		}
		ctr = ob.conflicts.WithLabelValues(p)
		if len(ob.prefixes) < MaxConflictPrefixes || p == "other" {
			ob.prefixes[p] = ctr
		}
	}
	ob.mu.Unlock()
	ctr.Inc()
	ob.log.Debug("txn conflict", "path", c.Path, "revision", c.Revision)
}

// firstElement returns "/a" of "/a/b/c", and "" of "".
func firstElement(p string) string {
	if p == "" {
		return ""
	}
	if i := strings.IndexByte(p[1:], '/'); i >= 0 {
		return p[:i+1]
	}
	return p
}

// run is what an Observer keeps of one Run.
type run struct {
	ob    *Observer
	start time.Time
	span  trace.Span
}

// begin starts observing a Run; ctx carries its span when tracing.
func (ob *Observer) begin(ctx context.Context) (context.Context, run) {
	r := run{ob: ob, start: time.Now()}
	ctx, r.span = telemetry.Start(ctx, ob.tracer, "sdpconfig.txn")
	return ctx, r
}

// end records the outcome of the Run.
func (r run) end(st *Stats, err error) {
	ob := r.ob
	ob.runSeconds.Observe(time.Since(r.start).Seconds())
	switch {
	case err == nil:
		ob.commits.Inc()
	case errors.Is(err, ErrTooManyRetries):
		ob.tooMany.Inc()
		ob.log.Warn("txn gave up", "attempts", st.Attempts, "error", err)
	case errors.Is(err, backend.ErrIndeterminate):
		ob.indeterminate.Inc()
		ob.log.Warn("txn commit indeterminate", "attempts", st.Attempts, "error", err)
	}
	if r.span != nil {
		r.span.SetAttributes(attribute.Int("sdpconfig.attempts", st.Attempts), attribute.Int("sdpconfig.conflicts", st.Conflicts), attribute.Int64("sdpconfig.revision", st.Revision))
		if err != nil {
			r.span.SetStatus(codes.Error, err.Error())
		}
		r.span.End()
	}
}

// attempt starts the span of attempt n.
func (r run) attempt(ctx context.Context, n int) (context.Context, trace.Span) {
	r.ob.attempts.Inc()
	if r.span == nil {
		return ctx, nil
	}
	return r.ob.tracer.Start(ctx, "sdpconfig.txn.attempt", trace.WithAttributes(attribute.Int("sdpconfig.attempt", n)))
}

// endAttempt ends the span of an attempt with its conflict, if any.
func endAttempt(span trace.Span, c *ConflictError, err error) {
	if span == nil {
		return
	}
	if c != nil {
		span.SetAttributes(attribute.String("sdpconfig.conflict_key", c.Path), attribute.Int64("sdpconfig.snapshot", c.Revision))
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// commitTimer times one commit request.
type commitTimer struct {
	ob    *Observer
	start time.Time
	span  trace.Span
}

// startCommit starts timing a commit (and its span, when tracing).
func (ob *Observer) startCommit(ctx context.Context, compares, ops, reads int) commitTimer {
	ct := commitTimer{ob: ob, start: time.Now()}
	if ob.tracer != nil {
		_, ct.span = ob.tracer.Start(ctx, "sdpconfig.txn.commit", trace.WithAttributes(
			attribute.Int("sdpconfig.compares", compares),
			attribute.Int("sdpconfig.ops", ops),
			attribute.Int("sdpconfig.reads", reads)))
	}
	return ct
}

// end records the commit's latency and ends its span.
func (ct commitTimer) end(err error) {
	ct.ob.commitSeconds.Observe(time.Since(ct.start).Seconds())
	if ct.span != nil {
		if err != nil {
			ct.span.SetStatus(codes.Error, err.Error())
		}
		ct.span.End()
	}
}
