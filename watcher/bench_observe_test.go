package watcher_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// wakeLoop is a running watcher loop woken by Trigger; each wake runs one
// transaction reading a cached key and reports on ran.
type wakeLoop struct {
	w   *watcher.Watcher
	ran chan struct{}
}

func startWakeLoop(b *testing.B, mem *memory.Backend, opts watcher.Options) *wakeLoop {
	l := &wakeLoop{w: watcher.New(mem, opts), ran: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- l.w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
			err := it.Txn(ctx, func(t *txn.Txn) error { _, _, err := t.Get("/wake"); return err })
			l.ran <- struct{}{}
			return err
		})
	}()
	<-l.ran
	b.Cleanup(func() { cancel(); <-done; l.w.Close() })
	return l
}

// wakes wakes the loop n times, one at a time, and returns wakes/s.
func (l *wakeLoop) wakes(n int) float64 {
	start := time.Now()
	for range n {
		l.w.Trigger()
		<-l.ran
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkWakeObserved compares the wake rate of watcher loops on one
// memory backend without telemetry, with metrics (a registry) and with
// metrics and tracing (an OTel SDK provider, no exporter), each variant
// first in turn over 10 rounds of b.N wakes, and reports each observed
// variant's per-round ratio to the plain one as min/median/max.
//
//	go test -run '^$' -bench BenchmarkWakeObserved -benchtime 20000x ./watcher/
func BenchmarkWakeObserved(b *testing.B) {
	mem := memory.New()
	b.Cleanup(func() { mem.Close() })
	if _, err := mem.Create(context.Background(), "/wake", "1", 0); err != nil {
		b.Fatal(err)
	}
	plain := startWakeLoop(b, mem, watcher.Options{})
	metrics := startWakeLoop(b, mem, watcher.Options{Registerer: prometheus.NewRegistry()})
	tp := sdktrace.NewTracerProvider()
	b.Cleanup(func() { tp.Shutdown(context.Background()) })
	traced := startWakeLoop(b, mem, watcher.Options{Registerer: prometheus.NewRegistry(), TracerProvider: tp})
	loops := []*wakeLoop{plain, metrics, traced}
	names := []string{"none", "metrics", "metrics+tracing"}
	n := max(b.N, 100)
	for _, l := range loops { // warm up
		l.wakes(n / 10)
	}
	load := loadAverage()
	ratios := [2][]float64{}
	b.ResetTimer()
	for round := range 10 {
		rates := make([]float64, len(loops))
		for k := range loops {
			i := (k + round) % len(loops) // each variant first in turn
			rates[i] = loops[i].wakes(n)
		}
		ratios[0] = append(ratios[0], rates[1]/rates[0])
		ratios[1] = append(ratios[1], rates[2]/rates[0])
	}
	b.StopTimer()
	for k, r := range ratios {
		slices.Sort(r)
		b.Logf("%s/none wakes/s per round over 10 rounds: min %.2f, median %.2f, max %.2f (load average %s, then %s)",
			names[k+1], r[0], r[5], r[9], load, loadAverage())
	}
}

// loadAverage returns the 1-minute load average, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
