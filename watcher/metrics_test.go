package watcher_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/internal/telemetry/telemetrytest"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// TestMetricsAndSpansOfALoop runs a loop that wakes once per reason it
// can be made to (first run, change, trigger) and checks what a scrape of
// its registry shows, and the span of each iteration.
func TestMetricsAndSpansOfALoop(t *testing.T) {
	eachLoopStore(t, func(t *testing.T, s loopStore) {
		reg := prometheus.NewRegistry()
		rec := tracetest.NewSpanRecorder()
		tp := trace.NewTracerProvider(trace.WithSpanProcessor(rec))
		mustPut(t, s, "/a", "1")
		w := watcher.New(s, watcher.Options{Registerer: reg, TracerProvider: tp})
		defer w.Close()
		var iterations atomic.Int64
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan error, 1)
		go func() {
			done <- w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
				iterations.Add(1)
				return it.Txn(ctx, func(tx *txn.Txn) error { _, _, err := tx.Get("/a"); return err })
			})
		}()
		sdptest.WaitFor(t, "the first iteration", func() bool { return iterations.Load() == 1 })
		mustPut(t, s, "/a", "2")
		sdptest.WaitFor(t, "an iteration on the change of /a", func() bool { return iterations.Load() == 2 })
		w.Trigger()
		sdptest.WaitFor(t, "an iteration on the trigger", func() bool { return iterations.Load() == 3 })
		rev := mustPut(t, s, "/b", "x")
		sdptest.WaitFor(t, "the cache to reach the store's revision", func() bool { return w.Stats().Revision >= rev })

		got := telemetrytest.Scrape(t, reg)
		for series, want := range map[string]float64{
			`sdpconfig_watcher_wakes_total{reason="first_run"}`: 1,
			`sdpconfig_watcher_wakes_total{reason="change"}`:    1,
			`sdpconfig_watcher_wakes_total{reason="trigger"}`:   1,
			`sdpconfig_watcher_wakes_total{reason="timeout"}`:   0,
			`sdpconfig_watcher_relists_total`:                   0,
			`sdpconfig_watcher_cache_keys`:                      1,
			`sdpconfig_watcher_cache_bytes`:                     float64(len("/a") + len("2")),
			`sdpconfig_watcher_revision_lag`:                    0,
			`sdpconfig_watcher_loops`:                           1,
		} {
			assert.Equal(t, got[series], want, series)
		}
		cancel()
		<-done
		assert.NilError(t, w.Close())

		// The counters of a closed watcher stay; its cache is gone.
		got = telemetrytest.Scrape(t, reg)
		assert.Equal(t, got[`sdpconfig_watcher_wakes_total{reason="change"}`], 1.0)
		assert.Equal(t, got[`sdpconfig_watcher_loops`], 0.0)
		assert.Equal(t, got[`sdpconfig_watcher_cache_keys`], 0.0)

		var reasons []string
		for _, sp := range rec.Ended() {
			if sp.Name() == "sdpconfig.watcher.iteration" {
				for _, a := range sp.Attributes() {
					if a.Key == "reason" {
						reasons = append(reasons, a.Value.AsString())
					}
				}
			}
		}
		assert.DeepEqual(t, reasons, []string{"first_run", "change", "trigger"})
	})
}

// TestTwoWatchersShareARegistry checks that watchers registered on one
// registry add up instead of failing to register.
func TestTwoWatchersShareARegistry(t *testing.T) {
	s := openLoopMemory(t)
	reg := prometheus.NewRegistry()
	for range 2 {
		w := watcher.New(s, watcher.Options{Registerer: reg})
		ctx, cancel := context.WithCancel(testCtx(t))
		err := w.Run(ctx, func(context.Context, *watcher.Iteration) error { cancel(); return nil })
		assert.ErrorIs(t, err, context.Canceled)
		assert.NilError(t, w.Close())
	}
	got := telemetrytest.Scrape(t, reg)
	assert.Equal(t, got[`sdpconfig_watcher_wakes_total{reason="first_run"}`], 2.0)
}
