package topology

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// startAgent runs a new agent in the background until the test ends (or
// the returned stop is called, which waits for Run and closes the agent).
func startAgent(t *testing.T, cfg *config.Config, name string, ap Applier, cachePath string) (*Agent, func()) {
	t.Helper()
	a, err := NewAgent(cfg, AgentOptions{Agent: name, Applier: ap, CachePath: cachePath, LeaseTTL: time.Second, ObserveInterval: 100 * time.Millisecond, RetryInterval: 20 * time.Millisecond})
	assert.NilError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			err := <-done
			assert.Assert(t, errors.Is(err, context.Canceled), "agent %s: %v", name, err)
			assert.NilError(t, a.Close())
		})
	}
	t.Cleanup(stop)
	return a, stop
}

// heartbeatOf returns the agent's heartbeat and its lease, false if absent.
func heartbeatOf(t *testing.T, b backend.Backend, cfg *config.Config, agent string) (Heartbeat, backend.LeaseID, bool) {
	t.Helper()
	hb, ok := get(t, cfg, Heartbeats, agent)
	if !ok {
		return Heartbeat{}, 0, false
	}
	kv, _, err := b.Get(context.Background(), Heartbeats.Path(agent), 0)
	if err != nil {
		return Heartbeat{}, 0, false
	}
	return hb, kv.Lease, true
}

var specA = map[string]any{"lans": []any{map[string]any{"name": "lan-a", "cidr": "10.0.0.0/24"}}, "updated_at": "now"}

func TestAgentNoAutoRestoreThenApplies(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		d1, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		ap := NewMemoryApplier()
		cache := filepath.Join(t.TempDir(), "a1.db")
		a, stop := startAgent(t, cfg, "a1", ap, cache)
		// First pass: reports only.
		sdptest.WaitFor(t, "first heartbeat", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && hb.Generation == d1.Generation
		})
		assert.Equal(t, ap.Applies(), 0)
		hb, _, _ := heartbeatOf(t, b, cfg, "a1")
		assert.DeepEqual(t, hb, Heartbeat{Generation: 1, Observed: map[string]any{"topologies": []any{}}})
		_, ok := get(t, cfg, AppliedRows, "a1")
		assert.Assert(t, !ok)

		// A generation bump applies.
		d2, err := Resync(ctx, cfg, "a1")
		assert.NilError(t, err)
		sdptest.WaitFor(t, "applied heartbeat", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && hb.AppliedHash == d2.Hash && hb.Generation == d2.Generation
		})
		assert.Equal(t, ap.Applies(), 1)
		assert.DeepEqual(t, ap.Running(), []string{"topo-1"})
		row, ok := get(t, cfg, AppliedRows, "a1")
		assert.Assert(t, ok)
		assert.Equal(t, row.TopologyID, "topo-1")
		assert.Equal(t, row.AppliedVersionHash, d2.Hash)
		assert.Equal(t, row.LastError, "")
		assert.Assert(t, row.AppliedAt > 0)

		// A new topology id: teardown of the old one, then apply.
		spec2 := map[string]any{"lans": []any{"lan-b"}}
		d3, err := Push(ctx, cfg, "a1", "topo-2", spec2)
		assert.NilError(t, err)
		sdptest.WaitFor(t, "topo-2 applied", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && hb.TopologyID == "topo-2" && hb.AppliedHash == d3.Hash
		})
		assert.DeepEqual(t, ap.Running(), []string{"topo-2"})
		sdptest.WaitFor(t, "cache follows", func() bool {
			r, ok, err := a.Cached()
			return err == nil && ok && r.TopologyID == "topo-2"
		})
		stop()

		// Offline: the cache file answers without the store.
		c, err := OpenCache(cache)
		assert.NilError(t, err)
		defer c.Close()
		r, ok, err := c.Get()
		assert.NilError(t, err)
		assert.Assert(t, ok)
		assert.Equal(t, r.TopologyID, "topo-2")
		assert.Equal(t, r.AppliedVersionHash, d3.Hash)
	})
}

func TestAgentRefusesHashMismatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		ap := NewMemoryApplier()
		startAgent(t, cfg, "a1", ap, "")
		sdptest.WaitFor(t, "first heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		bad := Desired{TopologyID: "topo-1", Spec: specA, Hash: "0000", Generation: 1}
		assert.NilError(t, cfg.Txn(ctx, func(tx *config.Txn) error { return DesiredTopologies.CreateOrUpdate(tx, "a1", bad) }))
		sdptest.WaitFor(t, "error marker", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && hb.Generation == 1 && hb.LastError != ""
		})
		assert.Equal(t, ap.Applies(), 0)
		row, ok := get(t, cfg, AppliedRows, "a1")
		assert.Assert(t, ok)
		assert.Assert(t, row.IsMarker())
		assert.Equal(t, row.AppliedAt, int64(0))
		assert.Assert(t, strings.Contains(row.LastError, ErrHashMismatch.Error()), "%q", row.LastError)
		assert.Assert(t, strings.Contains(row.LastError, `"0000"`), "%q", row.LastError)
	})
}

