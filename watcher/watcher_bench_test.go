package watcher_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// benchEtcd starts one embedded etcd for a benchmark and returns it with
// an etcd3 backend on it, warmed up (the first requests on a fresh server
// are slower).
func benchEtcd(b *testing.B) (*sdptest.Etcd, *etcd3.Backend) {
	e := sdptest.NewEtcd(b)
	be := e.Backend(b, etcd3.Config{})
	for i := 0; i < 2000; i++ {
		mustPut(b, be, "/warmup", strconv.Itoa(i))
	}
	return e, be
}

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// BenchmarkWakeLatency measures, on one embedded etcd, the time from a put
// to the watcher's loop body running with the new value, against the time
// from the same put (a raw clientv3 Put on both sides) to a raw
// clientv3.Watch receiving it. Both are measured in each op, each side
// first every other op, so they see the same load. Reported: p50/p99 of
// each (µs) and the ratio of the p50s per round of b.N/10 ops, as
// min/median/max.
func BenchmarkWakeLatency(b *testing.B) {
	e, be := benchEtcd(b)
	cli := e.Client(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The raw watch.
	wch := cli.Watch(ctx, "/raw")
	// The watcher loop: the body reports when it runs and what it read.
	seen := make(chan string, 1)
	w := watcher.New(be, watcher.Options{})
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
			return it.Txn(ctx, func(t *txn.Txn) error {
				v, _, err := t.Get("/lat")
				if err == nil {
					t.OnCommit(func() { seen <- v })
				}
				return err
			})
		})
	}()
	defer func() { cancel(); <-done }()
	<-seen // the first iteration

	raw := make([]time.Duration, 0, b.N)
	wat := make([]time.Duration, 0, b.N)
	measureRaw := func(v string) {
		start := time.Now()
		if _, err := cli.Put(ctx, "/raw", v); err != nil {
			b.Fatal(err)
		}
		for got := false; !got; {
			resp := <-wch
			for _, ev := range resp.Events {
				got = got || string(ev.Kv.Value) == v
			}
		}
		raw = append(raw, time.Since(start))
	}
	measureWatcher := func(v string) {
		start := time.Now()
		// The same write as the raw side's: a plain put of the key as
		// the backend stores "/lat".
		if _, err := cli.Put(ctx, "1/lat", v); err != nil {
			b.Fatal(err)
		}
		for <-seen != v {
		}
		wat = append(wat, time.Since(start))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := strconv.Itoa(i)
		if i%2 == 0 { // each side first every other op
			measureRaw(v)
			measureWatcher(v)
		} else {
			measureWatcher(v)
			measureRaw(v)
		}
	}
	b.StopTimer()
	// The p50 ratio per round of b.N/10 ops, then over all.
	if b.N >= 10 {
		var ratios []float64
		for r := range 10 {
			lo, hi := r*b.N/10, (r+1)*b.N/10
			w, x := slices.Clone(wat[lo:hi]), slices.Clone(raw[lo:hi])
			slices.Sort(w)
			slices.Sort(x)
			ratios = append(ratios, float64(percentile(w, 50))/float64(percentile(x, 50)))
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[0], "p50-ratio-min")
		b.ReportMetric(ratios[len(ratios)/2], "p50-ratio-median")
		b.ReportMetric(ratios[len(ratios)-1], "p50-ratio-max")
	}
	slices.Sort(raw)
	slices.Sort(wat)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(percentile(wat, 50)), "watcher-p50-µs")
	b.ReportMetric(us(percentile(wat, 99)), "watcher-p99-µs")
	b.ReportMetric(us(percentile(raw, 50)), "raw-p50-µs")
	b.ReportMetric(us(percentile(raw, 99)), "raw-p99-µs")
}

// BenchmarkCachedReads reads 100 watched keys in one transaction: from a
// watcher's cache, and with a plain txn.Run from the same embedded etcd.
func BenchmarkCachedReads(b *testing.B) {
	_, be := benchEtcd(b)
	var kvs []string
	var paths []string
	for i := 0; i < 100; i++ {
		p := fmt.Sprintf("/r/k%03d", i)
		paths = append(paths, p)
		kvs = append(kvs, p, "v")
	}
	mustPutAll(b, be, kvs...)
	read := func(t *txn.Txn) error {
		for _, p := range paths {
			if _, _, err := t.Get(p); err != nil {
				return err
			}
		}
		return nil
	}
	ctx := context.Background()

	b.Run("watcher", func(b *testing.B) {
		w := watcher.New(be, watcher.Options{})
		for it, err := range w.Loop(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			if err := it.Txn(ctx, read); err != nil { // loads the cache
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := it.Txn(ctx, read); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			break
		}
	})
	b.Run("etcd", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := txn.Run(ctx, be, read); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStreams runs a watcher whose every iteration reads 10,000 keys
// (one op: one iteration, woken by Trigger) and reports the backend watch
// streams it opened, counted twice: by a wrapper of the backend that counts
// Watch calls (watch-calls), and by the watcher's Stats (streams).
func BenchmarkStreams(b *testing.B) {
	for _, store := range []string{"memory", "etcd"} {
		b.Run(store, func(b *testing.B) {
			var s backend.Backend
			if store == "etcd" {
				_, s = benchEtcd(b)
			} else {
				s = openLoopMemory(b).Backend
			}
			const n = 10000
			for i := 0; i < n; i += 100 {
				var kvs []string
				for j := i; j < i+100; j++ {
					kvs = append(kvs, fmt.Sprintf("/many/k%05d", j), "0")
				}
				mustPutAll(b, s, kvs...)
			}
			cb := &countingBackend{Backend: s}
			w := watcher.New(cb, watcher.Options{})
			ctx := context.Background()
			read := func(t *txn.Txn) error {
				for i := 0; i < n; i++ {
					if _, _, err := t.Get(fmt.Sprintf("/many/k%05d", i)); err != nil {
						return err
					}
				}
				return nil
			}
			iters := 0
			for it, err := range w.Loop(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				if err := it.Txn(ctx, read); err != nil {
					b.Fatal(err)
				}
				if iters == 0 {
					b.ResetTimer() // the first iteration loads the cache
				}
				if iters == b.N {
					break
				}
				iters++
				w.Trigger()
			}
			b.StopTimer()
			st := w.Stats()
			b.ReportMetric(float64(cb.watches.Load()), "watch-calls")
			b.ReportMetric(float64(st.Streams), "streams")
			b.ReportMetric(float64(st.Hits)/float64(st.Hits+st.Misses), "hit-ratio")
		})
	}
}
