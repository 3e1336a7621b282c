package telemetry

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Scope is the instrumentation scope of every tracer the SDK makes.
const Scope = "github.com/sdpconfig/sdpconfig"

// Tracer returns the tracer of tp for the SDK's package pkg, or nil when
// tp is nil: callers test for nil and make no span at all, so that tracing
// that is not configured costs nothing.
func Tracer(tp trace.TracerProvider, pkg string) trace.Tracer {
	if tp == nil {
		return nil
	}
	if _, ok := tp.(noop.TracerProvider); ok {
		return nil
	}
	return tp.Tracer(Scope+"/"+pkg, trace.WithInstrumentationVersion("1"))
}

// Start starts a span named name on tr, or returns ctx and a nil span
// when tr is nil.
func Start(ctx context.Context, tr trace.Tracer, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if tr == nil {
		return ctx, nil
	}
	return tr.Start(ctx, name, opts...)
}

// Discard is a logger that drops every record, the default of every
// package's Logger option.
var Discard = slog.New(slog.DiscardHandler)

// Logger returns l, or Discard when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return Discard
	}
	return l
}
