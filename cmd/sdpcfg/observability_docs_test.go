package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// namesRecorder is a Registerer that keeps the names of the metrics
// registered on it.
type namesRecorder struct {
	prometheus.Registerer
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *namesRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return r.Registerer.Register(c)
}

// sdkMetricNames registers every metric of the SDK (a Config on etcd, a
// watcher, a Mirror, the four controllers) and returns their names.
func sdkMetricNames(t *testing.T) []string {
	rec := &namesRecorder{Registerer: prometheus.NewRegistry(), names: map[string]bool{}}
	e := sdptest.NewEtcd(t)
	c, err := config.Open(context.Background(), config.Options{Endpoints: e.Endpoints(), Registerer: rec})
	assert.NilError(t, err)
	defer c.Close()
	watcher.New(c.Backend(), watcher.Options{Registerer: rec}).Close()
	_, err = mirror.NewMirror(c.Backend(), "/pb/", nil, mirror.MirrorOptions{Registerer: rec})
	assert.NilError(t, err)
	for _, name := range []string{"topology_agent", "topology_master", "datasync", "netobj"} {
		_, err := telemetry.NewController(name, rec, nil, nil)
		assert.NilError(t, err)
	}
	var names []string
	for n := range rec.names {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TestObservabilityDocsListEveryMetric checks that docs/observability.md
// names every metric the SDK registers (the controllers' as
// sdpconfig_C_...), that the dashboard and the alerts use no other, and,
// with Prometheus' promtool, that the alert rules are valid.
func TestObservabilityDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "observability.md"))
	assert.NilError(t, err)
	dash, err := os.ReadFile(filepath.Join("..", "..", "docs", "grafana-dashboard.json"))
	assert.NilError(t, err)
	names := sdkMetricNames(t)
	assert.Assert(t, len(names) >= 51, "only %d metrics registered: %v", len(names), names)
	known := map[string]bool{}
	ctl := regexp.MustCompile(`^sdpconfig_(topology_agent|topology_master|datasync|netobj)_`)
	for _, n := range names {
		known[n] = true
		listed := ctl.ReplaceAllString(n, "sdpconfig_C_")
		assert.Assert(t, strings.Contains(string(doc), "`"+listed), "docs/observability.md does not list %s", listed)
	}
	used := regexp.MustCompile(`sdpconfig_[a-z_]+`)
	for what, text := range map[string]string{"the dashboard": string(dash), "the alerts": alertRules(t, string(doc))} {
		for _, n := range used.FindAllString(text, -1) {
			base := strings.TrimSuffix(n, "_bucket")
			assert.Assert(t, known[base], "%s uses %s, which the SDK does not export", what, n)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed (Debian's prometheus package has it): alert rules not checked")
		return
	}
	rules := filepath.Join(t.TempDir(), "rules.yml")
	assert.NilError(t, os.WriteFile(rules, []byte(alertRules(t, string(doc))), 0o644))
	out, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput()
	assert.NilError(t, err, string(out))
}

// alertRules returns the YAML block of the doc's Alerts section.
func alertRules(t *testing.T, doc string) string {
	_, rest, ok := strings.Cut(doc, "## Alerts\n\n```yaml\n")
	assert.Assert(t, ok, "docs/observability.md has no alert rules")
	rules, _, _ := strings.Cut(rest, "```")
	return rules
}
