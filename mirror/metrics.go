package mirror

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sdpconfig/sdpconfig/internal/telemetry"
)

// metrics are a Mirror's series, labelled with its prefix; nil (no
// MirrorOptions.Registerer) counts nothing.
type metrics struct {
	revision, lag      prometheus.Gauge
	events             prometheus.Counter
	refreshes, relists prometheus.Counter
	writes             prometheus.Observer
	storeRev           int64 // only Run's goroutine uses it
}

func newMetrics(reg prometheus.Registerer, prefix string) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	r := telemetry.Registry{Reg: reg}
	l := prometheus.Labels{"prefix": prefix}
	m := &metrics{
		revision: r.GaugeVec("sdpconfig_mirror_revision",
			"Store revision the mirror has applied every change up to.", "prefix").With(l),
		lag: r.GaugeVec("sdpconfig_mirror_revision_lag",
			"Revisions between the newest store revision the mirror has heard of and the one it has applied.", "prefix").With(l),
		events: r.CounterVec("sdpconfig_mirror_events_applied_total",
			"Watch events the mirror has applied (and handed to its Handler).", "prefix").With(l),
		refreshes: r.CounterVec("sdpconfig_mirror_refreshes_total",
			"Refreshes: listings of the prefix reconciled with the mirror's copy (first start, and after each relist).", "prefix").With(l),
		relists: r.CounterVec("sdpconfig_mirror_relists_total",
			"Refreshes forced because the history after the mirror's revision was compacted.", "prefix").With(l),
		writes: r.HistogramVec("sdpconfig_mirror_state_write_duration_seconds",
			"Time to write one batch of changes and the cookie to the state file.", "prefix").With(l),
	}
	return m, r.Err
}

func (m *metrics) applied(events int, rev, storeRev int64) {
	if m == nil {
		return
	}
	m.events.Add(float64(events))
	m.storeRev = max(m.storeRev, storeRev, rev)
	m.revision.Set(float64(rev))
	m.lag.Set(float64(m.storeRev - rev))
}

func (m *metrics) refreshed(relist bool, rev int64) {
	if m == nil {
		return
	}
	m.applied(0, rev, rev)
	m.refreshes.Inc()
	if relist {
		m.relists.Inc()
	}
}

func (m *metrics) wrote(start time.Time) {
	if m == nil {
		return
	}
	m.writes.Observe(time.Since(start).Seconds())
}
