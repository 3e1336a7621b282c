package telemetry

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Controller instruments the passes of one of the SDK's controllers (name
// "topology_agent", "topology_master", "datasync", "netobj"), after
// controller-runtime's metrics: sdpconfig_<name>_reconcile_total,
// _reconcile_errors_total, _reconcile_time_seconds, _items{state} and
// _leader. The zero value, and a nil *Controller, record nothing; Log is
// then Discard.
type Controller struct {
	passes, errors prometheus.Counter
	time           prometheus.Observer
	items          *prometheus.GaugeVec
	leader         prometheus.Gauge
	tracer         trace.Tracer
	span           string
	// Log is the controller's logger (never nil from NewController).
	Log *slog.Logger
}

// NewController registers the metrics of controller name on reg (nil:
// none) and traces its passes on tp (nil: none).
func NewController(name string, reg prometheus.Registerer, tp trace.TracerProvider, log *slog.Logger) (*Controller, error) {
	c := &Controller{Log: Logger(log), tracer: Tracer(tp, name), span: "sdpconfig." + name + ".reconcile"}
	if reg == nil {
		return c, nil
	}
	r := Registry{Reg: reg}
	p := "sdpconfig_" + name + "_"
	c.passes = r.Counter(p+"reconcile_total", "Passes of the "+name+" controller's loop.")
	c.errors = r.Counter(p+"reconcile_errors_total", "Passes of the "+name+" controller's loop that failed.")
	c.time = r.Histogram(p+"reconcile_time_seconds", "Duration of the passes of the "+name+" controller's loop.")
	c.items = r.GaugeVec(p+"items", "Items the "+name+" controller manages, by state at its last pass.", "state")
	c.leader = r.Gauge(p+"leader", "1 while this process is the "+name+" controller's active leader (or runs one without election), else 0.")
	return c, r.Err
}

// Pass starts a pass: it returns the context to run it in (carrying its
// span) and the function that ends it with the pass's error. An error
// after ctx ended is the controller stopping, not a failed pass.
func (c *Controller) Pass(ctx context.Context) (context.Context, func(error)) {
	outer := ctx
	failed := func(err error) bool { return err != nil && outer.Err() == nil }
	if c == nil || (c.passes == nil && c.tracer == nil) {
		return ctx, func(err error) {
			if c != nil && failed(err) {
				c.Log.Warn("controller pass failed", "err", err)
			}
		}
	}
	start := time.Now()
	var span trace.Span
	if c.tracer != nil {
		ctx, span = c.tracer.Start(ctx, c.span)
	}
	return ctx, func(err error) {
		if !failed(err) {
			err = nil
		}
		if c.passes != nil {
			c.passes.Inc()
			c.time.Observe(time.Since(start).Seconds())
			if err != nil {
				c.errors.Inc()
			}
		}
		if err != nil {
			c.Log.Warn("controller pass failed", "err", err)
		}
		if span != nil {
			if err != nil {
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
	}
}

// Items sets the number of items in each state, for the states given.
func (c *Controller) Items(byState map[string]int) {
	if c == nil || c.items == nil {
		return
	}
	for s, n := range byState {
		c.items.WithLabelValues(s).Set(float64(n))
	}
}

// Leader records whether this process leads.
func (c *Controller) Leader(on bool) {
	if c == nil || c.leader == nil {
		return
	}
	if on {
		c.leader.Set(1)
	} else {
		c.leader.Set(0)
	}
}
