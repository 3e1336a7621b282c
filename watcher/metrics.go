package watcher

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// reasonLabels are the values of the reason label of
// sdpconfig_watcher_wakes_total, indexed by Reason.
var reasonLabels = [...]string{
	FirstRun:  "first_run",
	Relisted:  "relist",
	Changed:   "change",
	Triggered: "trigger",
	TimedOut:  "timeout",
}

var (
	descWakes = prometheus.NewDesc("sdpconfig_watcher_wakes_total",
		"Iterations of watcher loops, by the reason they ran (first_run, change, trigger, timeout, relist).", []string{"reason"}, nil)
	descRelists = prometheus.NewDesc("sdpconfig_watcher_relists_total",
		"Times a watcher dropped its cache and reloaded it because the history it needed was compacted.", nil, nil)
	descResumes = prometheus.NewDesc("sdpconfig_watcher_stream_resumes_total",
		"Watch streams of watchers reopened after the store cut them.", nil, nil)
	descHits = prometheus.NewDesc("sdpconfig_watcher_cache_hits_total",
		"Reads of watcher transactions served from the cache.", nil, nil)
	descMisses = prometheus.NewDesc("sdpconfig_watcher_cache_misses_total",
		"Reads of watcher transactions that went to the store.", nil, nil)
	descKeys = prometheus.NewDesc("sdpconfig_watcher_cache_keys",
		"Keys held by the caches of running watchers.", nil, nil)
	descBytes = prometheus.NewDesc("sdpconfig_watcher_cache_bytes",
		"Bytes of paths and values held by the caches of running watchers.", nil, nil)
	descLag = prometheus.NewDesc("sdpconfig_watcher_revision_lag",
		"Largest lag, in revisions, of a running watcher's cache behind the newest store revision it has heard of (progress responses, its own commits).", nil, nil)
	descRunning = prometheus.NewDesc("sdpconfig_watcher_loops",
		"Watcher loops running.", nil, nil)
)

// collector exports the counters of every Watcher registered on one
// Registerer, summed (the lag is the largest). It reads them when scraped,
// so the loop itself pays one atomic add per iteration and nothing else.
type collector struct {
	mu      sync.Mutex
	ws      map[*Watcher]struct{}
	retired totals // of the Watchers closed
}

// totals are the counters of collector summed over Watchers.
type totals struct {
	wakes                          [len(reasonLabels)]int64
	relists, resumes, hits, misses int64
}

func (t *totals) add(w *Watcher) {
	for r := range t.wakes {
		t.wakes[r] += w.st.wakes[r].Load()
	}
	t.relists += w.st.relists.Load()
	t.resumes += w.st.resumes.Load()
	t.hits += w.st.hits.Load()
	t.misses += w.st.misses.Load()
}

// register adds w to the collector of reg (made on first use).
func register(reg prometheus.Registerer, w *Watcher) (*collector, error) {
	c, err := telemetry.Register(reg, &collector{ws: map[*Watcher]struct{}{}})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.ws[w] = struct{}{}
	c.mu.Unlock()
	return c, nil
}

// retire folds the counters of the closed w into the collector's, so that
// they stay monotonic, and forgets w.
func (c *collector) retire(w *Watcher) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.ws[w]; ok {
		c.retired.add(w)
		delete(c.ws, w)
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWakes, descRelists, descResumes, descHits, descMisses, descKeys, descBytes, descLag, descRunning} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	t := c.retired
	var keys, bytes, lag, running int64
	for w := range c.ws {
		t.add(w)
		if k, b, l, ok := w.cacheGauges(); ok {
			keys, bytes, lag, running = keys+k, bytes+b, max(lag, l), running+1
		}
	}
	c.mu.Unlock()
	for r, name := range reasonLabels {
		if name != "" {
			ch <- prometheus.MustNewConstMetric(descWakes, prometheus.CounterValue, float64(t.wakes[r]), name)
		}
	}
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(descRelists, t.relists)
	counter(descResumes, t.resumes)
	counter(descHits, t.hits)
	counter(descMisses, t.misses)
	gauge(descKeys, keys)
	gauge(descBytes, bytes)
	gauge(descLag, lag)
	gauge(descRunning, running)
}

// cacheGauges returns the size of the running loop's cache and its lag
// behind the newest store revision heard of; ok is false when no loop
// runs.
func (w *Watcher) cacheGauges() (keys, bytes, lag int64, ok bool) {
	w.mu.Lock()
	r := w.run
	w.mu.Unlock()
	if r == nil {
		return 0, 0, 0, false
	}
	k, b, rev := r.cache.footprint()
	return int64(k), b, max(0, w.st.storeRev.Load()-rev), true
}

// noteStoreRevision records that the store is at rev or later.
func (st *counters) noteStoreRevision(rev int64) {
	for {
		old := st.storeRev.Load()
		if rev <= old || st.storeRev.CompareAndSwap(old, rev) {
			return
		}
	}
}

// iterate runs one iteration's body, in a span when tracing is on.
func (w *Watcher) iterate(ctx context.Context, it *Iteration, each func(context.Context, *Iteration) (bool, error)) (bool, error) {
	if w.tracer == nil {
		return each(ctx, it)
	}
	ctx, span := w.tracer.Start(ctx, "sdpconfig.watcher.iteration", trace.WithAttributes(
		attribute.Int("iteration", it.n), attribute.String("reason", reasonLabels[it.reason])))
	defer span.End()
	more, err := each(ctx, it)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return more, err
}
