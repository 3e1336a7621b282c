package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/topology"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// metricsAt matches the line a command prints when --metrics-listen
// serves.
var metricsAt = regexp.MustCompile(`metrics at http://([^/]+)/metrics`)

// startObserved starts the binary with --metrics-listen on a free port and
// returns the address its metrics are served at.
func startObserved(t *testing.T, b binary, args ...string) string {
	t.Helper()
	_, out, errOut := b.start(append(args, "--metrics-listen", "127.0.0.1:0", "--log-format", "json")...)
	var addr string
	sdptest.WaitFor(t, fmt.Sprintf("sdpcfg %v to print its metrics address (stderr: %s)", args, errOut), func() bool {
		m := metricsAt.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return addr
}

// TestPrometheusScrapesServerControllerAndSDK runs Debian's Prometheus
// against three real processes' endpoints: sdpcfg server (etcd's
// metrics), sdpcfg topology master (a controller), and this test's own SDK
// client. It pushes desired topologies through the SDK, then checks, in
// what Prometheus scraped, that the SDK's committed transactions are
// exactly the pushes, that its watcher's lag came back to 0, and that the
// master judged every agent drifted (no heartbeat) with one commit each.
func TestPrometheusScrapesServerControllerAndSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts Prometheus")
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("needs Debian's prometheus server (apt-get install prometheus; .ci/run installs it)")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	etcdAddr := freePort(t)
	b := binary{t: t, bin: bin, env: cleanEnv("SDP_CONFIG_ENDPOINTS=" + etcdAddr)}
	serverMetrics := startObserved(t, b, "server", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen", "http://"+etcdAddr, "--listen-peer", "http://"+freePort(t))
	masterMetrics := startObserved(t, b, "topology", "master")

	// This process is the third target: an SDK client whose Config and
	// watcher report to one registry.
	ctx := sdptest.Context(t)
	reg := prometheus.NewRegistry()
	c, err := config.Open(ctx, config.Options{Endpoints: []string{etcdAddr}, Registerer: reg})
	assert.NilError(t, err)
	defer c.Close()
	ep, err := telemetry.Serve("127.0.0.1:0", reg)
	assert.NilError(t, err)
	defer ep.Close()
	w := watcher.New(c.Backend(), watcher.Options{Registerer: reg})
	defer w.Close()
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan error, 1)
	go func() {
		watched <- w.Run(wctx, func(ctx context.Context, it *watcher.Iteration) error {
			return it.Txn(ctx, func(tx *txn.Txn) error {
				_, err := tx.List(topology.DesiredTopologies.Prefix()+"/", txn.ListOptions{})
				return err
			})
		})
	}()
	defer func() { stopWatch(); <-watched }()

	prom := startPrometheus(t, promBin, dir, map[string]string{"server": serverMetrics, "master": masterMetrics, "sdk": ep.Addr()})

	const agents = 5
	for i := range agents {
		_, err := topology.Push(ctx, c, fmt.Sprintf("host-%d", i), "lab", map[string]any{"lans": []any{map[string]any{"name": "lan0"}}})
		assert.NilError(t, err)
	}
	for query, want := range map[string]float64{
		`sum(up)`:                                         3,
		`etcd_server_has_leader{job="server"}`:            1,
		`sdpconfig_txn_commits_total{job="sdk"}`:          agents,
		`sdpconfig_txn_too_many_retries_total{job="sdk"}`: 0,
		`sdpconfig_watcher_revision_lag{job="sdk"}`:       0,
		`sdpconfig_watcher_loops{job="sdk"}`:              1,
		// The watcher reads the desired topologies: the pushes woke it.
		`sdpconfig_watcher_wakes_total{job="sdk",reason="change"} > bool 0`:      1,
		`sdpconfig_watcher_cache_keys{job="sdk"}`:                                agents,
		`sdpconfig_topology_master_items{job="master",state="drifted"}`:          agents,
		`sdpconfig_topology_master_reconcile_errors_total{job="master"}`:         0,
		`sdpconfig_topology_master_leader{job="master"}`:                         1,
		`sdpconfig_etcd_requests_total{job="master",op="txn",result="ok"}`:       agents,
		`sdpconfig_mirror_revision_lag{job="master"}`:                            0,
		`sum(sdpconfig_etcd_request_duration_seconds_count{job="sdk"}) > bool 0`: 1,
	} {
		sdptest.WaitForValueWithin(t, 3*time.Minute, fmt.Sprintf("Prometheus to answer %s with %v", query, want), func() (bool, string) {
			v, ok := promQuery(t, prom, query)
			if !ok {
				return false, "not one sample"
			}
			return v == want, fmt.Sprint(v)
		})
	}
	for _, addr := range []string{serverMetrics, masterMetrics} {
		resp, err := http.Get("http://" + addr + "/readyz")
		assert.NilError(t, err)
		resp.Body.Close()
		assert.Equal(t, resp.StatusCode, http.StatusOK, addr)
	}
}

// startPrometheus starts Prometheus scraping targets (job name → address)
// every 200ms and returns its base URL once it is ready.
func startPrometheus(t *testing.T, promBin, dir string, targets map[string]string) string {
	t.Helper()
	cfg := "global:\n  scrape_interval: 200ms\n  scrape_timeout: 200ms\nscrape_configs:\n"
	for job, addr := range targets {
		cfg += fmt.Sprintf("  - job_name: %s\n    static_configs:\n      - targets: [%q]\n", job, addr)
	}
	file := filepath.Join(dir, "prometheus.yml")
	assert.NilError(t, os.WriteFile(file, []byte(cfg), 0o644))
	addr := freePort(t)
	cmd := exec.Command(promBin, "--config.file="+file, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr, "--log.level=warn")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	assert.NilError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	sdptest.WaitFor(t, "Prometheus to be ready (its output: "+fmt.Sprint(&out)+")", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base
}

// promQuery runs an instant query and returns its single value; ok is
// false when the result is not one sample.
func promQuery(t *testing.T, base, query string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	assert.NilError(t, json.NewDecoder(resp.Body).Decode(&r))
	assert.Equal(t, r.Status, "success", "query %s: %s", query, r.Error)
	if len(r.Data.Result) != 1 {
		return 0, false
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
