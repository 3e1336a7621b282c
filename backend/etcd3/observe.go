package etcd3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// metrics are a Backend's Prometheus collectors: registered on
// Config.Registerer, or on none (they then count for no one).
type metrics struct {
	requests      *prometheus.CounterVec   // op, result
	seconds       *prometheus.HistogramVec // op
	retries       *prometheus.CounterVec   // op
	streams       prometheus.Gauge
	events        prometheus.Counter
	progress      prometheus.Counter
	leasesGranted prometheus.Counter
	keepAlives    prometheus.Counter
	leasesLost    prometheus.Counter

	tracer trace.Tracer
	log    *slog.Logger
}

// newMetrics registers the backend's metrics on reg (nil: none).
func newMetrics(cfg Config) (*metrics, error) {
	r := telemetry.Registry{Reg: cfg.Registerer}
	m := &metrics{
		requests:      r.CounterVec("sdpconfig_etcd_requests_total", "Requests sent to etcd, by operation and result (ok, failed: a commit whose compares failed, error).", "op", "result"),
		seconds:       r.HistogramVec("sdpconfig_etcd_request_duration_seconds", "Latency of one etcd request (one attempt), by operation.", "op"),
		retries:       r.CounterVec("sdpconfig_etcd_retries_total", "Requests sent again after a transient error, by operation.", "op"),
		streams:       r.Gauge("sdpconfig_etcd_watch_streams", "Watch streams open."),
		events:        r.Counter("sdpconfig_etcd_watch_events_total", "Events received on watch streams."),
		progress:      r.Counter("sdpconfig_etcd_progress_requests_total", "Progress notifications asked of etcd."),
		leasesGranted: r.Counter("sdpconfig_lease_granted_total", "Leases granted."),
		keepAlives:    r.Counter("sdpconfig_lease_keepalives_total", "Keep-alive responses received for leases."),
		leasesLost:    r.Counter("sdpconfig_lease_lost_total", "Leases that ended while kept alive: expired, or their keep-alives went unanswered."),
		tracer:        telemetry.Tracer(cfg.TracerProvider, "backend/etcd3"),
		log:           telemetry.Logger(cfg.Log),
	}
	if r.Err != nil {
		return nil, r.Err
	}
	return m, nil
}

// request is one etcd request being timed.
type request struct {
	m     *metrics
	op    string
	start time.Time
	span  trace.Span
}

// startRequest starts timing a request of op (and its span, when
// tracing); ctx carries the span.
func (m *metrics) startRequest(ctx context.Context, op string) (context.Context, request) {
	r := request{m: m, op: op, start: time.Now()}
	if m.tracer != nil {
		ctx, r.span = m.tracer.Start(ctx, "sdpconfig.etcd."+op, trace.WithSpanKind(trace.SpanKindClient))
	}
	return ctx, r
}

// end records the request's outcome: err nil is "ok", failed a commit
// whose compares failed.
func (r request) end(err error, failed bool) {
	result := "ok"
	switch {
	case err != nil:
		result = "error"
	case failed:
		result = "failed"
	}
	r.m.requests.WithLabelValues(r.op, result).Inc()
	r.m.seconds.WithLabelValues(r.op).Observe(time.Since(r.start).Seconds())
	if r.span != nil {
		if err != nil {
			r.span.SetStatus(codes.Error, err.Error())
		}
		r.span.SetAttributes(attribute.Bool("sdpconfig.succeeded", err == nil && !failed))
		r.span.End()
	}
}

// leaseLost counts and logs a kept-alive lease that ended on its own.
func (m *metrics) leaseLost(id int64, err error) {
	if errors.Is(err, backend.ErrClosed) {
		return
	}
	m.leasesLost.Inc()
	m.log.Warn("lease lost", "lease", fmt.Sprintf("%016x", id), "error", err)
}
