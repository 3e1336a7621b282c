package topology

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// Defaults of AgentOptions.
const (
	DefaultLeaseTTL        = 10 * time.Second
	DefaultObserveInterval = 5 * time.Second
	DefaultRetryInterval   = 100 * time.Millisecond
	// DefaultCallTimeout bounds each Apply, Observe and Teardown call.
	DefaultCallTimeout = 5 * time.Minute
	maxRetryInterval   = 5 * time.Second
)

// AgentOptions configure an Agent.
type AgentOptions struct {
	// Agent is the agent's name, the <agent> of its keys. Required.
	Agent string
	// Applier makes topologies real. Required.
	Applier Applier
	// CachePath is the bbolt file caching the applied row for offline
	// answers (Agent.Cached); "" keeps no cache.
	CachePath string
	// LeaseTTL is the heartbeat lease's time to live; 0 means
	// DefaultLeaseTTL.
	LeaseTTL time.Duration
	// ObserveInterval is how often the agent observes and heartbeats when
	// nothing else happens; 0 means DefaultObserveInterval.
	ObserveInterval time.Duration
	// RetryInterval is the first wait after the loop failed (store
	// unreachable); it doubles up to 5s. 0 means DefaultRetryInterval.
	RetryInterval time.Duration
	// CallTimeout bounds each call of the Applier (Apply, Observe,
	// Teardown): its context ends then, and a call that ends with it is
	// recorded as the row's error ("did not finish within ..."), so that a
	// hung apply does not leave a live heartbeat behind the desired
	// generation for good. 0 means DefaultCallTimeout.
	CallTimeout time.Duration
	// Now gives applied_at; nil means time.Now.
	Now func() time.Time
}

// Agent is the agent side of the controller. Run watches the agent's
// desired key and, when it changes (a new push or a generation bump),
// checks the version hash, applies through the Applier and records the
// result in the applied row; every pass heartbeats on a lease with the
// applied hash and the observed state.
//
// No auto-restore on boot: the first pass of a new Agent only reports what
// the store says was applied, whatever the desired key holds; the master
// decides whether to re-push. A loop cut by a lost store is restarted with
// backoff and keeps what it had seen, so it does not apply again when the
// store comes back. Apply and teardown errors (and panics) are truncated
// and recorded, never returned.
type Agent struct {
	cfg   *config.Config
	opts  AgentOptions
	now   func() time.Time
	cache *Cache
	met   *telemetry.Controller

	mu      sync.Mutex
	lease   backend.Lease
	started bool   // the first pass is done
	seen    stamp  // the desired state last acted on (or seen first)
	local   string // an error that could not be recorded in the row
	lastErr error  // the last error that restarted the loop
	w       *config.Watcher
}

// stamp identifies one push: a change in any field is a new push.
type stamp struct {
	present bool
	id      string
	hash    string
	gen     int64
}

// NewAgent returns an agent over cfg; it opens the cache file if
// opts.CachePath is set. Close it after Run returns.
func NewAgent(cfg *config.Config, opts AgentOptions) (*Agent, error) {
	if opts.Agent == "" || opts.Applier == nil {
		return nil, errors.New("topology: NewAgent needs an agent name and an Applier")
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.ObserveInterval <= 0 {
		opts.ObserveInterval = DefaultObserveInterval
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = DefaultRetryInterval
	}
	tel := cfg.Telemetry()
	met, err := telemetry.NewController("topology_agent", tel.Registerer, tel.TracerProvider, tel.Logger)
	if err != nil {
		return nil, fmt.Errorf("topology: agent %q: %w", opts.Agent, err)
	}
	a := &Agent{cfg: cfg, opts: opts, now: opts.Now, met: met}
	if a.now == nil {
		a.now = time.Now
	}
	if opts.CachePath != "" {
		c, err := OpenCache(opts.CachePath)
		if err != nil {
			return nil, err
		}
		a.cache = c
	}
	return a, nil
}

// Cached returns the applied row the agent last saw in the store, from its
// cache file: what it last applied, with what hash, without the store. It
// returns false when nothing is cached or the agent has no cache.
func (a *Agent) Cached() (AppliedRow, bool, error) {
	if a.cache == nil {
		return AppliedRow{}, false, nil
	}
	return a.cache.Get()
}

// LastError returns the last error that cut the loop (the store was
// unreachable, ...), or nil.
func (a *Agent) LastError() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastErr
}

