package topology

import (
	"fmt"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
	"github.com/sdpconfig/sdpconfig/txn"
)

// setHeartbeat writes agent's heartbeat as an agent would (nil: its lease
// ended, the heartbeat is gone).
func setHeartbeat(t *testing.T, cfg *config.Config, agent string, hb *Heartbeat) {
	t.Helper()
	err := cfg.Txn(ctxT(t), func(tx *config.Txn) error {
		if hb == nil {
			return tx.Delete(Heartbeats.Path(agent), txn.DeleteOptions{})
		}
		return Heartbeats.CreateOrUpdate(tx, agent, *hb)
	})
	assert.NilError(t, err)
}

// An agent that dies in Apply, and stays down longer than its TTL,
// alternates between "missing heartbeat" and "different topology id":
// the re-pushes are counted per desired push whatever the reason, so the
// master stops at MaxRepushes. A new push starts a new budget.
func TestRepushBudgetPerDesiredPush(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		startMaster(t, cfg)
		d, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		generation := func() int64 {
			cur, _ := get(t, cfg, DesiredTopologies, "a1")
			return cur.Generation
		}
		flagReason := func(want string) func() bool {
			return func() bool { f, ok := get(t, cfg, DriftFlags, "a1"); return ok && f.Reason == want }
		}
		// Five agent lives: each comes back running the old topology at
		// the current generation (it acted on it, and died in Apply), then
		// its heartbeat goes.
		for life := 0; life < 5; life++ {
			gen := generation()
			setHeartbeat(t, cfg, "a1", &Heartbeat{TopologyID: "old", AppliedHash: "h", Generation: gen})
			sdptest.WaitFor(t, fmt.Sprintf("life %d: flagged for the topology id", life), flagReason(ReasonTopologyID))
			if life < DefaultMaxRepushes {
				sdptest.WaitFor(t, fmt.Sprintf("life %d: re-pushed", life), func() bool { return generation() == gen+1 })
			}
			setHeartbeat(t, cfg, "a1", nil)
			sdptest.WaitFor(t, fmt.Sprintf("life %d: flagged for the heartbeat", life), flagReason(ReasonMissingHeartbeat))
		}
		assert.Equal(t, generation(), d.Generation+DefaultMaxRepushes, "re-pushes beyond the budget")
		f, _ := get(t, cfg, DriftFlags, "a1")
		assert.Equal(t, f.Repushes, DefaultMaxRepushes)

		// An operator's corrected push: a new budget, so its failure is
		// re-pushed again.
		d2, err := Push(ctx, cfg, "a1", "topo-1", map[string]any{"lans": []any{"fixed"}})
		assert.NilError(t, err)
		setHeartbeat(t, cfg, "a1", &Heartbeat{TopologyID: "old", AppliedHash: "h", Generation: d2.Generation})
		sdptest.WaitFor(t, "the new push re-pushed once", func() bool { return generation() == d2.Generation+1 })
		f, _ = get(t, cfg, DriftFlags, "a1")
		assert.Equal(t, f.Repushes, 1)
	})
}

// A push with this deployment's volatile paths records them, and its agent
// verifies with them: it applies the push.
func TestPushWithVolatilePathsIsApplied(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		ap := NewMemoryApplier()
		startAgent(t, cfg, "a1", ap, "")
		sdptest.WaitFor(t, "heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		paths := []string{"nodes/*/status"}
		d, err := PushWith(ctx, cfg, "a1", "topo-1", map[string]any{"nodes": []any{map[string]any{"name": "n1", "status": "up", "updated_at": 5}}}, paths)
		assert.NilError(t, err)
		stored, _ := get(t, cfg, DesiredTopologies, "a1")
		assert.DeepEqual(t, stored.VolatilePaths, paths)
		assert.NilError(t, VerifyDesired(stored))
		assert.ErrorIs(t, Verify(stored.Spec, stored.Hash), ErrHashMismatch) // other paths, other hash
		sdptest.WaitFor(t, "applied", func() bool {
			row, ok := get(t, cfg, AppliedRows, "a1")
			return ok && row.AppliedVersionHash == d.Hash
		})
	})
}

// A host that lost its topology silently (no error; Observe no longer
// lists it) is drift: the master re-pushes and the agent applies again.
func TestSilentlyLostTopologyIsRepaired(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		startMaster(t, cfg)
		ap := NewMemoryApplier()
		startAgent(t, cfg, "a1", ap, "")
		sdptest.WaitFor(t, "heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		d, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		sdptest.WaitFor(t, "applied", func() bool { return ap.Applies() == 1 })
		ap.Lose("topo-1")
		sdptest.WaitFor(t, "re-pushed and applied again", func() bool {
			cur, _ := get(t, cfg, DesiredTopologies, "a1")
			return ap.Applies() == 2 && cur.Generation == d.Generation+1
		})
		assert.DeepEqual(t, ap.Running(), []string{"topo-1"})
		sdptest.WaitFor(t, "flag cleared", func() bool { _, flagged := get(t, cfg, DriftFlags, "a1"); return !flagged })
	})
}