func TestAgentRecordsApplyErrorsAndKeepsRunning(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		ap := NewMemoryApplier()
		ap.FailApply(errors.New("bridge failed: " + strings.Repeat("x", 2*MaxErrorLen)))
		startAgent(t, cfg, "a1", ap, "")
		sdptest.WaitFor(t, "first heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		d1, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		sdptest.WaitFor(t, "marker reported", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && hb.Generation == d1.Generation && hb.TopologyID == "topo-1"
		})
		hb, _, _ := heartbeatOf(t, b, cfg, "a1")
		assert.Equal(t, hb.AppliedHash, "")
		assert.Assert(t, strings.HasPrefix(hb.LastError, "apply: bridge failed"), "%q", hb.LastError)
		assert.Assert(t, len(hb.LastError) <= MaxErrorLen)
		assert.Equal(t, Check(d1, &hb), ReasonMarker)

		// The loop lives on: the next push replaces the marker.
		d2, err := Resync(ctx, cfg, "a1")
		assert.NilError(t, err)
		sdptest.WaitFor(t, "applied", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && hb.AppliedHash == d2.Hash && hb.LastError == ""
		})
		// An observe error is reported in the heartbeat.
		ap.SetObserveError(errors.New("docker unreachable"))
		sdptest.WaitFor(t, "observed error", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && hb.Observed["error"] == "docker unreachable"
		})
		hb, _, _ = heartbeatOf(t, b, cfg, "a1")
		assert.Equal(t, Check(d2, &hb), ReasonObservedError)
	})
}

func TestAgentRenewsLostLease(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		ap := NewMemoryApplier()
		a, _ := startAgent(t, cfg, "a1", ap, "")
		sdptest.WaitFor(t, "first heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		_, lease1, _ := heartbeatOf(t, b, cfg, "a1")
		a.mu.Lock()
		l := a.lease
		a.mu.Unlock()
		assert.NilError(t, l.Revoke(ctx))
		sdptest.WaitFor(t, "heartbeat on a new lease", func() bool {
			_, lease2, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && lease2 != lease1
		})
		assert.Equal(t, ap.Applies(), 0)
	})
}

// TestAgentSurvivesEtcdRestart stops the etcd server under a running agent
// and starts it again: the agent heartbeats again without applying again,
// and applies the next push.
func TestAgentSurvivesEtcdRestart(t *testing.T) {
	e := sdptest.NewEtcd(t)
	b := e.Backend(t, etcd3.Config{})
	cfg := config.New(b, config.Options{ClientLeaseTTL: time.Second})
	t.Cleanup(func() { cfg.Close() })
	ctx := ctxT(t)
	ap := NewMemoryApplier()
	a, _ := startAgent(t, cfg, "a1", ap, "")
	sdptest.WaitFor(t, "first heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
	d1, err := Push(ctx, cfg, "a1", "topo-1", specA)
	assert.NilError(t, err)
	sdptest.WaitFor(t, "applied", func() bool {
		hb, _, ok := heartbeatOf(t, b, cfg, "a1")
		return ok && hb.AppliedHash == d1.Hash
	})
	_, lease1, _ := heartbeatOf(t, b, cfg, "a1")
	a.mu.Lock()
	l := a.lease
	a.mu.Unlock()

	e.Stop()
	sdptest.WaitFor(t, "the lease to be lost", func() bool {
		select {
		case <-l.Done():
			return true
		default:
			return false
		}
	})
	e.Restart(t)
	sdptest.WaitFor(t, "heartbeat on a new lease", func() bool {
		hb, lease2, ok := heartbeatOf(t, b, cfg, "a1")
		return ok && lease2 != lease1 && hb.AppliedHash == d1.Hash
	})
	assert.Equal(t, ap.Applies(), 1)

	d2, err := Resync(ctx, cfg, "a1")
	assert.NilError(t, err)
	sdptest.WaitFor(t, "re-applied", func() bool {
		hb, _, ok := heartbeatOf(t, b, cfg, "a1")
		return ok && hb.Generation == d2.Generation
	})
	assert.Equal(t, ap.Applies(), 2)
}

// panickyApplier panics in Apply.
type panickyApplier struct{ *MemoryApplier }

func (p *panickyApplier) Apply(context.Context, string, map[string]any) (map[string]any, error) {
	panic("nil bridge")
}

func TestAgentRecordsApplierPanic(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		startAgent(t, cfg, "a1", &panickyApplier{NewMemoryApplier()}, "")
		sdptest.WaitFor(t, "first heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		d, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		sdptest.WaitFor(t, "the panic recorded", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			return ok && hb.Generation == d.Generation && hb.LastError == "apply: panic: nil bridge"
		})
		row, ok := get(t, cfg, AppliedRows, "a1")
		assert.Assert(t, ok && row.IsMarker())
	})
}
