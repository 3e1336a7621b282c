package topology

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
	"github.com/sdpconfig/sdpconfig/mirror"
	"github.com/sdpconfig/sdpconfig/txn"
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
	// ApplyBound is how long an agent that heartbeats may stay behind the
	// desired generation (its Apply running) before the master flags it
	// "apply not finished"; 0 means DefaultApplyBound.
	ApplyBound time.Duration
	// Now gives Drift.Since; nil means time.Now.
	Now func() time.Time
}

// DefaultApplyBound is MasterOptions.ApplyBound's default: the agents'
// DefaultCallTimeout and a minute more, for an Applier that ignores its
// context and so outlives the agent's deadline.
const DefaultApplyBound = DefaultCallTimeout + time.Minute

// Master is the master side of the controller (desired topologies are
// written with Push and Resync): Run follows every desired topology,
// heartbeat and drift flag with one Mirror of Prefix (one watch stream) and
// judges each agent whose keys changed, from the mirror's copy. For each
// agent with a desired topology it computes Check; on drift it raises the agent's
// flag and, once the agent has acted on the current generation, bumps the
// generation to re-push (at most MaxRepushes times per drift); it deletes
// the flag when the agent reports the desired hash again. A missing
// heartbeat raises the flag but bumps nothing: no one would receive the
// push, and the agent's first report when it returns decides. Each agent is
// judged on its own keys only.
type Master struct {
	cfg    *config.Config
	opts   MasterOptions
	met    *telemetry.Controller
	metErr error // from registering met: Run returns it

	mu    sync.Mutex
	stats MasterStats
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
	if opts.ApplyBound <= 0 {
		opts.ApplyBound = DefaultApplyBound
	}
	tel := cfg.Telemetry()
	met, err := telemetry.NewController("topology_master", tel.Registerer, tel.TracerProvider, tel.Logger)
	return &Master{cfg: cfg, opts: opts, met: met, metErr: err}
}

// Push writes the desired topology of agent: spec with its Hash and the
// next generation. It returns what it wrote.
func Push(ctx context.Context, cfg *config.Config, agent, topologyID string, spec map[string]any) (d Desired, err error) {
	return PushWith(ctx, cfg, agent, topologyID, spec, DefaultVolatilePaths)
}