// Trigger makes a running loop observe and heartbeat now.
func (a *Agent) Trigger() {
	a.mu.Lock()
	w := a.w
	a.mu.Unlock()
	if w != nil {
		w.Trigger()
	}
}

// Run runs the agent's loop until ctx ends (returning its cause) or the
// Config closes (an error wrapping backend.ErrClosed). Other failures
// restart the loop after a backoff. Run must not be called twice at once.
func (a *Agent) Run(ctx context.Context) error {
	wait := a.opts.RetryInterval
	for {
		w := a.cfg.Watcher(watcher.Options{Timeout: a.opts.ObserveInterval})
		a.mu.Lock()
		a.w = w
		a.mu.Unlock()
		progressed := false
		err := w.Run(ctx, func(ctx context.Context, it *config.Iteration) error {
			ctx, done := a.met.Pass(ctx)
			err := a.iterate(ctx, it)
			done(err)
			if err != nil {
				return err
			}
			progressed = true
			return nil
		})
		w.Close()
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if errors.Is(err, backend.ErrClosed) {
			return err
		}
		a.mu.Lock()
		a.lastErr = err
		a.mu.Unlock()
		if progressed {
			wait = a.opts.RetryInterval
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

// Close ends the heartbeat lease's keep-alive (the heartbeat vanishes when
// its TTL runs out) and closes the cache. Call it after Run returned.
func (a *Agent) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	if a.lease != nil {
		errs = append(errs, a.lease.Close())
		a.lease = nil
	}
	if a.cache != nil {
		errs = append(errs, a.cache.Close())
		a.cache = nil
	}
	return errors.Join(errs...)
}

// agentView is what one pass reads.
type agentView struct {
	desired    Desired
	hasDesired bool
	row        AppliedRow
	hasRow     bool
	hb         backend.KeyValue
	hasHB      bool
}

// read reads the agent's keys in t.
func (v *agentView) read(t *config.Txn, agent string) error {
	*v = agentView{}
	d, err := DesiredTopologies.Get(t, agent)
	switch {
	case err == nil:
		v.desired, v.hasDesired = d, true
	case !errors.Is(err, backend.ErrNotFound):
		return err
	}
	if v.row, v.hasRow, err = currentRow(t, agent); err != nil {
		return err
	}
	v.hb, v.hasHB, err = t.GetKV(Heartbeats.Path(agent))
	return err
}

// stamp returns the push the view holds.
func (v *agentView) stamp() stamp {
	if !v.hasDesired {
		return stamp{}
	}
	return stamp{present: true, id: v.desired.TopologyID, hash: v.desired.Hash, gen: v.desired.Generation}
}

// iterate is one pass of the loop.
func (a *Agent) iterate(ctx context.Context, it *config.Iteration) error {
	agent := a.opts.Agent
	var v agentView
	read := func() error { return it.Txn(ctx, func(t *config.Txn) error { return v.read(t, agent) }) }
	if err := read(); err != nil {
		return err
	}
	cur := v.stamp()
	if !a.started {
		a.started, a.seen = true, cur // no auto-restore: the first pass reports only
	} else if cur != a.seen {
		if err := a.act(ctx, it, &v); err != nil {
			return err
		}
		a.seen = cur
		if err := read(); err != nil {
			return err
		}
	}
	if a.cache != nil {
		if err := a.cache.Set(v.row, v.hasRow); err != nil {
			return err
		}
	}
	return a.heartbeat(ctx, it, &v)
}

// act applies (or tears down) what the desired key says, recording the
// outcome. It returns only errors of the store.
func (a *Agent) act(ctx context.Context, it *config.Iteration, v *agentView) error {
	agent := a.opts.Agent
	a.local = ""
	if !v.hasDesired {
		if !v.hasRow {
			return nil
		}
		return a.teardown(ctx, it, v.row)
	}
	d := v.desired
	if err := VerifyDesired(d); err != nil {
		return a.recordError(ctx, it, d.TopologyID, fmt.Sprintf("refused push of generation %d: %v", d.Generation, err), nil)
	}
	if v.hasRow && v.row.TopologyID != d.TopologyID {
		if err := a.teardown(ctx, it, v.row); err != nil || a.local != "" {
			return err
		}
	}
	hydrated, err := a.call(ctx, "apply", func(ctx context.Context) (map[string]any, error) {
		return a.opts.Applier.Apply(ctx, d.TopologyID, d.Spec)
	})
	if err != nil {
		return a.recordError(ctx, it, d.TopologyID, "apply: "+err.Error(), hydrated)
	}
	now := a.now().Unix()
	return it.Txn(ctx, func(t *config.Txn) error {
		_, err := putRow(t, agent, d.TopologyID, d.Hash, hydrated, now)
		return err
	})
}

// teardown tears row's topology down and clears the row.
func (a *Agent) teardown(ctx context.Context, it *config.Iteration, row AppliedRow) error {
	_, err := a.call(ctx, "teardown", func(ctx context.Context) (map[string]any, error) {
		return nil, a.opts.Applier.Teardown(ctx, row.TopologyID, row.Hydrated)
	})
	if err != nil {
		return a.recordError(ctx, it, row.TopologyID, "teardown: "+err.Error(), nil)
	}
	return it.Txn(ctx, func(t *config.Txn) error {
		_, err := clearRow(t, a.opts.Agent, row.TopologyID)
		return err
	})
}

// recordError records msg on the applied row; when the row belongs to
// another topology, it keeps it for the heartbeat instead.
func (a *Agent) recordError(ctx context.Context, it *config.Iteration, topologyID, msg string, hydrated map[string]any) error {
	err := it.Txn(ctx, func(t *config.Txn) error {
		_, err := recordError(t, a.opts.Agent, topologyID, msg, hydrated)
		return err
	})
	if errors.Is(err, ErrAlreadyApplied) {
		a.local = Truncate(msg)
		return nil
	}
	return err
}

// heartbeat observes and writes the heartbeat on the lease if it differs
// from the stored one (or is missing, or on another lease).
func (a *Agent) heartbeat(ctx context.Context, it *config.Iteration, v *agentView) error {
	obs, err := a.call(ctx, "observe", func(ctx context.Context) (map[string]any, error) { return a.opts.Applier.Observe(ctx) })
	if err != nil {
		obs = map[string]any{"error": Truncate(err.Error())}
	}
	hb := Heartbeat{Generation: a.seen.gen, Observed: nonNil(obs), LastError: a.local}
	if v.hasRow {
		hb.TopologyID, hb.AppliedHash = v.row.TopologyID, v.row.AppliedVersionHash
		if v.row.LastError != "" {
			hb.LastError = v.row.LastError
		}
	}
	val, err := config.Marshal(hb)
	if err != nil {
		return err
	}
	lease, err := a.ensureLease(ctx)
	if err != nil {
		return err
	}
	if v.hasHB && v.hb.Value == val && v.hb.Lease == lease.ID() {
		return nil
	}
	err = it.Txn(ctx, func(t *config.Txn) error {
		return t.Put(Heartbeats.Path(a.opts.Agent), val, txn.WithLease(lease.ID()))
	})
	if errors.Is(err, backend.ErrLeaseExpired) {
		a.dropLease()
	}
	return err
}

// ensureLease returns a live heartbeat lease, granting a new one if the
// last one ended.
func (a *Agent) ensureLease(ctx context.Context) (backend.Lease, error) {
	a.mu.Lock()
	l := a.lease
	a.mu.Unlock()
	if l != nil {
		select {
		case <-l.Done():
			a.dropLease()
		default:
			return l, nil
		}
	}
	l, err := a.cfg.Lease(ctx, a.opts.LeaseTTL)
	if err != nil {
		return nil, fmt.Errorf("topology: agent %q: heartbeat lease: %w", a.opts.Agent, err)
	}
	a.mu.Lock()
	a.lease = l
	a.mu.Unlock()
	return l, nil
}

// dropLease forgets the current lease.
func (a *Agent) dropLease() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lease != nil {
		a.lease.Close()
		a.lease = nil
	}
}

// safeCall calls f, turning a panic into an error.
// call runs an Applier call f under the agent's CallTimeout, through
// safeCall; an error after the deadline says so.
func (a *Agent) call(ctx context.Context, what string, f func(context.Context) (map[string]any, error)) (map[string]any, error) {
	timeout := cmp.Or(a.opts.CallTimeout, DefaultCallTimeout)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := safeCall(func() (map[string]any, error) { return f(cctx) })
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%s did not finish within %v: %w", what, timeout, err)
	}
	return m, err
}

func safeCall(f func() (map[string]any, error)) (m map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}
