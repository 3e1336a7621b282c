package watcher_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// The size of the heap benchmark's store: 100,000 keys of 100-byte values.
const (
	benchKeys     = 100_000
	benchValueLen = 100
)

// memStats returns the memory statistics after a full collection.
func memStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// BenchmarkCacheHeap reads 100,000 keys of 100-byte values on an embedded
// etcd through one watcher transaction, in batches of 1,000 Gets, and
// reports the heap the cache keeps (after a GC, at the start of the next
// iteration, the loop still running) per key and as a multiple of the raw bytes of the paths and
// values: the target is at most 2x.
//
//	go test -run '^$' -bench BenchmarkCacheHeap -benchtime 3x ./watcher/
func BenchmarkCacheHeap(b *testing.B) {
	e, be := benchEtcd(b)
	cli := e.Client(b)
	ctx := context.Background()
	value := strings.Repeat("v", benchValueLen)
	raw := 0
	paths := make([]string, benchKeys)
	ops := make([]clientv3.Op, 0, 128)
	for i := range paths {
		paths[i] = fmt.Sprintf("/pb/k%06d", i)
		raw += len(paths[i]) + len(value)
		ops = append(ops, clientv3.OpPut(backend.EncodeKey(paths[i]), value))
		if len(ops) == cap(ops) || i == len(paths)-1 {
			if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
				b.Fatal(err)
			}
			ops = ops[:0]
		}
	}
	var heap float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := memStats()
		w := watcher.New(be, watcher.Options{CacheKeys: -1})
		for it, err := range w.Loop(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			if it.N() == 2 {
				// The first iteration's reads are released: what is left
				// is the cache.
				if st := w.Stats(); st.CacheKeys != benchKeys {
					b.Fatalf("the cache holds %d keys, want %d", st.CacheKeys, benchKeys)
				}
				after := memStats()
				heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
				break
			}
			for j := 0; j < len(paths); j += 1000 {
				err := it.Txn(ctx, func(t *txn.Txn) error {
					for _, p := range paths[j : j+1000] {
						if _, _, err := t.Get(p); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			w.Trigger()
		}
		runtime.KeepAlive(w)
	}
	n := float64(b.N)
	b.ReportMetric(heap/n/benchKeys, "heap-B/key")
	b.ReportMetric(heap/n/float64(raw), "heap/raw")
}

// BenchmarkCacheEviction reads 1,000,000 distinct keys (absent ones: the
// store stays empty, so only the cache can grow) on the memory backend
// through a watcher whose cache keeps 10,000, in iterations of 10,000
// Gets, and reports the most keys the cache held and the heap after the
// last iteration against the heap after the second: bounded means both
// stay flat however many keys are read.
//
//	go test -run '^$' -bench BenchmarkCacheEviction -benchtime 1x ./watcher/
func BenchmarkCacheEviction(b *testing.B) {
	const budget, perIter, total = 10_000, 10_000, 1_000_000
	s := openLoopMemory(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		w := watcher.New(s, watcher.Options{CacheKeys: budget})
		var early, late runtime.MemStats
		maxKeys := 0
		read := 0
		for it, err := range w.Loop(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			err := it.Txn(ctx, func(t *txn.Txn) error {
				for j := 0; j < perIter; j++ {
					if _, _, err := t.Get(fmt.Sprintf("/never/%07d", read+j)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			read += perIter
			maxKeys = max(maxKeys, w.Stats().CacheKeys)
			if read == 2*perIter {
				early = memStats()
			}
			if read == total {
				late = memStats()
				break
			}
			w.Trigger()
		}
		b.ReportMetric(float64(maxKeys), "max-cache-keys")
		b.ReportMetric(float64(w.Stats().Evictions), "evictions")
		b.ReportMetric(float64(late.HeapAlloc)/float64(early.HeapAlloc), "heap-late/early")
	}
}
