package topology

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// hangingApplier's Apply blocks until its context ends.
type hangingApplier struct{ *MemoryApplier }

func (h *hangingApplier) Apply(ctx context.Context, _ string, _ map[string]any) (map[string]any, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A hung Apply ends at the agent's CallTimeout and is recorded as the
// row's error; the heartbeat then reports the generation acted on, so the
// master judges it (here: flags the marker row) instead of counting it
// pending for good.
func TestHungApplyEndsAtTheCallTimeout(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		startMaster(t, cfg)
		const timeout = 300 * time.Millisecond // the deadline under test
		a, err := NewAgent(cfg, AgentOptions{Agent: "a1", Applier: &hangingApplier{NewMemoryApplier()}, LeaseTTL: time.Second,
			ObserveInterval: 100 * time.Millisecond, RetryInterval: 20 * time.Millisecond, CallTimeout: timeout})
		assert.NilError(t, err)
		actx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(actx) }()
		defer func() {
			cancel()
			assert.Assert(t, errors.Is(<-done, context.Canceled))
			assert.NilError(t, a.Close())
		}()
		sdptest.WaitFor(t, "heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		d, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		sdptest.WaitFor(t, "the apply's deadline recorded", func() bool {
			row, ok := get(t, cfg, AppliedRows, "a1")
			return ok && strings.Contains(row.LastError, "apply did not finish within 300ms")
		})
		sdptest.WaitFor(t, "the heartbeat at the generation acted on, and a flag", func() bool {
			hb, _, ok := heartbeatOf(t, b, cfg, "a1")
			_, flagged := get(t, cfg, DriftFlags, "a1")
			return ok && hb.Generation >= d.Generation && flagged
		})
	})
}

// stuckApplier's Apply ignores its context and returns only when released.
type stuckApplier struct {
	*MemoryApplier
	release chan struct{}
}

func (s *stuckApplier) Apply(context.Context, string, map[string]any) (map[string]any, error) {
	<-s.release
	return nil, errors.New("released")
}

// An Applier that ignores its context outlives the agent's deadline, its
// heartbeat alive and behind the desired generation: past ApplyBound the
// master flags it "apply not finished", re-pushing nothing.
func TestStuckApplyIsFlagged(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend, cfg *config.Config) {
		ctx := ctxT(t)
		m := NewMaster(cfg, MasterOptions{RetryInterval: 20 * time.Millisecond, ApplyBound: 300 * time.Millisecond})
		mctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(mctx) }()
		t.Cleanup(func() { cancel(); <-done })
		ap := &stuckApplier{MemoryApplier: NewMemoryApplier(), release: make(chan struct{})}
		startAgent(t, cfg, "a1", ap, "")
		t.Cleanup(func() { close(ap.release) }) // runs before the agent's stop
		sdptest.WaitFor(t, "heartbeat", func() bool { _, _, ok := heartbeatOf(t, b, cfg, "a1"); return ok })
		d, err := Push(ctx, cfg, "a1", "topo-1", specA)
		assert.NilError(t, err)
		sdptest.WaitFor(t, "flagged: apply not finished", func() bool {
			f, ok := get(t, cfg, DriftFlags, "a1")
			return ok && f.Reason == ReasonApplyNotFinished
		})
		cur, _ := get(t, cfg, DesiredTopologies, "a1")
		assert.Equal(t, cur.Generation, d.Generation, "nothing re-pushed while the apply runs")
	})
}
