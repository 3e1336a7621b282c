package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/topology"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/txn"
)

// demoTopology runs the topology controller on the demo's store: a master
// and one agent with an in-memory applier; it pushes a topology, waits for
// the agent to apply it, breaks the agent's host (a simulated drift) and
// waits for the master to re-push and the agent to repair it. Its keys are
// deleted at the end on a configured store, even with --keep (the agent
// is gone by then).
func (d *demoRun) demoTopology(ctx context.Context) error {
	agent := "demo-agent-" + d.runID
	ap := topology.NewMemoryApplier()
	a, err := topology.NewAgent(d.cfg, topology.AgentOptions{Agent: agent, Applier: ap, LeaseTTL: 2 * time.Second, ObserveInterval: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	m := topology.NewMaster(d.cfg, topology.MasterOptions{})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { a.Run(rctx); done <- struct{}{} }()
	go func() { m.Run(rctx); done <- struct{}{} }()
	defer func() {
		cancel()
		<-done
		<-done
		a.Close()
		if !d.owned {
			d.cfg.Txn(context.WithoutCancel(ctx), func(t *config.Txn) error {
				for _, k := range []string{topology.DesiredTopologies.Path(agent), topology.AppliedRows.Path(agent), topology.Heartbeats.Path(agent), topology.DriftFlags.Path(agent)} {
					if err := t.Delete(k, txn.DeleteOptions{}); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}()
	status := func() (s topology.AgentStatus, err error) {
		err = d.cfg.Txn(ctx, func(t *config.Txn) error {
			s = topology.AgentStatus{Agent: agent}
			if v, err := topology.DesiredTopologies.Get(t, agent); err == nil {
				s.Desired = &v
			} else if !errors.Is(err, backend.ErrNotFound) {
				return err
			}
			if v, err := topology.Heartbeats.Get(t, agent); err == nil {
				s.Heartbeat = &v
			} else if !errors.Is(err, backend.ErrNotFound) {
				return err
			}
			if v, err := topology.DriftFlags.Get(t, agent); err == nil {
				s.Drift = &v
			} else if !errors.Is(err, backend.ErrNotFound) {
				return err
			}
			return nil
		})
		return s, err
	}
	wait := func(what string, cond func(s topology.AgentStatus) bool) (topology.AgentStatus, error) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			s, err := status()
			if err != nil {
				return s, err
			}
			if cond(s) {
				return s, nil
			}
			if time.Now().After(deadline) {
				return s, fmt.Errorf("timed out waiting for %s", what)
			}
			select {
			case <-ctx.Done():
				return s, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	inSync := func(s topology.AgentStatus) bool {
		return s.Desired != nil && s.Heartbeat != nil && s.Drift == nil &&
			s.Heartbeat.Generation == s.Desired.Generation && topology.Check(*s.Desired, s.Heartbeat) == ""
	}

	if _, err := wait("the agent's first heartbeat", func(s topology.AgentStatus) bool { return s.Heartbeat != nil }); err != nil {
		return err
	}
	d.out.printf("agent %s heartbeats on a lease (nothing applied: no auto-restore)\n", agent)
	spec := map[string]any{"lans": []any{map[string]any{"name": "lan0", "cidr": "10.10.0.0/24"}}, "deckies": []any{"web-1", "db-1"}}
	pushed, err := topology.Push(ctx, d.cfg, agent, "demo-lab", spec)
	if err != nil {
		return err
	}
	d.out.printf("master: pushed topology demo-lab, generation %d, version hash %s\n", pushed.Generation, shortHash(pushed.Hash))
	s, err := wait("the agent to apply", inSync)
	if err != nil {
		return err
	}
	d.out.printf("agent:  applied it; its heartbeat reports hash %s, observed %v\n", shortHash(s.Heartbeat.AppliedHash), s.Heartbeat.Observed["topologies"])
	if err := d.pause(ctx); err != nil {
		return err
	}

	// A mirror of the drift flags catches the flag, however briefly it lives.
	flags := make(chan topology.Drift, 16)
	mirror, err := mirror.NewMirror(d.cfg.Backend(), topology.DriftFlags.Prefix()+"/", mirror.HandlerFuncs{
		AddFunc: func(kv backend.KeyValue) error {
			var f topology.Drift
			if id, ok := topology.DriftFlags.ID(kv.Path); ok && id == agent && json.Unmarshal([]byte(kv.Value), &f) == nil {
				select {
				case flags <- f:
				default:
				}
			}
			return nil
		},
	}, mirror.MirrorOptions{})
	if err != nil {
		return err
	}
	mdone := make(chan error, 1)
	go func() { mdone <- mirror.Run(ctx) }()
	defer func() { mirror.Stop(); <-mdone }()
	if err := mirror.WaitForRevision(ctx, 1); err != nil {
		return err
	}

	d.out.printf("drift:  the agent's host loses bridge lan0 (its observed state reports an error)\n")
	ap.SetObserveError(errors.New("bridge lan0 vanished"))
	a.Trigger()
	select {
	case f := <-flags:
		d.out.printf("master: drift flagged: %s\n", f.Reason)
	case <-time.After(10 * time.Second):
		return errors.New("timed out waiting for the drift flag")
	case <-ctx.Done():
		return ctx.Err()
	}
	s, err = wait("the master to re-push", func(s topology.AgentStatus) bool {
		return s.Desired != nil && s.Desired.Generation > pushed.Generation
	})
	if err != nil {
		return err
	}
	d.out.printf("master: re-pushed it as generation %d\n", s.Desired.Generation)
	s, err = wait("the repair", inSync)
	if err != nil {
		return err
	}
	d.out.printf("agent:  re-applied generation %d; the master cleared the drift flag. Repaired (%d applies).\n", s.Heartbeat.Generation, ap.Applies())
	return nil
}

// shortHash abbreviates a version hash for the demo's lines.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
