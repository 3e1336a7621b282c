package topology

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
)

// fixedClock returns a clock that reads *sec.
func fixedClock(sec *int64) func() time.Time {
	return func() time.Time { return time.Unix(*sec, 0) }
}

func TestPutIdempotentRepush(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		now := int64(100)
		s := NewStore(cfg, fixedClock(&now))
		_, err := s.RecordError(ctx, "a1", "topo-1", "boom", nil)
		assert.NilError(t, err)
		row, err := s.Put(ctx, "a1", "topo-1", "h1", map[string]any{"lans": "1"})
		assert.NilError(t, err)
		assert.DeepEqual(t, row, AppliedRow{TopologyID: "topo-1", AppliedVersionHash: "h1", Hydrated: map[string]any{"lans": "1"}, AppliedAt: 100})
		now = 200
		_, err = s.Put(ctx, "a1", "topo-1", "h2", map[string]any{"lans": "2"})
		assert.NilError(t, err)
		got, ok, err := s.Current(ctx, "a1")
		assert.NilError(t, err)
		assert.Assert(t, ok)
		assert.DeepEqual(t, got, AppliedRow{TopologyID: "topo-1", AppliedVersionHash: "h2", Hydrated: map[string]any{"lans": "2"}, AppliedAt: 200})
	})
}

func TestPutOtherTopologyFails(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		s := NewStore(cfg, nil)
		_, err := s.Put(ctx, "a1", "topo-1", "h1", nil)
		assert.NilError(t, err)
		_, err = s.Put(ctx, "a1", "topo-2", "h2", nil)
		assert.Assert(t, errors.Is(err, ErrAlreadyApplied), "%v", err)
		var ae *AlreadyAppliedError
		assert.Assert(t, errors.As(err, &ae))
		assert.DeepEqual(t, *ae, AlreadyAppliedError{Agent: "a1", Current: "topo-1", Requested: "topo-2"})
		assert.ErrorContains(t, err, `"topo-1"`)
		assert.ErrorContains(t, err, `"topo-2"`)
		_, err = s.RecordError(ctx, "a1", "topo-2", "x", nil)
		assert.Assert(t, errors.Is(err, ErrAlreadyApplied), "%v", err)
		got, _, err := s.Current(ctx, "a1")
		assert.NilError(t, err)
		assert.Equal(t, got.TopologyID, "topo-1")
		assert.Equal(t, got.AppliedVersionHash, "h1")
		assert.Equal(t, got.LastError, "")
	})
}

func TestRecordErrorMarkerRow(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		now := int64(100)
		s := NewStore(cfg, fixedClock(&now))
		// No row, no blob: a marker with {}.
		row, err := s.RecordError(ctx, "a1", "topo-1", "first", nil)
		assert.NilError(t, err)
		want := AppliedRow{TopologyID: "topo-1", Hydrated: map[string]any{}, LastError: "first"}
		assert.DeepEqual(t, row, want)
		got, _, err := s.Current(ctx, "a1")
		assert.NilError(t, err)
		assert.DeepEqual(t, got, want)
		assert.Assert(t, got.IsMarker())
		// Existing row whose blob is {}: error and blob change.
		_, err = s.RecordError(ctx, "a1", "topo-1", "second", map[string]any{"lan": "x"})
		assert.NilError(t, err)
		got, _, _ = s.Current(ctx, "a1")
		assert.DeepEqual(t, got, AppliedRow{TopologyID: "topo-1", Hydrated: map[string]any{"lan": "x"}, LastError: "second"})
		// Blob set: only the error changes.
		_, err = s.RecordError(ctx, "a1", "topo-1", "third", map[string]any{"lan": "y"})
		assert.NilError(t, err)
		got, _, _ = s.Current(ctx, "a1")
		assert.DeepEqual(t, got, AppliedRow{TopologyID: "topo-1", Hydrated: map[string]any{"lan": "x"}, LastError: "third"})
		// On an applied row: hash, blob and applied_at are kept.
		_, err = s.Put(ctx, "a2", "topo-1", "h1", map[string]any{"a": "b"})
		assert.NilError(t, err)
		_, err = s.RecordError(ctx, "a2", "topo-1", strings.Repeat("é", MaxErrorLen), map[string]any{"c": "d"})
		assert.NilError(t, err)
		got, _, _ = s.Current(ctx, "a2")
		assert.Equal(t, got.AppliedVersionHash, "h1")
		assert.Equal(t, got.AppliedAt, int64(100))
		assert.DeepEqual(t, got.Hydrated, map[string]any{"a": "b"})
		assert.Assert(t, len(got.LastError) <= MaxErrorLen && strings.HasSuffix(got.LastError, "…"), "%q", got.LastError)
	})
}