// PushWith is Push with the volatile paths of this deployment (see
// HashWith), recorded in the desired key for the agent to verify with.
func PushWith(ctx context.Context, cfg *config.Config, agent, topologyID string, spec map[string]any, volatile []string) (d Desired, err error) {
	hash, err := HashWith(spec, volatile)
	if err != nil {
		return Desired{}, err
	}
	err = cfg.Txn(ctx, func(t *config.Txn) error {
		old, err := DesiredTopologies.Get(t, agent)
		if err != nil && !errors.Is(err, backend.ErrNotFound) {
			return err
		}
		d = Desired{TopologyID: topologyID, Spec: nonNil(spec), Hash: hash, VolatilePaths: slices.Clone(volatile), Generation: old.Generation + 1}
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
// hash), a different hash, an observed state reporting an error, and an
// observed state that lacks the topology (observedLacks).
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
	case observedLacks(d, hb.Observed):
		return ReasonObservedMissing
	}
	return ""
}

// observedLacks reports whether an Applier's observation says the desired
// topology is not (all) there, although the applied row says it is: the
// observation lists the topologies running ("topologies") without d's, or
// lists missing parts ("missing"). An observation with neither key is not
// judged.
func observedLacks(d Desired, observed map[string]any) bool {
	if ids, ok := observed["topologies"].([]any); ok && !slices.Contains(ids, any(d.TopologyID)) {
		return true
	}
	missing, ok := observed["missing"].([]any)
	return ok && len(missing) > 0
}

// MasterStats are a Master's counters since NewMaster.
type MasterStats struct {
	// Streams is the number of watch streams (Mirrors) opened: one per
	// Run, plus one per restart after a failure.
	Streams int64
	// Evaluations is the number of times an agent was judged.
	Evaluations int64
	// Commits is the number of commits made (flag, bump, clear).
	Commits int64
	// Conflicts is the number of commits refused because a key had moved
	// since the master read it (the agent is judged again on the change).
	Conflicts int64
}

// Stats returns the master's counters.
func (m *Master) Stats() MasterStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Run runs the master's loop until ctx ends (returning its cause) or the
// Config closes (an error wrapping backend.ErrClosed). Other failures
// restart the loop after a backoff.
func (m *Master) Run(ctx context.Context) error {
	if m.metErr != nil {
		return fmt.Errorf("topology: master: %w", m.metErr)
	}
	m.met.Leader(true)
	defer m.met.Leader(false)
	wait := m.opts.RetryInterval
	for {
		err := m.runOnce(ctx)
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

// dirtySet is the master's copy of the keys it judges and the set of
// agents to judge again, both filled by the Mirror's callbacks (which run
// before the Mirror's own view moves, so the copy is kept here) and drained
// by the loop.
type dirtySet struct {
	mu     sync.Mutex
	kvs    map[string]backend.KeyValue // path → key, for the three kinds read
	agents map[string]struct{}
	all    bool // judge every agent (after a refresh)
	ready  bool // the mirror caught up once: its view is complete
	wake   chan struct{}

	// pending: the agents heartbeating behind their desired generation, with
	// the generation and when the master first saw them behind it. Used by
	// the loop goroutine only.
	pending map[string]pendingSince
}

// pendingSince is when an agent was first seen behind a generation.
type pendingSince struct {
	gen   int64
	since time.Time
}

// update records kv (or its deletion) and marks its agent, if it is a key
// the master reads.
func (d *dirtySet) update(kv backend.KeyValue, deleted bool) {
	for _, id := range []func(string) (string, bool){DesiredTopologies.ID, Heartbeats.ID, DriftFlags.ID} {
		if agent, ok := id(kv.Path); ok {
			d.mu.Lock()
			if deleted {
				delete(d.kvs, kv.Path)
			} else {
				d.kvs[kv.Path] = kv
			}
			d.agents[agent] = struct{}{}
			d.mu.Unlock()
			d.signal()
			return
		}
	}
}

// signal wakes the loop.
func (d *dirtySet) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// take returns the agents to judge and empties the set; nothing before
// the mirror's first refresh is done.
func (d *dirtySet) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ready {
		return nil
	}
	if d.all {
		d.all = false
		for path := range d.kvs {
			if agent, ok := DesiredTopologies.ID(path); ok {
				d.agents[agent] = struct{}{}
			} else if agent, ok := DriftFlags.ID(path); ok {
				d.agents[agent] = struct{}{}
			}
		}
	}
	out := make([]string, 0, len(d.agents))
	for a := range d.agents {
		out = append(out, a)
	}
	clear(d.agents)
	return out
}

// runOnce follows the store with one Mirror of Prefix and judges each agent
// whose keys changed, until the mirror fails or ctx ends.
func (m *Master) runOnce(ctx context.Context) (err error) {
	d := &dirtySet{kvs: map[string]backend.KeyValue{}, agents: map[string]struct{}{}, wake: make(chan struct{}, 1), pending: map[string]pendingSince{}}
	// Agents behind their generation are judged again as time passes,
	// though no key of theirs changes.
	tick := time.NewTicker(max(m.opts.ApplyBound/4, time.Millisecond))
	defer tick.Stop()
	h := mirror.HandlerFuncs{
		AddFunc:    func(kv backend.KeyValue) error { d.update(kv, false); return nil },
		ChangeFunc: func(_, kv backend.KeyValue) error { d.update(kv, false); return nil },
		DeleteFunc: func(old backend.KeyValue) error { d.update(old, true); return nil },
		RefreshDoneFunc: func(mirror.View) error {
			d.mu.Lock()
			d.ready, d.all = true, true
			d.mu.Unlock()
			d.signal()
			return nil
		},
	}
	tel := m.cfg.Telemetry()
	mir, err := mirror.NewMirror(m.cfg.Backend(), Prefix+"/", h, mirror.MirrorOptions{Registerer: tel.Registerer, Logger: tel.Logger})
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.stats.Streams++
	m.mu.Unlock()
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mir.Run(mctx) }()
	defer func() {
		cancel()
		if done != nil {
			<-done
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			done = nil
			if err == nil {
				err = errors.New("topology: master: mirror stopped")
			}
			return err
		case <-d.wake:
		case <-tick.C:
			d.mu.Lock()
			for agent := range d.pending {
				d.agents[agent] = struct{}{}
			}
			d.mu.Unlock()
		}
		if err := m.pass(ctx, d); err != nil {
			return err
		}
	}
}

// decodeKey decodes the key at path from the master's copy into v; it
// reports false when the key is absent or not a value of v's type, and
// returns the key's mod revision (0 when absent).
func (d *dirtySet) decodeKey(path string, v any) (bool, int64) {
	d.mu.Lock()
	kv, ok := d.kvs[path]
	d.mu.Unlock()
	if !ok {
		return false, 0
	}
	return json.Unmarshal([]byte(kv.Value), v) == nil, kv.ModRevision
}

// evaluate judges one agent from the master's copy and writes what decide
// says in one commit guarded by the mod revisions it read: if any of the
// agent's keys moved meanwhile, nothing is written and the change, which
// the mirror delivers, makes the agent judged again.
func (m *Master) evaluate(ctx context.Context, view *dirtySet, agent string) error {
	dPath, hPath, fPath := DesiredTopologies.Path(agent), Heartbeats.Path(agent), DriftFlags.Path(agent)
	var d Desired
	var hb Heartbeat
	var flag Drift
	hasD, dRev := view.decodeKey(dPath, &d)
	hasH, hRev := view.decodeKey(hPath, &hb)
	hasF, fRev := view.decodeKey(fPath, &flag)
	m.mu.Lock()
	m.stats.Evaluations++
	m.mu.Unlock()
	var ops []backend.Op
	if !hasD {
		if fRev != 0 {
			ops = append(ops, backend.Delete(backend.Key(fPath)))
		}
	} else {
		var hp *Heartbeat
		if hasH {
			hp = &hb
		}
		var fp *Drift
		if hasF {
			fp = &flag
		}
		var behind time.Duration
		if hasH && hb.Generation < d.Generation {
			p, ok := view.pending[agent]
			if !ok || p.gen != d.Generation {
				p = pendingSince{gen: d.Generation, since: m.opts.Now()}
				view.pending[agent] = p
			}
			behind = m.opts.Now().Sub(p.since)
		} else {
			delete(view.pending, agent)
		}
		act := m.decide(d, hp, fp, behind)
		switch {
		case act.clear:
			ops = append(ops, backend.Delete(backend.Key(fPath)))
		case act.flag != "":
			nf := Drift{Reason: act.flag, Since: m.opts.Now().Unix(), Generation: d.Generation}
			if hasF {
				nf.Since = flag.Since
				nf.Repushes = budgetUsed(d, &flag)
			}
			if act.bump {
				nf.Repushes++
				d.Generation++
				nf.Generation = d.Generation
				v, err := config.Marshal(d)
				if err != nil {
					return err
				}
				ops = append(ops, backend.Put(dPath, v, backend.NoLease))
			}
			v, err := config.Marshal(nf)
			if err != nil {
				return err
			}
			ops = append(ops, backend.Put(fPath, v, backend.NoLease))
		}
	}
	if len(ops) == 0 {
		return nil
	}
	guard := func(path string, rev int64) backend.Compare {
		return backend.Compare{Range: backend.Key(path), Target: backend.ModRevision, Op: backend.Equal, Value: rev}
	}
	res, err := m.cfg.Backend().Commit(ctx, backend.Txn{
		If:   []backend.Compare{guard(dPath, dRev), guard(hPath, hRev), guard(fPath, fRev)},
		Then: ops,
	})
	if err != nil {
		return fmt.Errorf("topology: master: agent %q: %w", agent, err)
	}
	m.mu.Lock()
	m.stats.Commits++
	if !res.Succeeded {
		m.stats.Conflicts++
	}
	m.mu.Unlock()
	return nil
}

// budgetUsed returns the re-pushes flag counts against the push d is at:
// its count when no push came since (d's generation is the flag's), 0 when
// a new push did (a higher generation; a flag of an earlier version, with
// no generation, counts as its reason's until then).
func budgetUsed(d Desired, flag *Drift) int {
	if flag.Generation != 0 && d.Generation > flag.Generation {
		return 0
	}
	return flag.Repushes
}

// action is what the master writes for one agent.
type action struct {
	clear bool   // delete the flag
	flag  string // raise or update the flag with this reason
	bump  bool   // bump the generation
}

// decide returns what to do for an agent (see Master).
func (m *Master) decide(d Desired, hb *Heartbeat, flag *Drift, behind time.Duration) action {
	reason := Check(d, hb)
	if reason == "" {
		return action{clear: flag != nil}
	}
	if hb != nil && hb.Generation < d.Generation {
		// The agent has not acted on this generation yet: pending, until it
		// has been behind for longer than an Apply may take.
		if behind >= m.opts.ApplyBound && (flag == nil || flag.Reason != ReasonApplyNotFinished) {
			return action{flag: ReasonApplyNotFinished}
		}
		return action{}
	}
	var act action
	if flag == nil || flag.Reason != reason {
		act.flag = reason
	}
	repushes := 0
	if flag != nil {
		repushes = budgetUsed(d, flag)
	}
	if hb != nil && repushes < m.opts.MaxRepushes {
		act.flag, act.bump = reason, true
	}
	return act
}

// pass judges every agent whose keys changed, as one reconcile pass.
func (m *Master) pass(ctx context.Context, d *dirtySet) (err error) {
	agents := d.take()
	if len(agents) == 0 {
		return nil
	}
	ctx, done := m.met.Pass(ctx)
	defer func() { done(err) }()
	for _, agent := range agents {
		if err := m.evaluate(ctx, d, agent); err != nil {
			return err
		}
	}
	m.met.Items(d.states())
	return nil
}

// states counts the agents with a desired topology in the master's copy,
// by whether their drift flag is raised.
func (d *dirtySet) states() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	desired, drifted := 0, 0
	for path := range d.kvs {
		if _, ok := DesiredTopologies.ID(path); ok {
			desired++
		} else if _, ok := DriftFlags.ID(path); ok {
			drifted++
		}
	}
	return map[string]int{"in_sync": max(0, desired-drifted), "drifted": drifted}
}
