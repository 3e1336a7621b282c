package topology

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestCheck(t *testing.T) {
	d := Desired{TopologyID: "t1", Hash: "h1", Generation: 3}
	for _, tc := range []struct {
		hb   *Heartbeat
		want string
	}{
		{nil, ReasonMissingHeartbeat},
		{&Heartbeat{TopologyID: "t2", AppliedHash: "h1"}, ReasonTopologyID},
		{&Heartbeat{TopologyID: "t1", AppliedHash: ""}, ReasonMarker},
		{&Heartbeat{TopologyID: "t1", AppliedHash: "h0"}, ReasonHash},
		{&Heartbeat{TopologyID: "t1", AppliedHash: "h1", Observed: map[string]any{"error": "x"}}, ReasonObservedError},
		{&Heartbeat{TopologyID: "t1", AppliedHash: "h1", Observed: map[string]any{"bridges": []any{}}}, ""},
	} {
		assert.Equal(t, Check(d, tc.hb), tc.want, "%+v", tc.hb)
	}
}

// startMaster runs a master until the test ends.
func startMaster(t *testing.T, cfg *config.Config) *Master {
	t.Helper()
	m := NewMaster(cfg, MasterOptions{RetryInterval: 20 * 1e6})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		err := <-done
		assert.Assert(t, errors.Is(err, context.Canceled), "master: %v", err)
	})
	return m
}

// flagLog records every drift flag raised, by agent, through a Mirror.
type flagLog struct {
	mu     sync.Mutex
	raised map[string][]string // agent → reasons, in order
}

func (f *flagLog) add(kv backend.KeyValue) error {
	id, ok := DriftFlags.ID(kv.Path)
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.raised[id] = append(f.raised[id], kv.Value)
	return nil
}

func (f *flagLog) of(agent string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.raised[agent]...)
}

// watchFlags starts a Mirror of the drift flags until the test ends.
func watchFlags(t *testing.T, cfg *config.Config) *flagLog {
	t.Helper()
	f := &flagLog{raised: map[string][]string{}}
	m, err := mirror.NewMirror(cfg.Backend(), DriftFlags.Prefix()+"/", mirror.HandlerFuncs{
		AddFunc:    f.add,
		ChangeFunc: func(_, kv backend.KeyValue) error { return f.add(kv) },
	}, mirror.MirrorOptions{})
	assert.NilError(t, err)
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	t.Cleanup(func() {
		m.Stop()
		assert.NilError(t, <-done)
	})
	return f
}

// TestMasterRepairsDrift runs two agents and a master in one process: agent
// a1 loses its lease (flagged), comes back with a wrong hash (re-pushed by
// a generation bump) and is repaired; a2 is never flagged.
func TestMasterRepairsDrift(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		flags := watchFlags(t, cfg)
		m := startMaster(t, cfg)
		ap1, ap2 := NewMemoryApplier(), NewMemoryApplier()
		cache1 := filepath.Join(t.TempDir(), "a1.db")
		a1, stop1 := startAgent(t, cfg, "a1", ap1, cache1)
		startAgent(t, cfg, "a2", ap2, "")
		sdptest.WaitFor(t, "both heartbeats", func() bool {
			_, _, ok1 := heartbeatOf(t, b, cfg, "a1")
			_, _, ok2 := heartbeatOf(t, b, cfg, "a2")
			return ok1 && ok2
		})
		d1, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		d2, err := Push(ctx, cfg, "a2", "topo-2", map[string]any{"lans": []any{"b"}})
		assert.NilError(t, err)
		inSync := func(agent string, d *Desired) func() bool {
			return func() bool {
				hb, _, ok := heartbeatOf(t, b, cfg, agent)
				cur, _ := get(t, cfg, DesiredTopologies, agent)
				_, flagged := get(t, cfg, DriftFlags, agent)
				*d = cur
				return ok && hb.AppliedHash == cur.Hash && hb.Generation == cur.Generation && !flagged
			}
		}
		sdptest.WaitFor(t, "a1 in sync", inSync("a1", &d1))
		sdptest.WaitFor(t, "a2 in sync", inSync("a2", &d2))
		assert.Equal(t, ap1.Applies(), 1)
		assert.Equal(t, d1.Generation, int64(1))

		// a1 stops and loses its lease: flagged for a missing heartbeat,
		// nothing re-pushed.
		a1.mu.Lock()
		l := a1.lease
		a1.mu.Unlock()
		stop1()
		assert.NilError(t, l.Revoke(ctx))
		sdptest.WaitFor(t, "a1 flagged", func() bool {
			f, ok := get(t, cfg, DriftFlags, "a1")
			return ok && f.Reason == ReasonMissingHeartbeat
		})
		cur, _ := get(t, cfg, DesiredTopologies, "a1")
		assert.Equal(t, cur.Generation, int64(1))

		// While away, its applied row went stale (a wrong hash).
		_, err = NewStore(cfg, nil).Put(ctx, "a1", "topo-1", "stale-hash", nil)
		assert.NilError(t, err)

		// It comes back: its first pass reports the wrong hash, the master
		// bumps the generation, the agent applies, the flag clears.
		ap1b := NewMemoryApplier()
		startAgent(t, cfg, "a1", ap1b, cache1)
		sdptest.WaitFor(t, "a1 repaired", inSync("a1", &d1))
		assert.Equal(t, d1.Generation, int64(2))
		assert.Equal(t, ap1b.Applies(), 1)
		assert.DeepEqual(t, ap1b.Running(), []string{"topo-1"})
		reasons := flags.of("a1")
		assert.Assert(t, len(reasons) >= 2, "%v", reasons)

		// a2 was never flagged nor re-pushed.
		assert.DeepEqual(t, flags.of("a2"), []string(nil))
		cur2, _ := get(t, cfg, DesiredTopologies, "a2")
		assert.Equal(t, cur2.Generation, int64(1))
		assert.Equal(t, ap2.Applies(), 1)
		assert.Equal(t, m.Stats().Streams, int64(1))
	})
}

