package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/ui"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// benchStore is an embedded etcd holding n keys: n/2 entities
// /pb/pb-NNNNNN and a state key below each, behind a console.
func benchStore(b *testing.B, n int) (*config.Config, *clientv3.Client, *httptest.Server) {
	e := sdptest.NewEtcd(b)
	ctx := context.Background()
	c, err := config.Open(ctx, config.Options{Endpoints: e.Endpoints()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	var ops []backend.Op
	flush := func() {
		if _, err := c.Backend().Commit(ctx, backend.Txn{Then: ops}); err != nil {
			b.Fatal(err)
		}
		ops = ops[:0]
	}
	for i := range n / 2 {
		p := fmt.Sprintf("/pb/pb-%06d", i)
		ops = append(ops, backend.Put(p, `{"id": "x"}`, backend.NoLease), backend.Put(p+"/state", `{"status": "OK"}`, backend.NoLease))
		if len(ops) >= 100 {
			flush()
		}
	}
	if len(ops) > 0 {
		flush()
	}
	u, err := ui.New(ui.Options{Config: c})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(u)
	b.Cleanup(func() { u.Close(); srv.Close() })
	return c, e.Client(b), srv
}

func get(b *testing.B, url string) {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s", url, resp.Status)
	}
}

// BenchmarkTree100k opens the first level of a tree of 100,000 keys
// ("/": one child, pb) and its second level (/pb: 50,000 children, the
// first 1,000 shown), and, as the reference, reads the same first 1,000
// keys of /pb with one raw clientv3 range (keys only). Each side goes
// first in turn; it reports ms per open and the per-round ratio to the
// raw read.
//
//	go test -run '^$' -bench BenchmarkTree100k -benchtime 20x ./internal/ui/
func BenchmarkTree100k(b *testing.B) {
	_, cli, srv := benchStore(b, 100_000)
	ctx := context.Background()
	raw := func() {
		if _, err := cli.Get(ctx, "2/pb/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(1000)); err != nil {
			b.Fatal(err)
		}
	}
	timeit := func(f func()) time.Duration {
		start := time.Now()
		for range b.N {
			f()
		}
		return time.Since(start) / time.Duration(b.N)
	}
	first := func() { get(b, srv.URL+"/api/children?path=/") }
	second := func() { get(b, srv.URL+"/api/children?path=/pb") }
	load := loadAvg()
	var firsts, seconds, raws, ratios []float64
	b.ResetTimer()
	for round := range 10 {
		var f, s, r time.Duration
		if round%2 == 0 {
			r, f, s = timeit(raw), timeit(first), timeit(second)
		} else {
			f, s, r = timeit(first), timeit(second), timeit(raw)
		}
		firsts = append(firsts, ms(f))
		seconds = append(seconds, ms(s))
		raws = append(raws, ms(r))
		ratios = append(ratios, float64(s)/float64(r))
	}
	b.StopTimer()
	for _, m := range []struct {
		name string
		v    []float64
	}{{"first-level-ms", firsts}, {"second-level-ms", seconds}, {"raw-range-ms", raws}} {
		slices.Sort(m.v)
		b.ReportMetric(m.v[5], m.name)
	}
	slices.Sort(firsts)
	slices.Sort(seconds)
	slices.Sort(ratios)
	b.Logf("first level ms min/median/max %.2f/%.2f/%.2f; second level (1000 of 50000) ms %.2f/%.2f/%.2f; second/raw range ratio %.1f/%.1f/%.1f (load %s, then %s)",
		firsts[0], firsts[5], firsts[9], seconds[0], seconds[5], seconds[9], ratios[0], ratios[5], ratios[9], load, loadAvg())
}

// BenchmarkEventStream writes b.N keys as fast as one writer can and
// reads them from one /api/events stream, and, as the reference, from a
// raw clientv3 watch of the same keys at the same time; it reports the
// writes/s and how far each reader was behind when the writes ended.
//
//	go test -run '^$' -bench BenchmarkEventStream -benchtime 20000x ./internal/ui/
func BenchmarkEventStream(b *testing.B) {
	c, cli, srv := benchStore(b, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rev, err := c.Backend().Revision(ctx)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := http.Get(fmt.Sprintf("%s/api/events?from=%d", srv.URL, rev))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	last := rev + int64(b.N)
	sseDone := make(chan time.Time, 1)
	go func() {
		buf := make([]byte, 64<<10)
		var tail string
		for {
			n, err := resp.Body.Read(buf)
			tail += string(buf[:n])
			if i := strings.LastIndex(tail, "event: revision\ndata: "); i >= 0 {
				var r int64
				fmt.Sscanf(tail[i+len("event: revision\ndata: "):], "%d", &r)
				if r >= last {
					sseDone <- time.Now()
					return
				}
				tail = tail[i:]
			}
			if err != nil {
				return
			}
		}
	}()
	wch := cli.Watch(ctx, "2/pb/", clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	rawDone := make(chan time.Time, 1)
	go func() {
		for r := range wch {
			for _, ev := range r.Events {
				if ev.Kv.ModRevision >= last {
					rawDone <- time.Now()
					return
				}
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if _, err := c.Backend().Commit(ctx, backend.Txn{Then: []backend.Op{backend.Put(fmt.Sprintf("/pb/k%d", i%100), "v", backend.NoLease)}}); err != nil {
			b.Fatal(err)
		}
	}
	end := time.Now()
	sseAt, rawAt := <-sseDone, <-rawDone
	b.StopTimer()
	b.ReportMetric(float64(b.N)/end.Sub(start).Seconds(), "writes/s")
	b.ReportMetric(max(0, ms(sseAt.Sub(end))), "sse-behind-ms")
	b.ReportMetric(max(0, ms(rawAt.Sub(end))), "raw-watch-behind-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
