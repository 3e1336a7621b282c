package txn_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/txn"
)

// BenchmarkObserverOverhead measures what an Observer costs a
// transaction: a read-modify-write of one key on the memory backend (the
// cheapest transaction there is, so the overhead shows the most), with
// metrics on and tracing off against no Observer, each side first every
// other round, and the per-round throughput ratio logged. Run it with:
//
//	go test -run '^$' -bench BenchmarkObserverOverhead -benchtime 3000x ./txn/
func BenchmarkObserverOverhead(b *testing.B) {
	ob, err := txn.NewObserver(txn.ObserverOptions{Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("memory", func(b *testing.B) {
		alternate(b, side{"metrics", func(b *testing.B) float64 { return rmwLoop(b, nil, txn.WithObserver(ob)) }},
			side{"none", func(b *testing.B) float64 { return rmwLoop(b, nil) }})
	})
	b.Run("etcd", func(b *testing.B) {
		be, _, _ := benchEtcd(b)
		alternate(b, side{"metrics", func(b *testing.B) float64 { return rmwLoop(b, be, txn.WithObserver(ob)) }},
			side{"none", func(b *testing.B) float64 { return rmwLoop(b, be) }})
	})
}

// BenchmarkObserverAllocs reports allocs/op of one transaction with no
// Observer, an Observer with metrics, and one with metrics and tracing
// (spans sampled, not exported). Run it with:
//
//	go test -run '^$' -bench BenchmarkObserverAllocs -benchtime 20000x ./txn/
func BenchmarkObserverAllocs(b *testing.B) {
	metrics, err := txn.NewObserver(txn.ObserverOptions{Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer tp.Shutdown(context.Background())
	traced, err := txn.NewObserver(txn.ObserverOptions{Registerer: prometheus.NewRegistry(), TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("none", func(b *testing.B) { rmwLoop(b, nil) })
	b.Run("metrics", func(b *testing.B) { rmwLoop(b, nil, txn.WithObserver(metrics)) })
	b.Run("metrics+tracing", func(b *testing.B) { rmwLoop(b, nil, txn.WithObserver(traced)) })
}

// rmwLoop runs b.N read-modify-writes of one key on be, or on a new
// memory backend compacted every 1,000 transactions (so that neither side
// runs on a longer history), and returns txn/s.
func rmwLoop(b *testing.B, be backend.Backend, opts ...txn.Option) float64 {
	ctx := context.Background()
	compact := be == nil
	if compact {
		mem := memory.New()
		defer mem.Close()
		be = mem
	}
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if compact && i%1000 == 999 {
			if rev, err := be.Revision(ctx); err == nil {
				_ = be.Compact(ctx, rev)
			}
		}
		err := txn.Run(ctx, be, func(t *txn.Txn) error {
			v, _, err := t.Get("/bench/counter")
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(v)
			return t.Put("/bench/counter", strconv.Itoa(n+1))
		}, opts...)
		if err != nil {
			b.Fatal(err)
		}
	}
	rate := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(rate, "txn/s")
	return rate
}