// TestMasterBoundsRepushes: an apply that always fails is re-pushed at most
// MaxRepushes times; Resync starts again.
func TestMasterBoundsRepushes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		startMaster(t, cfg)
		ap := &failingApplier{MemoryApplier: NewMemoryApplier()}
		startAgent(t, cfg, "a1", ap, "")
		sdptest.WaitFor(t, "heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		_, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		sdptest.WaitFor(t, "repushes exhausted", func() bool {
			f, ok := get(t, cfg, DriftFlags, "a1")
			d, _ := get(t, cfg, DesiredTopologies, "a1")
			hb, _, _ := heartbeatOf(t, b, cfg, "a1")
			return ok && f.Repushes == DefaultMaxRepushes && hb.Generation == d.Generation
		})
		d, _ := get(t, cfg, DesiredTopologies, "a1")
		assert.Equal(t, d.Generation, int64(1+DefaultMaxRepushes))
		f, _ := get(t, cfg, DriftFlags, "a1")
		assert.Equal(t, f.Reason, ReasonMarker)
	})
}

// failingApplier fails every Apply.
type failingApplier struct{ *MemoryApplier }

func (f *failingApplier) Apply(context.Context, string, map[string]any) (map[string]any, error) {
	return nil, errors.New("no docker")
}

// TestDesiredDeleted: deleting an agent's desired topology makes a running
// agent tear it down and clear its row, and the master drop a flag.
func TestDesiredDeleted(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		startMaster(t, cfg)
		ap1, ap2 := NewMemoryApplier(), NewMemoryApplier()
		a1, stop1 := startAgent(t, cfg, "a1", ap1, "")
		startAgent(t, cfg, "a2", ap2, "")
		sdptest.WaitFor(t, "heartbeats", func() bool {
			_, _, ok1 := heartbeatOf(t, b, cfg, "a1")
			_, _, ok2 := heartbeatOf(t, b, cfg, "a2")
			return ok1 && ok2
		})
		for _, agent := range []string{"a1", "a2"} {
			d, err := Push(ctx, cfg, agent, "topo-"+agent, specA)
			assert.NilError(t, err)
			sdptest.WaitFor(t, agent+" applied", func() bool {
				hb, _, ok := heartbeatOf(t, b, cfg, agent)
				return ok && hb.AppliedHash == d.Hash
			})
		}
		a1.mu.Lock()
		l := a1.lease
		a1.mu.Unlock()
		stop1()
		assert.NilError(t, l.Revoke(ctx))
		sdptest.WaitFor(t, "a1 flagged", func() bool { _, ok := get(t, cfg, DriftFlags, "a1"); return ok })

		for _, agent := range []string{"a1", "a2"} {
			assert.NilError(t, cfg.Txn(ctx, func(tx *config.Txn) error { return DesiredTopologies.Delete(tx, agent) }))
		}
		sdptest.WaitFor(t, "a1's flag dropped", func() bool { _, ok := get(t, cfg, DriftFlags, "a1"); return !ok })
		sdptest.WaitFor(t, "a2 torn down", func() bool {
			_, hasRow := get(t, cfg, AppliedRows, "a2")
			return !hasRow && len(ap2.Running()) == 0
		})
		sdptest.WaitFor(t, "a2 reports no topology", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a2")
			return ok && hb.TopologyID == "" && hb.AppliedHash == ""
		})
		_, hasRow := get(t, cfg, AppliedRows, "a1") // nobody tore a1 down: its row stays
		assert.Assert(t, hasRow)
	})
}
