package etcd3_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/internal/telemetry/telemetrytest"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestMetricsOfRequestsWatchesAndLeases runs each kind of request once and
// checks what a scrape of the registry says, and that a lease revoked
// behind the backend's back is counted lost and logged.
func TestMetricsOfRequestsWatchesAndLeases(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	reg := prometheus.NewPedanticRegistry()
	rec := tracetest.NewSpanRecorder()
	var logs bytes.Buffer
	b := e.Backend(t, etcd3.Config{Registerer: reg, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})

	_, err := b.Create(ctx, "/m/a", "1", backend.NoLease)
	assert.NilError(t, err)
	_, err = b.Create(ctx, "/m/a", "1", backend.NoLease) // fails: exists
	assert.ErrorIs(t, err, backend.ErrCollision)
	_, _, err = b.Get(ctx, "/m/a", 0)
	assert.NilError(t, err)
	_, err = b.List(ctx, "/m", backend.ListOptions{})
	assert.NilError(t, err)
	w, err := b.Watch(ctx, []backend.Range{backend.PrefixAt("/m/", 0)}, 0)
	assert.NilError(t, err)
	_, err = b.Update(ctx, "/m/a", "2")
	assert.NilError(t, err)
	select {
	case <-w.Responses():
	case <-ctx.Done():
		t.Fatal("no watch response")
	}
	assert.NilError(t, w.RequestProgress(ctx))
	s := telemetrytest.Scrape(t, reg)
	assert.Equal(t, s["sdpconfig_etcd_watch_streams"], 1.0)
	assert.Equal(t, s["sdpconfig_etcd_watch_events_total"], 1.0)
	w.Close()

	l, err := b.Lease(ctx, 2*time.Second)
	assert.NilError(t, err)
	_, err = e.Client(t).Revoke(ctx, clientv3.LeaseID(l.ID()))
	assert.NilError(t, err)
	select {
	case <-l.Done():
	case <-ctx.Done():
		t.Fatal("lease still alive after being revoked")
	}

	s = telemetrytest.Scrape(t, reg)
	for series, want := range map[string]float64{
		`sdpconfig_etcd_requests_total{op="txn",result="ok"}`:     2, // create, update
		`sdpconfig_etcd_requests_total{op="txn",result="failed"}`: 1, // create of a key that exists
		`sdpconfig_etcd_requests_total{op="get",result="ok"}`:     1,
		`sdpconfig_etcd_requests_total{op="list",result="ok"}`:    1,
		`sdpconfig_etcd_request_duration_seconds_count{op="txn"}`: 3,
		`sdpconfig_lease_granted_total`:                           1,
		`sdpconfig_lease_lost_total`:                              1,
	} {
		assert.Equal(t, s[series], want, series)
	}
	assert.Assert(t, s["sdpconfig_etcd_progress_requests_total"] >= 1)
	poll(ctx, t, "the watch stream to be counted closed", func() bool {
		return telemetrytest.Scrape(t, reg)["sdpconfig_etcd_watch_streams"] == 0
	})
	assert.Assert(t, bytes.Contains(logs.Bytes(), []byte(`level=WARN msg="lease lost" lease=`)), logs.String())

	names := map[string]bool{}
	for _, sp := range rec.Ended() {
		names[sp.Name()] = true
	}
	for _, n := range []string{"sdpconfig.etcd.txn", "sdpconfig.etcd.get", "sdpconfig.etcd.list", "sdpconfig.etcd.lease_grant"} {
		assert.Assert(t, names[n], "no span %s in %v", n, names)
	}
}

// TestTwoBackendsShareARegistry: a second Backend on the same registry
// reuses its series instead of failing to register.
func TestTwoBackendsShareARegistry(t *testing.T) {
	ctx := testCtx(t)
	e := sdptest.NewEtcd(t)
	reg := prometheus.NewRegistry()
	a := e.Backend(t, etcd3.Config{Registerer: reg})
	c := e.Backend(t, etcd3.Config{Registerer: reg})
	_, err := a.Create(ctx, "/x", "1", backend.NoLease)
	assert.NilError(t, err)
	for _, b := range []*etcd3.Backend{a, c} {
		_, _, err := b.Get(ctx, "/x", 0)
		assert.NilError(t, err)
	}
	assert.Equal(t, telemetrytest.Scrape(t, reg)[`sdpconfig_etcd_requests_total{op="get",result="ok"}`], 2.0)
}
