package txn_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// The benchmarks compare Run with etcd's own concurrency.NewSTM (serializable
// snapshot isolation, its strictest level) on one embedded etcd server, in
// the same run, alternating (txn, stm, then stm#01, txn#01, ...) and log the
// per-round ratio. Run them with:
//
//	go test -run '^$' -bench Contention -benchtime 2000x -v ./txn/
//	go test -run '^$' -bench Memory -benchtime 1s ./txn/

const (
	benchWorkers = 32
	benchKeys    = 1000
	// benchRounds alternates the variants compared on one server, each
	// round with the other first, so that a change of load on the machine
	// during the run affects both alike.
	benchRounds = 10
)

// benchEtcd starts one embedded etcd for a benchmark, with a backend and a
// raw client on it.
func benchEtcd(b *testing.B) (backend.Backend, *clientv3.Client) {
	e := sdptest.NewEtcd(b)
	return openEtcd(b, e), e.Client(b)
}

// parallel runs op b.N times over benchWorkers goroutines and reports
// committed txn/s and the p99 latency of op.
func parallel(b *testing.B, op func(r *rand.Rand) error) float64 {
	b.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var perWorker []int // ops done by each worker
	var firstErr error
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			var mine []time.Duration
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				err := op(r)
				mine = append(mine, time.Since(t0))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			perWorker = append(perWorker, len(mine))
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	slices.Sort(lat)
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "txn/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	if len(perWorker) > 0 && slices.Max(perWorker) > 0 {
		// Fairness: the fewest commits of a worker over the most.
		b.ReportMetric(float64(slices.Min(perWorker))/float64(slices.Max(perWorker)), "min/max")
	}
	return rate
}

// side is one of two variants a benchmark compares: run runs it once as
// a sub-benchmark body and returns its committed txn/s.
type side struct {
	name string
	run  func(b *testing.B) float64
}

