package mirror_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/internal/telemetry/telemetrytest"
	"github.com/sdpconfig/sdpconfig/mirror"
)

// TestMirrorMetrics follows a few changes with a state file and checks
// the mirror's series: revision, zero lag, events applied, one refresh,
// and the state-file writes.
func TestMirrorMetrics(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *testStore) {
		ctx := context.Background()
		put(t, s, "/pb/a", "1")
		reg := prometheus.NewRegistry()
		rec := newRecorder()
		m, err := mirror.NewMirror(s, "/pb/", rec, mirror.MirrorOptions{
			Registerer: reg, StatePath: filepath.Join(t.TempDir(), "state.db")})
		assert.NilError(t, err)
		stop, _ := run(t, ctx, m)
		waitLines(t, rec, 2)
		put(t, s, "/pb/b", "2")
		put(t, s, "/pb/a", "1b")
		last := put(t, s, "/pb/c", "3")
		assert.NilError(t, m.WaitForRevision(ctx, last))
		assert.NilError(t, stop())

		got := telemetrytest.Scrape(t, reg)
		for series, want := range map[string]float64{
			`sdpconfig_mirror_revision{prefix="/pb/"}`:             float64(last),
			`sdpconfig_mirror_revision_lag{prefix="/pb/"}`:         0,
			`sdpconfig_mirror_events_applied_total{prefix="/pb/"}`: 3,
			`sdpconfig_mirror_refreshes_total{prefix="/pb/"}`:      1,
			`sdpconfig_mirror_relists_total{prefix="/pb/"}`:        0,
		} {
			assert.Equal(t, got[series], want, series)
		}
		// A batch per watch response: etcd may deliver the three changes in one.
		assert.Assert(t, got[`sdpconfig_mirror_state_write_duration_seconds_count{prefix="/pb/"}`] >= 1)
	})
}

// TestMirrorsShareARegistry checks that two mirrors of different prefixes
// register side by side.
func TestMirrorsShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	forEachStore(t, func(t *testing.T, s *testStore) {
		for _, p := range []string{"/a/", "/b/"} {
			_, err := mirror.NewMirror(s, p, nil, mirror.MirrorOptions{Registerer: reg})
			assert.NilError(t, err)
		}
	})
}
