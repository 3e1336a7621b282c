package netobj_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/internal/telemetry/telemetrytest"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestControllerMetrics runs a controller whose Config reports to a
// registry, a span recorder and a logger, with one object the driver
// refuses, and checks the reconcile series, the items by state, a span per
// pass and the log of the failed object.
func TestControllerMetrics(t *testing.T) {
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	reg := prometheus.NewRegistry()
	rec := tracetest.NewSpanRecorder()
	var logs syncBuffer
	c := config.New(b, config.Options{
		Registerer:     reg,
		TracerProvider: trace.NewTracerProvider(trace.WithSpanProcessor(rec)),
		Logger:         slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	t.Cleanup(func() { c.Close() })
	d := netobj.NewMemoryDriver(netobj.TypeDummy)
	putDesired(t, c, "host1", br0, netobj.Interface("d0", netobj.TypeDummy))
	ctl := &netobj.Controller{Config: c, Target: "host1", Driver: d, ObserveInterval: time.Hour}
	startController(t, ctl)
	sdptest.WaitFor(t, "two statuses", func() bool { return len(observed(t, c, "host1")) == 2 })
	sdptest.WaitFor(t, "a pass counted with its items", func() bool {
		got := telemetrytest.Scrape(t, reg)
		return got[`sdpconfig_netobj_items{state="error"}`] == 1 && got[`sdpconfig_netobj_items{state="applied"}`] == 1
	})
	got := telemetrytest.Scrape(t, reg)
	assert.Assert(t, got["sdpconfig_netobj_reconcile_total"] >= 1)
	assert.Equal(t, got["sdpconfig_netobj_reconcile_errors_total"], 0.0)
	assert.Equal(t, got["sdpconfig_netobj_reconcile_time_seconds_count"], got["sdpconfig_netobj_reconcile_total"])
	assert.Equal(t, got["sdpconfig_netobj_leader"], 1.0)
	// The controller's transactions go through the Config's observer.
	assert.Assert(t, got["sdpconfig_txn_commits_total"] >= 1)
	assert.Assert(t, got[`sdpconfig_watcher_wakes_total{reason="first_run"}`] == 1)

	passes := 0
	for _, s := range rec.Ended() {
		if s.Name() == "sdpconfig.netobj.reconcile" {
			passes++
		}
	}
	assert.Assert(t, passes >= 1)
	assert.Assert(t, strings.Contains(logs.String(), `"object":"interface/d0"`), logs.String())
}