// alternate runs x and y benchRounds times, in turn first, on one server,
// and logs the per-round ratio of their throughputs (x over y) as
// min/median/max, with the load average before and after.
func alternate(b *testing.B, x, y side) {
	b.Helper()
	loadBefore := loadAverage()
	ratios := make([]float64, 0, benchRounds)
	for i := range benchRounds {
		var rx, ry float64
		first, second := func() { b.Run(x.name, func(b *testing.B) { rx = x.run(b) }) }, func() { b.Run(y.name, func(b *testing.B) { ry = y.run(b) }) }
		if i%2 == 1 {
			first, second = second, first
		}
		first()
		second()
		if ry > 0 {
			ratios = append(ratios, rx/ry)
		}
	}
	slices.Sort(ratios)
	if len(ratios) > 0 {
		b.Logf("%s/%s txn/s per round over %d rounds: min %.2f, median %.2f, max %.2f (load average %s, then %s)",
			x.name, y.name, len(ratios), ratios[0], ratios[len(ratios)/2], ratios[len(ratios)-1], loadBefore, loadAverage())
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

func benchKey(prefix string, i int) string { return fmt.Sprintf("%s/k%04d", prefix, i) }

// twoKeys picks two distinct keys out of benchKeys.
func twoKeys(r *rand.Rand) (int, int) {
	i := r.IntN(benchKeys)
	j := r.IntN(benchKeys - 1)
	if j >= i {
		j++
	}
	return i, j
}

func incr(s string) string {
	n, _ := strconv.Atoi(s)
	return strconv.Itoa(n + 1)
}

// warmUp runs op n times over benchWorkers goroutines, unmeasured: the
// first thousands of requests on a fresh server are markedly slower, which
// would favour whichever variant runs second.
func warmUp(b *testing.B, n int, op func(r *rand.Rand) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, benchWorkers)
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for next.Add(1) <= int64(n) {
				if errs[w] = op(r); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// counted wraps a txn benchmark op to count its conflicts and the requests
// its transactions send (through a tripCounter).
type counted struct{ txns, conflicts, trips atomic.Int64 }

func (c *counted) stats(run func(opts ...txn.Option) error) error {
	var st txn.Stats
	err := run(txn.WithStats(&st))
	c.txns.Add(1)
	c.conflicts.Add(int64(st.Conflicts))
	return err
}

func (c *counted) report(b *testing.B) {
	if n := c.txns.Load(); n > 0 {
		b.ReportMetric(float64(c.conflicts.Load())/float64(n), "conflicts/txn")
		b.ReportMetric(float64(c.trips.Load())/float64(n), "requests/txn")
	}
}

// tripCounter passes a backend on (with its optional interfaces), counting
// the requests of the transactions into c: reads and commits. STM sends 2
// reads and 1 commit per attempt, and only the commit on a retry.
type tripCounter struct {
	backend.Backend
	c *counted
}

var (
	_ backend.Limiter      = (*tripCounter)(nil)
	_ backend.CommitReader = (*tripCounter)(nil)
)

func (w *tripCounter) Get(ctx context.Context, path string, rev int64) (backend.KeyValue, int64, error) {
	w.c.trips.Add(1)
	return w.Backend.Get(ctx, path, rev)
}

func (w *tripCounter) List(ctx context.Context, prefix string, opts backend.ListOptions) (backend.ListResult, error) {
	w.c.trips.Add(1)
	return w.Backend.List(ctx, prefix, opts)
}

func (w *tripCounter) Commit(ctx context.Context, t backend.Txn) (backend.TxnResult, error) {
	w.c.trips.Add(1)
	return w.Backend.Commit(ctx, t)
}

func (w *tripCounter) CommitRead(ctx context.Context, t backend.Txn, reads []string) (backend.CommitReadResult, error) {
	w.c.trips.Add(1)
	return w.Backend.(backend.CommitReader).CommitRead(ctx, t, reads)
}

func (w *tripCounter) MaxTxnOps() int { return w.Backend.(backend.Limiter).MaxTxnOps() }

// BenchmarkLowContention: 32 workers, each transaction increments 2 random
// keys out of 1,000.
func BenchmarkLowContention(b *testing.B) {
	be, cli := benchEtcd(b)
	ctx := context.Background()
	for i := range benchKeys {
		if _, err := be.Create(ctx, benchKey("/txn", i), "0", backend.NoLease); err != nil {
			b.Fatal(err)
		}
		if _, err := cli.Put(ctx, benchKey("stm", i), "0"); err != nil {
			b.Fatal(err)
		}
	}
	var c counted
	tb := &tripCounter{Backend: be, c: &c}
	txnOp := func(r *rand.Rand) error {
		i, j := twoKeys(r)
		ki, kj := benchKey("/txn", i), benchKey("/txn", j)
		return c.stats(func(opts ...txn.Option) error {
			return txn.Run(ctx, tb, func(t *txn.Txn) error {
				vi, _, err := t.Get(ki)
				if err != nil {
					return err
				}
				vj, _, err := t.Get(kj)
				if err != nil {
					return err
				}
				if err := t.Put(ki, incr(vi)); err != nil {
					return err
				}
				return t.Put(kj, incr(vj))
			}, opts...)
		})
	}
	stmOp := func(r *rand.Rand) error {
		i, j := twoKeys(r)
		ki, kj := benchKey("stm", i), benchKey("stm", j)
		_, err := concurrency.NewSTM(cli, func(s concurrency.STM) error {
			vi, vj := s.Get(ki), s.Get(kj)
			s.Put(ki, incr(vi))
			s.Put(kj, incr(vj))
			return nil
		}, concurrency.WithIsolation(concurrency.SerializableSnapshot))
		return err
	}
	warmUp(b, 3000, txnOp)
	warmUp(b, 3000, stmOp)
	alternate(b, side{"txn", func(b *testing.B) float64 {
		c = counted{}
		defer c.report(b)
		return parallel(b, txnOp)
	}}, side{"stm", func(b *testing.B) float64 { return parallel(b, stmOp) }})
}

// BenchmarkHighContention: 32 workers increment one hot key. It reports
// committed txn/s and p99 latency of a whole Run (retries included), and
// checks that the counter counts every commit.
func BenchmarkHighContention(b *testing.B) {
	be, cli := benchEtcd(b)
	ctx := context.Background()
	var c counted
	tb := &tripCounter{Backend: be, c: &c}
	txnOp := func(*rand.Rand) error {
		return c.stats(func(opts ...txn.Option) error {
			return txn.Run(ctx, tb, func(t *txn.Txn) error {
				v, _, err := t.Get("/txn/hot")
				if err != nil {
					return err
				}
				return t.Put("/txn/hot", incr(v))
			}, opts...)
		})
	}
	txnGet := func() (string, error) {
		kv, _, err := be.Get(ctx, "/txn/hot", 0)
		return kv.Value, err
	}
	stmOp := func(*rand.Rand) error {
		_, err := concurrency.NewSTM(cli, func(s concurrency.STM) error {
			s.Put("stm/hot", incr(s.Get("stm/hot")))
			return nil
		}, concurrency.WithIsolation(concurrency.SerializableSnapshot))
		return err
	}
	stmGet := func() (string, error) {
		resp, err := cli.Get(ctx, "stm/hot")
		if err != nil || len(resp.Kvs) == 0 {
			return "", err
		}
		return string(resp.Kvs[0].Value), nil
	}
	warmUp(b, 2000, txnOp)
	warmUp(b, 2000, stmOp)
	exact := func(b *testing.B, get func() (string, error), op func(*rand.Rand) error) float64 {
		before := hotValue(b, get)
		rate := parallel(b, op)
		if after := hotValue(b, get); after-before != b.N {
			b.Fatalf("counter went from %d to %d after %d increments", before, after, b.N)
		}
		return rate
	}
	alternate(b, side{"txn", func(b *testing.B) float64 {
		c = counted{}
		defer c.report(b)
		return exact(b, txnGet, txnOp)
	}}, side{"stm", func(b *testing.B) float64 { return exact(b, stmGet, stmOp) }})
}

func hotValue(b *testing.B, get func() (string, error)) int {
	b.Helper()
	v, err := get()
	if err != nil {
		b.Fatal(err)
	}
	n, _ := strconv.Atoi(v)
	return n
}

// BenchmarkMemory: one goroutine, a transaction that increments 2 random
// keys out of 1,000 on the memory backend, against the same on a map under a
// mutex.
func BenchmarkMemory(b *testing.B) {
	ctx := context.Background()
	b.Run("txn", func(b *testing.B) {
		be := memory.New()
		defer be.Close()
		keys := make([]string, benchKeys)
		for i := range keys {
			keys[i] = benchKey("/m", i)
			if _, err := be.Create(ctx, keys[i], "0", backend.NoLease); err != nil {
				b.Fatal(err)
			}
		}
		r := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			i, j := twoKeys(r)
			ki, kj := keys[i], keys[j]
			err := txn.Run(ctx, be, func(t *txn.Txn) error {
				vi, _, err := t.Get(ki)
				if err != nil {
					return err
				}
				vj, _, err := t.Get(kj)
				if err != nil {
					return err
				}
				if err := t.Put(ki, incr(vi)); err != nil {
					return err
				}
				return t.Put(kj, incr(vj))
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same commits made by hand on the backend: the floor under "txn".
	b.Run("backend-only", func(b *testing.B) {
		be := memory.New()
		defer be.Close()
		keys := make([]string, benchKeys)
		for i := range keys {
			keys[i] = benchKey("/m", i)
			if _, err := be.Create(ctx, keys[i], "0", backend.NoLease); err != nil {
				b.Fatal(err)
			}
		}
		r := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			i, j := twoKeys(r)
			vi, rev, err := be.Get(ctx, keys[i], 0)
			if err != nil {
				b.Fatal(err)
			}
			vj, _, err := be.Get(ctx, keys[j], rev)
			if err != nil {
				b.Fatal(err)
			}
			res, err := be.Commit(ctx, backend.Txn{
				If: []backend.Compare{
					{Range: backend.Key(keys[i]), Target: backend.ModRevision, Op: backend.Equal, Value: vi.ModRevision},
					{Range: backend.Key(keys[j]), Target: backend.ModRevision, Op: backend.Equal, Value: vj.ModRevision},
				},
				Then: []backend.Op{
					backend.Put(keys[i], incr(vi.Value), backend.NoLease),
					backend.Put(keys[j], incr(vj.Value), backend.NoLease),
				},
			})
			if err != nil || !res.Succeeded {
				b.Fatal(res, err)
			}
		}
	})
	b.Run("mutex-map", func(b *testing.B) {
		var mu sync.Mutex
		m := make(map[string]string, benchKeys)
		keys := make([]string, benchKeys)
		for i := range keys {
			keys[i] = benchKey("/m", i)
			m[keys[i]] = "0"
		}
		r := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			i, j := twoKeys(r)
			ki, kj := keys[i], keys[j]
			mu.Lock()
			m[ki] = incr(m[ki])
			m[kj] = incr(m[kj])
			mu.Unlock()
		}
	})
}
