// Package telemetrytest reads metrics the way Prometheus does: it serves a
// registry over HTTP, parses the text exposition with expfmt, and returns
// the samples by series, for tests of the SDK's instrumentation.
package telemetrytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples are the values scraped, by series: "name" or
// `name{label="value",...}` with labels sorted by name; a histogram or
// summary gives name_count and name_sum.
type Samples map[string]float64

// Scrape serves g on /metrics as promhttp does, GETs it, and parses what
// it served.
func Scrape(t testing.TB, g prometheus.Gatherer) Samples {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()
	return Get(t, srv.URL+"/metrics")
}

// Get GETs url, which must serve the Prometheus text format, and parses
// it.
func Get(t testing.TB, url string) Samples {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v: %s", url, resp.Status, err, body)
	}
	s, err := Parse(string(body))
	if err != nil {
		t.Fatalf("parsing %s: %v\n%s", url, err, body)
	}
	return s
}

// Parse parses a text exposition.
func Parse(text string) (Samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	out := Samples{}
	for name, f := range fams {
		for _, m := range f.Metric {
			key := series(name, m.Label)
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				out[key] = m.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[series(name+"_count", m.Label)] = float64(m.GetHistogram().GetSampleCount())
				out[series(name+"_sum", m.Label)] = m.GetHistogram().GetSampleSum()
			case dto.MetricType_SUMMARY:
				out[series(name+"_count", m.Label)] = float64(m.GetSummary().GetSampleCount())
				out[series(name+"_sum", m.Label)] = m.GetSummary().GetSampleSum()
			}
		}
	}
	return out, nil
}

// series names a series as Samples keys do.
func series(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return name
	}
	parts := make([]string, 0, len(labels))
	for _, l := range labels {
		parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
	}
	slices.Sort(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// Sum returns the sum of every series of the metric name (any labels).
func (s Samples) Sum(name string) float64 {
	total := 0.0
	for k, v := range s {
		if k == name || strings.HasPrefix(k, name+"{") {
			total += v
		}
	}
	return total
}
