package txn_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gathered returns the family named name that reg gathers.
func gathered(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering: %v", err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return f
		}
	}
	t.Fatalf("no metric %s gathered", name)
	return nil
}

// metric returns the one collector-less value of name, as a Collector
// testutil.ToFloat64 reads.
func metric(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	f := gathered(t, reg, name)
	if len(f.Metric) != 1 {
		t.Fatalf("%s has %d series, want 1", name, len(f.Metric))
	}
	v := f.Metric[0].GetCounter().GetValue() + f.Metric[0].GetGauge().GetValue()
	c := prometheus.NewGauge(prometheus.GaugeOpts{Name: name})
	c.Set(v)
	return c
}

// histogramCount returns the sample count of histogram name.
func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	f := gathered(t, reg, name)
	return f.Metric[0].GetHistogram().GetSampleCount()
}