func TestLaterPutReplacesMarker(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		now := int64(100)
		s := NewStore(cfg, fixedClock(&now))
		_, err := s.RecordError(ctx, "a1", "topo-1", "failed", map[string]any{"partial": "yes"})
		assert.NilError(t, err)
		_, err = s.Put(ctx, "a1", "topo-1", "h1", map[string]any{"full": "yes"})
		assert.NilError(t, err)
		got, _, _ := s.Current(ctx, "a1")
		assert.DeepEqual(t, got, AppliedRow{TopologyID: "topo-1", AppliedVersionHash: "h1", Hydrated: map[string]any{"full": "yes"}, AppliedAt: 100})
		assert.Assert(t, !got.IsMarker())
	})
}

func TestClear(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		s := NewStore(cfg, nil)
		cleared, err := s.Clear(ctx, "a1", "topo-1") // missing row
		assert.NilError(t, err)
		assert.Assert(t, !cleared)
		_, err = s.Put(ctx, "a1", "topo-1", "h1", nil)
		assert.NilError(t, err)
		cleared, err = s.Clear(ctx, "a1", "topo-2") // another topology's row
		assert.NilError(t, err)
		assert.Assert(t, !cleared)
		_, ok, _ := s.Current(ctx, "a1")
		assert.Assert(t, ok)
		cleared, err = s.Clear(ctx, "a1", "topo-1")
		assert.NilError(t, err)
		assert.Assert(t, cleared)
		_, ok, _ = s.Current(ctx, "a1")
		assert.Assert(t, !ok)
		// Another topology may be applied now.
		_, err = s.Put(ctx, "a1", "topo-2", "h2", nil)
		assert.NilError(t, err)
	})
}

// TestRacingWriters races writers on one row: the rules hold whatever the
// interleaving.
func TestRacingWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		s := NewStore(cfg, nil)
		const rounds = 10
		for i := range rounds {
			agent := fmt.Sprintf("race-%d", i)
			// Two different topologies race for an empty row: exactly one wins.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for w := range 2 {
				wg.Go(func() {
					_, errs[w] = s.Put(ctx, agent, fmt.Sprintf("topo-%d", w), "h", nil)
				})
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				if err == nil {
					wins++
				} else {
					assert.Assert(t, errors.Is(err, ErrAlreadyApplied), "%v", err)
				}
			}
			assert.Equal(t, wins, 1)
			got, _, err := s.Current(ctx, agent)
			assert.NilError(t, err)
			winner := "topo-0"
			if errs[0] != nil {
				winner = "topo-1"
			}
			assert.Equal(t, got.TopologyID, winner)

			// A put and an error marker race on the same topology: the
			// put's hash always survives (marker-then-put clears the error,
			// put-then-error keeps the hash).
			agent2 := agent + "-b"
			wg.Go(func() { _, errs[0] = s.RecordError(ctx, agent2, "t", "boom", nil) })
			wg.Go(func() { _, errs[1] = s.Put(ctx, agent2, "t", "h1", map[string]any{"k": "v"}) })
			wg.Wait()
			assert.NilError(t, errs[0])
			assert.NilError(t, errs[1])
			got, _, err = s.Current(ctx, agent2)
			assert.NilError(t, err)
			assert.Equal(t, got.AppliedVersionHash, "h1")
			assert.DeepEqual(t, got.Hydrated, map[string]any{"k": "v"})
			assert.Assert(t, got.LastError == "" || got.LastError == "boom")

			// Clear races a put of another topology: either the row is gone
			// and the put won, or the put failed and the row is gone.
			wg.Go(func() { _, errs[0] = s.Clear(ctx, agent2, "t") })
			wg.Go(func() { _, errs[1] = s.Put(ctx, agent2, "u", "h2", nil) })
			wg.Wait()
			assert.NilError(t, errs[0])
			got, ok, err := s.Current(ctx, agent2)
			assert.NilError(t, err)
			if errs[1] == nil {
				assert.Assert(t, ok && got.TopologyID == "u")
			} else {
				assert.Assert(t, errors.Is(errs[1], ErrAlreadyApplied))
				assert.Assert(t, !ok)
			}
		}
	})
}
