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
	"google.golang.org/grpc"
)

// The benchmarks compare Run with etcd's own concurrency.NewSTM (serializable
// snapshot isolation, its strictest level) on one embedded etcd server, in
// the same run, alternating (txn, stm, then stm#01, txn#01, ...) and log the
// per-round ratio. Run them with:
//
//	go test -run '^$' -bench Contention -benchtime 2000x -v ./txn/
//	go test -run '^$' -bench Watcher -benchtime 2000x -v ./txn/
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
// raw client on it whose requests sc counts.
func benchEtcd(b *testing.B) (be backend.Backend, cli *clientv3.Client, sc *stmCounter) {
	e := sdptest.NewEtcd(b)
	sc = &stmCounter{}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   e.Endpoints(),
		DialTimeout: 10 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(sc.intercept)},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cli.Close() })
	return openEtcd(b, e), cli, sc
}

// stmCounter counts STM transactions, their attempts (calls of the apply
// function) and the requests the client sends: the counters txn.Run's side
// reports, for STM.
type stmCounter struct{ txns, attempts, trips atomic.Int64 }

func (c *stmCounter) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	c.trips.Add(1)
	return invoker(ctx, method, req, reply, cc, opts...)
}

// run runs apply in an STM transaction at serializable snapshot isolation,
// prefetching the keys of prefetch, counting it.
func (c *stmCounter) run(cli *clientv3.Client, apply func(concurrency.STM) error, prefetch ...string) error {
	c.txns.Add(1)
	opts := []concurrency.STMOption{concurrency.WithIsolation(concurrency.SerializableSnapshot)}
	if len(prefetch) > 0 {
		opts = append(opts, concurrency.WithPrefetch(prefetch...))
	}
	_, err := concurrency.NewSTM(cli, func(s concurrency.STM) error {
		c.attempts.Add(1)
		return apply(s)
	}, opts...)
	return err
}

// reset zeroes the counters.
func (c *stmCounter) reset() {
	c.txns.Store(0)
	c.attempts.Store(0)
	c.trips.Store(0)
}

func (c *stmCounter) report(b *testing.B) {
	if n := c.txns.Load(); n > 0 {
		b.ReportMetric(float64(c.attempts.Load()-n)/float64(n), "conflicts/txn")
		b.ReportMetric(float64(c.trips.Load())/float64(n), "requests/txn")
	}
}

