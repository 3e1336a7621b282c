package telemetry

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// LatencyBuckets are the upper bounds, in seconds, of every latency
// histogram: 0.5ms to about 16s, doubling.
var LatencyBuckets = prometheus.ExponentialBuckets(0.0005, 2, 16)

// Register registers c on reg and returns the collector to use: c, or the
// one of the same description already registered there (another Backend,
// Watcher or controller of the process on the same registry shares it).
// A nil reg registers nothing and returns c, which then counts for no one.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if old, ok := are.ExistingCollector.(C); ok {
			return old, nil
		}
	}
	return c, fmt.Errorf("registering metrics: %w", err)
}

// Registry registers collectors one after the other and keeps the first
// error, so that a constructor can register all of its metrics and check
// once.
type Registry struct {
	Reg prometheus.Registerer
	Err error
}

// Counter registers a counter named name with help.
func (r *Registry) Counter(name, help string) prometheus.Counter {
	return must(r, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help}))
}

// CounterVec registers a counter vector named name with help and labels.
func (r *Registry) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return must(r, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
}

// Gauge registers a gauge named name with help.
func (r *Registry) Gauge(name, help string) prometheus.Gauge {
	return must(r, prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help}))
}

// GaugeVec registers a gauge vector named name with help and labels.
func (r *Registry) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return must(r, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels))
}

// Histogram registers a latency histogram (LatencyBuckets) named name.
func (r *Registry) Histogram(name, help string) prometheus.Histogram {
	return must(r, prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: LatencyBuckets}))
}

// HistogramVec registers a latency histogram vector named name.
func (r *Registry) HistogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	return must(r, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: LatencyBuckets}, labels))
}

func must[C prometheus.Collector](r *Registry, c C) C {
	got, err := Register(r.Reg, c)
	if err != nil && r.Err == nil {
		r.Err = err
	}
	return got
}
