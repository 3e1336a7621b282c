package mirror_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

const (
	benchKeys     = 100_000
	benchValueLen = 100
	benchPageSize = mirror.DefaultPageSize
)

// BenchmarkMirrorRefresh compares a RefreshOnly Mirror of 100,000 keys on
// an embedded etcd with the bare minimum that reads the same keys: a raw
// clientv3 range over their stored prefix, paginated with the same page
// size at one revision. Each iteration runs the raw range, the mirror, and
// the mirror with a state file, one after the other, so that the three
// share the machine's load; it reports each one's time and the ratios. It
// also reports the heap the mirror keeps after its refresh (after a GC) as
// a multiple of the raw bytes of the paths and values.
//
//	go test -run '^$' -bench BenchmarkMirrorRefresh -benchtime 3x ./mirror/
func BenchmarkMirrorRefresh(b *testing.B) {
	e := sdptest.NewEtcd(b)
	be := e.Backend(b, etcd3.Config{})
	cli := e.Client(b)
	ctx := context.Background()

	// 128 puts per txn: etcd's --max-txn-ops default.
	value := strings.Repeat("v", benchValueLen)
	raw := 0
	ops := make([]clientv3.Op, 0, 128)
	for i := 0; i < benchKeys; i++ {
		path := fmt.Sprintf("/pb/k%06d", i)
		raw += len(path) + len(value)
		ops = append(ops, clientv3.OpPut(backend.EncodeKey(path), value))
		if len(ops) == cap(ops) || i == benchKeys-1 {
			if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
				b.Fatal(err)
			}
			ops = ops[:0]
		}
	}

	var rawT, mirrorT, stateT time.Duration
	var heapInuse, heapAlloc float64
	refresh := func(statePath string) time.Duration {
		before := memStats()
		start := time.Now()
		m, err := mirror.NewMirror(be, "/pb/", nil, mirror.MirrorOptions{Mode: mirror.RefreshOnly, PageSize: benchPageSize, StatePath: statePath})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Run(ctx); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if n := m.View().Len(); n != benchKeys {
			b.Fatalf("mirror holds %d keys, want %d", n, benchKeys)
		}
		if statePath == "" {
			after := memStats()
			heapInuse += float64(after.HeapInuse) - float64(before.HeapInuse)
			heapAlloc += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		}
		runtime.KeepAlive(m)
		return d
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if n := rawRange(b, cli, backend.EncodeKey("/pb/")); n != benchKeys {
			b.Fatalf("raw range read %d keys, want %d", n, benchKeys)
		}
		rawT += time.Since(start)
		mirrorT += refresh("")
		stateT += refresh(filepath.Join(b.TempDir(), "mirror.db"))
	}
	n := float64(b.N)
	b.ReportMetric(float64(rawT.Milliseconds())/n, "raw-ms")
	b.ReportMetric(float64(mirrorT.Milliseconds())/n, "mirror-ms")
	b.ReportMetric(float64(stateT.Milliseconds())/n, "statefile-ms")
	b.ReportMetric(float64(mirrorT)/float64(rawT), "mirror/raw")
	b.ReportMetric(float64(stateT)/float64(rawT), "statefile/raw")
	b.ReportMetric(heapInuse/n/float64(raw), "heapinuse/raw")
	b.ReportMetric(heapAlloc/n/float64(raw), "heapalloc/raw")
}

// rawRange reads every key under the stored prefix key with paginated
// ranges at the revision of the first page, and returns how many it read.
func rawRange(b *testing.B, cli *clientv3.Client, prefix string) int {
	ctx := context.Background()
	end := clientv3.GetPrefixRangeEnd(prefix)
	start := prefix
	var rev int64
	n := 0
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(benchPageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := cli.Get(ctx, start, opts...)
		if err != nil {
			b.Fatal(err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		n += len(resp.Kvs)
		if !resp.More || len(resp.Kvs) == 0 {
			return n
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// memStats returns the memory statistics after a full collection.
func memStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}
