package txn_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
)

// TestObserverCountsAttemptsCommitsAndConflicts runs a transaction that
// conflicts once (another writer gets in between its read and its commit)
// and checks every counter, the histograms' counts, and the spans.
func TestObserverCountsAttemptsCommitsAndConflicts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend.Backend) {
		ctx := context.Background()
		reg := prometheus.NewPedanticRegistry()
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		var logs bytes.Buffer
		ob, err := txn.NewObserver(txn.ObserverOptions{Registerer: reg, TracerProvider: tp,
			Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		assert.NilError(t, err)

		n := 0
		err = txn.Run(ctx, b, func(tx *txn.Txn) error {
			if _, _, err := tx.Get("/pb/x"); err != nil {
				return err
			}
			n++
			if n == 1 { // someone else writes the key read
				if _, err := b.Create(ctx, "/pb/x", "{}", backend.NoLease); err != nil {
					return err
				}
			}
			return tx.Put("/pb/y", `{"n":1}`)
		}, txn.WithObserver(ob), noBackOff())
		assert.NilError(t, err)

		assert.Equal(t, testutil.ToFloat64(metric(t, reg, "sdpconfig_txn_attempts_total")), 2.0)
		assert.Equal(t, testutil.ToFloat64(metric(t, reg, "sdpconfig_txn_commits_total")), 1.0)
		got, err := testutil.GatherAndCount(reg, "sdpconfig_txn_conflicts_total")
		assert.NilError(t, err)
		assert.Equal(t, got, 1)
		assert.NilError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sdpconfig_txn_conflicts_total Attempts that ended in a conflict, by the first path element of the key that conflicted.
# TYPE sdpconfig_txn_conflicts_total counter
sdpconfig_txn_conflicts_total{prefix="/pb"} 1
`), "sdpconfig_txn_conflicts_total"))
		assert.Equal(t, histogramCount(t, reg, "sdpconfig_txn_duration_seconds"), uint64(1))
		assert.Equal(t, histogramCount(t, reg, "sdpconfig_txn_commit_duration_seconds"), uint64(2))
		problems, err := testutil.GatherAndLint(reg)
		assert.NilError(t, err)
		assert.Equal(t, len(problems), 0, "%v", problems)

		spans := rec.Ended()
		names := map[string]int{}
		for _, s := range spans {
			names[s.Name()]++
		}
		assert.DeepEqual(t, names, map[string]int{"sdpconfig.txn": 1, "sdpconfig.txn.attempt": 2, "sdpconfig.txn.commit": 2})
		var root sdktrace.ReadOnlySpan
		for _, s := range spans {
			if s.Name() == "sdpconfig.txn" {
				root = s
			}
		}
		for _, s := range spans {
			if s.Name() == "sdpconfig.txn.attempt" {
				assert.Equal(t, s.Parent().SpanID(), root.SpanContext().SpanID())
			}
		}
		assert.Assert(t, strings.Contains(logs.String(), `"msg":"txn conflict"`), logs.String())
	})
}

// TestObserverCountsGivingUp checks ErrTooManyRetries is counted and
// logged as a warning.
func TestObserverCountsGivingUp(t *testing.T) {
	b := newMemory(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	ob, err := txn.NewObserver(txn.ObserverOptions{Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	assert.NilError(t, err)
	i := 0
	err = txn.Run(ctx, b, func(tx *txn.Txn) error {
		if _, _, err := tx.Get("/a/k"); err != nil {
			return err
		}
		i++
		if _, err := b.Update(ctx, "/a/k", "1"); err != nil && !errors.Is(err, backend.ErrVanished) {
			return err
		}
		if i == 1 {
			if _, err := b.Create(ctx, "/a/k", "0", backend.NoLease); err != nil {
				return err
			}
		}
		return tx.Put("/a/j", "1")
	}, txn.WithObserver(ob), txn.WithMaxAttempts(3), noBackOff())
	assert.Assert(t, errors.Is(err, txn.ErrTooManyRetries), "%v", err)
	assert.Equal(t, testutil.ToFloat64(metric(t, reg, "sdpconfig_txn_too_many_retries_total")), 1.0)
	assert.Equal(t, testutil.ToFloat64(metric(t, reg, "sdpconfig_txn_commits_total")), 0.0)
	assert.Assert(t, strings.Contains(logs.String(), "level=WARN msg=\"txn gave up\" attempts=3"), logs.String())
}

// TestTwoObserversShareARegistry: a second Observer on the same registry
// (another Config of the process) counts into the same series.
func TestTwoObserversShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := txn.NewObserver(txn.ObserverOptions{Registerer: reg})
	assert.NilError(t, err)
	c, err := txn.NewObserver(txn.ObserverOptions{Registerer: reg})
	assert.NilError(t, err)
	b := newMemory(t)
	for _, ob := range []*txn.Observer{a, c, nil} {
		assert.NilError(t, txn.Run(context.Background(), b, func(tx *txn.Txn) error { return tx.Put("/k", "v") }, txn.WithObserver(ob)))
	}
	assert.Equal(t, testutil.ToFloat64(metric(t, reg, "sdpconfig_txn_commits_total")), 2.0)
}

// TestObserverAllocations: an Observer with metrics and no tracing costs
// a transaction at most one allocation (the options of Run, which any
// option costs), and none when no Observer is given.
func TestObserverAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts differ under -race and -cover")
	}
	b := newMemory(t)
	ob, err := txn.NewObserver(txn.ObserverOptions{Registerer: prometheus.NewRegistry()})
	assert.NilError(t, err)
	ctx := context.Background()
	run := func(opts ...txn.Option) float64 {
		return testing.AllocsPerRun(2000, func() {
			err := txn.Run(ctx, b, func(tx *txn.Txn) error {
				if _, _, err := tx.Get("/a/k"); err != nil {
					return err
				}
				return tx.Put("/a/k", "v")
			}, opts...)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	none, metrics, nilObserver := run(), run(txn.WithObserver(ob)), run(txn.WithObserver(nil))
	t.Logf("allocations per transaction: none %.1f, metrics %.1f, nil observer %.1f", none, metrics, nilObserver)
	assert.Assert(t, metrics-none <= 1, "metrics cost %.1f allocations per transaction (none: %.1f)", metrics-none, none)
	assert.Assert(t, nilObserver-none <= 1, "a nil Observer cost %.1f allocations", nilObserver-none)
}
