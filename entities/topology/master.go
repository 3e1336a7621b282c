package topology

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// DefaultMaxRepushes is how many generation bumps the master makes for one
// drift unless MasterOptions.MaxRepushes says otherwise.
const DefaultMaxRepushes = 3

// MasterOptions configure a Master.
type MasterOptions struct {
	// MaxRepushes bounds the generation bumps for one drift (until the
	// flag clears, or Resync); 0 means DefaultMaxRepushes. It keeps an apply
	// that always fails from being re-pushed forever.
	MaxRepushes int
	// RetryInterval is the first wait after the loop failed; it doubles up
	// to 5s. 0 means DefaultRetryInterval.
	RetryInterval time.Duration
	// Now gives Drift.Since; nil means time.Now.
	Now func() time.Time
}

// Master is the master side of the controller (desired topologies are
// written with Push and Resync): it runs a watch loop (Run) over every desired
// topology, heartbeat and drift flag, on one watch stream. For each agent
// with a desired topology it computes Check; on drift it raises the agent's
// flag and, once the agent has acted on the current generation, bumps the
// generation to re-push (at most MaxRepushes times per drift); it deletes
// the flag when the agent reports the desired hash again. A missing
// heartbeat raises the flag but bumps nothing: no one would receive the
// push, and the agent's first report when it returns decides. Each agent is
// judged on its own keys only.
type Master struct {
	cfg  *config.Config
	opts MasterOptions

	mu sync.Mutex
	w  *config.Watcher

	// decoded caches decoded values by path and mod revision, so that a
	// pass decodes only the keys that changed (loop goroutine only).
	decoded map[string]decodedValue
}

// decodedValue is a decoded value of a key at one mod revision.
type decodedValue struct {
	rev int64
	v   any
}

// NewMaster returns a master over cfg.
func NewMaster(cfg *config.Config, opts MasterOptions) *Master {
	if opts.MaxRepushes <= 0 {
		opts.MaxRepushes = DefaultMaxRepushes
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = DefaultRetryInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Master{cfg: cfg, opts: opts}
}

// Push writes the desired topology of agent: spec with its Hash and the
// next generation. It returns what it wrote.
func Push(ctx context.Context, cfg *config.Config, agent, topologyID string, spec map[string]any) (d Desired, err error) {
	hash, err := Hash(spec)
	if err != nil {
		return Desired{}, err
	}
	err = cfg.Txn(ctx, func(t *config.Txn) error {
		old, err := DesiredTopologies.Get(t, agent)
		if err != nil && !errors.Is(err, backend.ErrNotFound) {
			return err
		}
		d = Desired{TopologyID: topologyID, Spec: nonNil(spec), Hash: hash, Generation: old.Generation + 1}
		return DesiredTopologies.CreateOrUpdate(t, agent, d)
	})
	return d, err
}

// Resync bumps the generation of agent's desired topology, making the agent
// apply it again, and deletes its drift flag (resetting the re-push count).
// It fails with an error wrapping backend.ErrNotFound if there is none.
func Resync(ctx context.Context, cfg *config.Config, agent string) (d Desired, err error) {
	err = cfg.Txn(ctx, func(t *config.Txn) error {
		if d, err = DesiredTopologies.Get(t, agent); err != nil {
			return err
		}
		d.Generation++
		if err := DesiredTopologies.Update(t, agent, d); err != nil {
			return err
		}
		return t.Delete(DriftFlags.Path(agent), txn.DeleteOptions{})
	})
	return d, err
}

// Check returns why an agent whose desired topology is d and whose
// heartbeat is hb (nil: missing) drifts, or "" when it runs d: the first of
// a missing heartbeat, a different topology id, an error marker (empty
// hash), a different hash, and an observed state reporting an error.
func Check(d Desired, hb *Heartbeat) string {
	switch {
	case hb == nil:
		return ReasonMissingHeartbeat
	case hb.TopologyID != d.TopologyID:
		return ReasonTopologyID
	case hb.AppliedHash == "":
		return ReasonMarker
	case hb.AppliedHash != d.Hash:
		return ReasonHash
	case hb.Observed["error"] != nil:
		return ReasonObservedError
	}
	return ""
}

// Stats returns the counters of the running loop's watcher (zero when it
// is not running).
func (m *Master) Stats() watcher.Stats {
	m.mu.Lock()
	w := m.w
	m.mu.Unlock()
	if w == nil {
		return watcher.Stats{}
	}
	return w.Stats()
}

// Run runs the master's loop until ctx ends (returning its cause) or the
// Config closes (an error wrapping backend.ErrClosed). Other failures
// restart the loop after a backoff.
func (m *Master) Run(ctx context.Context) error {
	wait := m.opts.RetryInterval
	for {
		w := m.cfg.Watcher(watcher.Options{})
		m.mu.Lock()
		m.w = w
		m.mu.Unlock()
		err := w.Run(ctx, m.iterate)
		w.Close()
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if errors.Is(err, backend.ErrClosed) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		wait = min(2*wait, maxRetryInterval)
	}
}

// masterView is every key the master reads, by agent.
type masterView struct {
	desired map[string]Desired
	hbs     map[string]Heartbeat
	flags   map[string]Drift
}

// listKind reads every entity of k in t (tracked: a change wakes the loop),
// decoding through the caches: old holds the last pass's values, next
// receives this pass's.
func listKind[T any](t *config.Txn, k *config.Kind[T], old, next map[string]decodedValue) (map[string]T, error) {
	return listKindOpts(t, k, txn.ListOptions{}, old, next)
}

// listKindOpts reads every entity of k in t with opts; old and next are
// decode caches (nil: none).
func listKindOpts[T any](t *config.Txn, k *config.Kind[T], opts txn.ListOptions, old, next map[string]decodedValue) (map[string]T, error) {
	kvs, err := t.ListValues(k.Prefix()+"/", opts)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(kvs))
	for _, kv := range kvs {
		id, ok := k.ID(kv.Path)
		if !ok {
			continue
		}
		if c, ok := old[kv.Path]; ok && c.rev == kv.ModRevision && kv.ModRevision != 0 {
			if v, ok := c.v.(T); ok {
				out[id] = v
				if next != nil {
					next[kv.Path] = c
				}
				continue
			}
		}
		var v T
		if json.Unmarshal([]byte(kv.Value), &v) != nil {
			continue // not ours to judge; a bad key is skipped
		}
		out[id] = v
		if next != nil {
			next[kv.Path] = decodedValue{rev: kv.ModRevision, v: v}
		}
	}
	return out, nil
}