// parallel runs op b.N times over workers goroutines and reports committed
// txn/s, the p50 and p99 latency of op, and min/max: the fewest ops done by
// a worker over the most.
func parallel(b *testing.B, workers int, op func(r *rand.Rand) error) float64 {
	b.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var perWorker []int // ops done by each worker
	var firstErr error
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
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

// twoKeys picks two distinct keys out of n.
func twoKeys(r *rand.Rand, n int) (int, int) {
	i := r.IntN(n)
	j := r.IntN(n - 1)
	if j >= i {
		j++
	}
	return i, j
}

func incr(s string) string {
	n, _ := strconv.Atoi(s)
	return strconv.Itoa(n + 1)
}

// warmUp runs op n times over workers goroutines, unmeasured: the first
// thousands of requests on a fresh server are markedly slower, which would
// favour whichever variant runs second.
func warmUp(b *testing.B, workers, n int, op func(r *rand.Rand) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
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
	_ backend.MultiGetter  = (*tripCounter)(nil)
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

func (w *tripCounter) GetMany(ctx context.Context, paths []string, rev int64) ([]backend.KeyValue, int64, error) {
	w.c.trips.Add(1)
	return w.Backend.(backend.MultiGetter).GetMany(ctx, paths, rev)
}

func (w *tripCounter) Unwrap() backend.Backend { return w.Backend }

func (w *tripCounter) MaxTxnOps() int { return w.Backend.(backend.Limiter).MaxTxnOps() }

// BenchmarkLowContention: 32 workers, each transaction increments 2 random
// keys out of 1,000.
func BenchmarkLowContention(b *testing.B) { readModifyWrite(b, benchWorkers, benchKeys, viaRun) }

// BenchmarkMediumContention: 8 workers, each transaction increments 2
// random keys out of 10.
func BenchmarkMediumContention(b *testing.B) { readModifyWrite(b, 8, 10, viaRun) }

// BenchmarkLowContentionPrefetch is BenchmarkLowContention with both sides
// told the two keys first: txn.WithPrefetch and STM's WithPrefetch.
func BenchmarkLowContentionPrefetch(b *testing.B) {
	readModifyWrite(b, benchWorkers, benchKeys, viaRunPrefetch)
}

// txnSide says how readModifyWrite's txn side runs its transactions.
type txnSide int

const (
	viaRun         txnSide = iota // txn.Run
	viaRunPrefetch                // txn.Run with WithPrefetch of the two keys (and STM's WithPrefetch)
	viaWatcher                    // Iteration.Txn of one running watcher loop (bench_watcher_test.go)
)

// readModifyWrite compares txn transactions with STM, workers each
// incrementing 2 random keys out of keys, and checks that the keys' sum
// counts every commit.
func readModifyWrite(b *testing.B, workers, keys int, how txnSide) {
	be, cli, sc := benchEtcd(b)
	ctx := context.Background()
	for i := range keys {
		if _, err := be.Create(ctx, benchKey("/txn", i), "0", backend.NoLease); err != nil {
			b.Fatal(err)
		}
		if _, err := cli.Put(ctx, benchKey("stm", i), "0"); err != nil {
			b.Fatal(err)
		}
	}
	var c counted
	tb := &tripCounter{Backend: be, c: &c}
	run := func(fn func(*txn.Txn) error, opts ...txn.Option) error { return txn.Run(ctx, tb, fn, opts...) }
	if how == viaWatcher {
		run = watcherTxns(b, tb)
	}
	prefetch := how == viaRunPrefetch
	txnOp := func(r *rand.Rand) error {
		ki, kj := pickTwo(r, "/txn", keys)
		return c.stats(func(opts ...txn.Option) error {
			if prefetch {
				opts = append(opts, txn.WithPrefetch(ki, kj))
			}
			return run(func(t *txn.Txn) error { return incrTwo(t, ki, kj) }, opts...)
		})
	}
	stmOp := func(r *rand.Rand) error {
		ki, kj := pickTwo(r, "stm", keys)
		var pre []string
		if prefetch {
			pre = []string{ki, kj}
		}
		return sc.run(cli, func(s concurrency.STM) error {
			vi, vj := s.Get(ki), s.Get(kj)
			s.Put(ki, incr(vi))
			s.Put(kj, incr(vj))
			return nil
		}, pre...)
	}
	warmUp(b, workers, 3000, txnOp)
	warmUp(b, workers, 3000, stmOp)
	alternate(b, side{"txn", func(b *testing.B) float64 {
		c = counted{}
		defer c.report(b)
		return exactSum(b, func() (int, error) { return sumTxn(ctx, be, "/txn", keys) }, workers, 2, txnOp)
	}}, side{"stm", func(b *testing.B) float64 {
		sc.reset()
		defer sc.report(b)
		return exactSum(b, func() (int, error) { return sumSTM(ctx, cli, "stm", keys) }, workers, 2, stmOp)
	}})
}

// pickTwo returns two distinct keys under prefix out of n.
func pickTwo(r *rand.Rand, prefix string, n int) (string, string) {
	i, j := twoKeys(r, n)
	return benchKey(prefix, i), benchKey(prefix, j)
}

// incrTwo increments the counters at ki and kj in t.
func incrTwo(t *txn.Txn, ki, kj string) error {
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
}

// exactSum runs op b.N times over workers goroutines, as parallel does, and
// fails unless the sum that sum reads grew by per for each op: every
// commit counted once, none lost.
func exactSum(b *testing.B, sum func() (int, error), workers, per int, op func(*rand.Rand) error) float64 {
	b.Helper()
	before, err := sum()
	if err != nil {
		b.Fatal(err)
	}
	rate := parallel(b, workers, op)
	after, err := sum()
	if err != nil {
		b.Fatal(err)
	}
	if after-before != per*b.N {
		b.Fatalf("the counters went from %d to %d after %d transactions adding %d each", before, after, b.N, per)
	}
	return rate
}

// sumTxn adds up the counters of keys 0 to n-1 under prefix in be.
func sumTxn(ctx context.Context, be backend.Backend, prefix string, n int) (int, error) {
	res, err := be.List(ctx, prefix+"/", backend.ListOptions{WithValues: true})
	if err != nil {
		return 0, err
	}
	if len(res.KVs) != n {
		return 0, fmt.Errorf("%d counters under %s, want %d", len(res.KVs), prefix, n)
	}
	total := 0
	for _, kv := range res.KVs {
		v, _ := strconv.Atoi(kv.Value)
		total += v
	}
	return total, nil
}

// sumSTM adds up the counters of keys 0 to n-1 under prefix through cli.
func sumSTM(ctx context.Context, cli *clientv3.Client, prefix string, n int) (int, error) {
	resp, err := cli.Get(ctx, prefix+"/", clientv3.WithPrefix())
	if err != nil {
		return 0, err
	}
	if len(resp.Kvs) != n {
		return 0, fmt.Errorf("%d counters under %s, want %d", len(resp.Kvs), prefix, n)
	}
	total := 0
	for _, kv := range resp.Kvs {
		v, _ := strconv.Atoi(string(kv.Value))
		total += v
	}
	return total, nil
}

// BenchmarkHighContention: 32 workers increment one hot key. It reports
// committed txn/s and p99 latency of a whole Run (retries included), and
// checks that the counter counts every commit.
func BenchmarkHighContention(b *testing.B) {
	be, cli, sc := benchEtcd(b)
	ctx := context.Background()
	hotTxn, hotSTM := benchKey("/hot", 0), benchKey("hot", 0)
	if _, err := be.Create(ctx, hotTxn, "0", backend.NoLease); err != nil {
		b.Fatal(err)
	}
	if _, err := cli.Put(ctx, hotSTM, "0"); err != nil {
		b.Fatal(err)
	}
	var c counted
	tb := &tripCounter{Backend: be, c: &c}
	txnOp := func(*rand.Rand) error {
		return c.stats(func(opts ...txn.Option) error {
			return txn.Run(ctx, tb, func(t *txn.Txn) error {
				v, _, err := t.Get(hotTxn)
				if err != nil {
					return err
				}
				return t.Put(hotTxn, incr(v))
			}, opts...)
		})
	}
	stmOp := func(*rand.Rand) error {
		return sc.run(cli, func(s concurrency.STM) error {
			s.Put(hotSTM, incr(s.Get(hotSTM)))
			return nil
		})
	}
	warmUp(b, benchWorkers, 2000, txnOp)
	warmUp(b, benchWorkers, 2000, stmOp)
	alternate(b, side{"txn", func(b *testing.B) float64 {
		c = counted{}
		defer c.report(b)
		return exactSum(b, func() (int, error) { return sumTxn(ctx, be, "/hot", 1) }, benchWorkers, 1, txnOp)
	}}, side{"stm", func(b *testing.B) float64 {
		return exactSum(b, func() (int, error) { return sumSTM(ctx, cli, "hot", 1) }, benchWorkers, 1, stmOp)
	}})
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
			i, j := twoKeys(r, benchKeys)
			ki, kj := keys[i], keys[j]
			err := txn.Run(ctx, be, func(t *txn.Txn) error { return incrTwo(t, ki, kj) })
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
			i, j := twoKeys(r, benchKeys)
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
			i, j := twoKeys(r, benchKeys)
			ki, kj := keys[i], keys[j]
			mu.Lock()
			m[ki] = incr(m[ki])
			m[kj] = incr(m[kj])
			mu.Unlock()
		}
	})
}