// iterate is one pass: read everything (one read-only transaction from the
// watcher's cache), then fix each agent that needs it in a transaction of
// its own, which checks again.
func (m *Master) iterate(ctx context.Context, it *config.Iteration) error {
	var v masterView
	var next map[string]decodedValue
	err := it.Txn(ctx, func(t *config.Txn) (err error) {
		next = make(map[string]decodedValue, len(m.decoded))
		if v.desired, err = listKind(t, DesiredTopologies, m.decoded, next); err != nil {
			return err
		}
		if v.hbs, err = listKind(t, Heartbeats, m.decoded, next); err != nil {
			return err
		}
		v.flags, err = listKind(t, DriftFlags, m.decoded, next)
		return err
	})
	if err != nil {
		return err
	}
	m.decoded = next
	for agent := range v.flags {
		if _, ok := v.desired[agent]; !ok {
			if err := m.fix(ctx, it, agent); err != nil {
				return err
			}
		}
	}
	for agent, d := range v.desired {
		var hb *Heartbeat
		if h, ok := v.hbs[agent]; ok {
			hb = &h
		}
		f, flagged := v.flags[agent]
		var fp *Drift
		if flagged {
			fp = &f
		}
		if act := m.decide(d, hb, fp); act != (action{}) {
			if err := m.fix(ctx, it, agent); err != nil {
				return err
			}
		}
	}
	return nil
}

// action is what the master writes for one agent.
type action struct {
	clear bool   // delete the flag
	flag  string // raise or update the flag with this reason
	bump  bool   // bump the generation
}

// decide returns what to do for an agent (see Master).
func (m *Master) decide(d Desired, hb *Heartbeat, flag *Drift) action {
	reason := Check(d, hb)
	if reason == "" {
		return action{clear: flag != nil}
	}
	if hb != nil && hb.Generation < d.Generation {
		return action{} // the agent has not acted on this generation yet
	}
	var act action
	if flag == nil || flag.Reason != reason {
		act.flag = reason
	}
	repushes := 0
	if flag != nil && flag.Reason == reason {
		repushes = flag.Repushes
	}
	if hb != nil && repushes < m.opts.MaxRepushes {
		act.flag, act.bump = reason, true
	}
	return act
}

// fix re-reads one agent's keys and applies decide's action in one
// transaction.
func (m *Master) fix(ctx context.Context, it *config.Iteration, agent string) error {
	now := m.opts.Now().Unix()
	err := it.Txn(ctx, func(t *config.Txn) error {
		flag, err := DriftFlags.Get(t, agent)
		flagged := err == nil
		if err != nil && !errors.Is(err, backend.ErrNotFound) {
			return err
		}
		d, err := DesiredTopologies.Get(t, agent)
		if errors.Is(err, backend.ErrNotFound) {
			if flagged {
				return DriftFlags.Delete(t, agent)
			}
			return nil
		}
		if err != nil {
			return err
		}
		var hb *Heartbeat
		h, err := Heartbeats.Get(t, agent)
		switch {
		case err == nil:
			hb = &h
		case !errors.Is(err, backend.ErrNotFound):
			return err
		}
		var fp *Drift
		if flagged {
			fp = &flag
		}
		act := m.decide(d, hb, fp)
		if act.clear {
			return DriftFlags.Delete(t, agent)
		}
		if act.flag == "" {
			return nil
		}
		nf := Drift{Reason: act.flag, Since: now}
		if flagged {
			nf.Since = flag.Since
			if flag.Reason == act.flag {
				nf.Repushes = flag.Repushes
			}
		}
		if act.bump {
			nf.Repushes++
			d.Generation++
			if err := DesiredTopologies.Update(t, agent, d); err != nil {
				return err
			}
		}
		return DriftFlags.CreateOrUpdate(t, agent, nf)
	})
	if err != nil {
		return fmt.Errorf("topology: master: agent %q: %w", agent, err)
	}
	return nil
}
