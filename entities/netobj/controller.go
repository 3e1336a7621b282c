package netobj

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// Defaults of a Controller.
const (
	DefaultObserveInterval = 10 * time.Second
	DefaultLeaseTTL        = 10 * time.Second
	// statusBatch bounds the status writes of one transaction, well
	// below etcd's default limit of 128 operations.
	statusBatch = 64
)

// Controller applies the desired network objects of one target host to
// its system through a Driver and writes back what it observed. It is
// the only writer of the target's observed keys and of its liveness key.
type Controller struct {
	// Config is the store.
	Config *config.Config
	// Target is the host whose objects it applies.
	Target string
	// Driver applies objects to the system.
	Driver Driver
	// DriverName is recorded in the liveness key ("netlink", "memory").
	DriverName string
	// Paths is the store layout (the zero value is DefaultRoot).
	Paths Paths
	// ObserveInterval is how often the system is re-read even when the
	// store did not change, to repair drift; 0 means
	// DefaultObserveInterval.
	ObserveInterval time.Duration
	// LeaseTTL is the TTL of the liveness key's lease; 0 means
	// DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Commit tunes every commit.
	Commit CommitOptions
	// Now is the clock of applied_at; nil means time.Now.
	Now func() time.Time
	// OnPass, when not nil, is called after each pass with its report.
	OnPass func(Pass)
	// Its passes are reported to the Config's Telemetry (metrics
	// sdpconfig_netobj_*, a span per pass, logs of failed objects).

	mu sync.Mutex
	w  *config.Watcher
}

// Pass reports one pass of a controller's loop.
type Pass struct {
	// N counts passes from 1.
	N int
	// Results are the transitions of the last commit attempt, plus one
	// TransitionFailed result per object that failed in this pass.
	Results []Result
	// Failed maps "kind/id" to the error of each object that failed.
	Failed map[string]error
	// Writes is the number of status keys written or deleted.
	Writes int
	// Err is why the system could not be read in this pass (the pass then
	// changes nothing; the next one tries again).
	Err error
	// Desired is the number of desired objects of the target.
	Desired int
}

// Trigger makes a running loop pass again at once (to observe drift now).
// It does nothing when no loop runs (before Run has started its loop).
func (c *Controller) Trigger() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w != nil {
		c.w.Trigger()
	}
}

// Run registers the target as alive (a key bound to a lease) and runs the
// watch loop until ctx ends (returning nil) or the store fails: each pass
// reads the desired and observed objects, commits the difference to the
// system, and writes the statuses that changed. A pass runs when a
// desired or observed key of the target changes, when Trigger is called,
// and every ObserveInterval, so drift on the system (an address removed
// behind its back) is repaired. An object that fails is recorded as
// StateError with its error, and the commit is retried without it, so one
// bad object does not hold back the others.
func (c *Controller) Run(ctx context.Context) error {
	if c.Config == nil || c.Driver == nil || c.Target == "" {
		return errors.New("netobj: Controller needs Config, Driver and Target")
	}
	lease, err := c.register(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer func() {
		// Revoke the lease so the liveness key goes at once.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = lease.Revoke(rctx)
		lease.Close()
	}()
	tel := c.Config.Telemetry()
	met, err := telemetry.NewController("netobj", tel.Registerer, tel.TracerProvider, tel.Logger)
	if err != nil {
		return fmt.Errorf("netobj: target %q: %w", c.Target, err)
	}
	met.Leader(true)
	defer met.Leader(false)
	w := c.Config.Watcher(watcher.Options{Timeout: cmp.Or(c.ObserveInterval, DefaultObserveInterval)})
	c.mu.Lock()
	c.w = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.w = nil
		c.mu.Unlock()
		w.Close()
	}()
	n := 0
	err = w.Run(ctx, func(ctx context.Context, it *config.Iteration) error {
		select {
		case <-lease.Done():
			// The lease ended (expired while the store was unreachable):
			// register again on a new one.
			l, err := c.register(ctx)
			if err != nil {
				return err
			}
			lease.Close()
			lease = l
		default:
		}
		n++
		pctx, done := met.Pass(ctx)
		p, err := c.pass(pctx, it)
		// A pass that could not read the system (p.Err) failed too.
		done(cmp.Or(err, p.Err))
		if err != nil {
			return err
		}
		for id, ferr := range p.Failed {
			met.Log.Warn("netobj: object failed", "target", c.Target, "object", id, "err", ferr)
		}
		met.Items(map[string]int{"applied": max(0, p.Desired-len(p.Failed)), "error": len(p.Failed)})
		p.N = n
		if c.OnPass != nil {
			c.OnPass(p)
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (c *Controller) register(ctx context.Context) (backend.Lease, error) {
	l, err := c.Config.Lease(ctx, cmp.Or(c.LeaseTTL, DefaultLeaseTTL))
	if err != nil {
		return nil, fmt.Errorf("netobj: liveness lease of %q: %w", c.Target, err)
	}
	host, _ := os.Hostname()
	v, err := config.Marshal(Alive{Target: c.Target, Hostname: host, PID: os.Getpid(), Driver: c.DriverName, StartedAt: c.now().Format(time.RFC3339)})
	if err == nil {
		err = c.Config.Txn(ctx, func(t *config.Txn) error {
			return t.Put(c.Paths.Alive(c.Target), v, txn.WithLease(l.ID()))
		})
	}
	if err != nil {
		// The put may have committed (its outcome unknown): revoke, so
		// that no liveness key outlives this failure.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = l.Revoke(rctx)
		l.Close()
		return nil, fmt.Errorf("netobj: liveness key %q: %w", c.Paths.Alive(c.Target), err)
	}
	return l, nil
}

func (c *Controller) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// pass is one iteration: read, commit, write statuses.
func (c *Controller) pass(ctx context.Context, it *config.Iteration) (Pass, error) {
	var desired map[Ref]Object
	var observed map[Ref]Status
	var intents map[Ref]Object
	err := it.Txn(ctx, func(t *config.Txn) error {
		var err error
		if desired, err = c.Paths.ListDesired(t.Txn, c.Target); err != nil {
			return err
		}
		if observed, err = c.Paths.ListObserved(t.Txn, c.Target); err != nil {
			return err
		}
		intents, err = c.Paths.ListIntents(t.Txn, c.Target)
		return err
	})
	if err != nil {
		return Pass{}, err
	}

	refs := map[string]Ref{}
	var changes []Change
	p := Pass{Failed: map[string]error{}, Desired: len(desired)}
	for r, o := range desired {
		if o.Kind != r.Kind {
			// Stored under another kind's path: refuse it, touch nothing.
			refs[r.String()] = r
			p.Failed[r.String()] = fmt.Errorf("%w: %q holds an object of kind %s, not %s", ErrInvalidObject, c.Paths.Desired(c.Target, r.Kind, r.ID), o.Kind, r.Kind)
			continue
		}
		ch := Change{ID: r.String(), Desired: &o}
		if st, ok := observed[r]; ok {
			ch.Applied = st.Object
		} else if in, ok := intents[r]; ok {
			ch.Applied = &in // applied, perhaps, by a controller killed before its status
		}
		refs[ch.ID] = r
		changes = append(changes, ch)
	}
	for r, st := range observed {
		if _, ok := desired[r]; ok {
			continue
		}
		refs[r.String()] = r
		changes = append(changes, Change{ID: r.String(), Applied: st.Object})
	}
	for r, in := range intents {
		// An object a killed controller may have applied, neither desired
		// nor recorded since: remove it, or it stays on the system for good.
		if _, ok := desired[r]; ok {
			continue
		}
		if _, ok := observed[r]; ok {
			continue
		}
		refs[r.String()] = r
		changes = append(changes, Change{ID: r.String(), Applied: &in})
	}
	slices.SortFunc(changes, func(a, b Change) int { return cmp.Compare(a.ID, b.ID) })
	written, err := c.writeIntents(ctx, it, changes, refs, intents)
	if err != nil {
		if ctx.Err() != nil {
			return Pass{}, nil
		}
		return Pass{}, err
	}

	// Commit; drop each failed object and commit the rest again.
	var results []Result
	unsure := map[Ref]bool{} // rollback failed: the object's state is unknown
	for len(changes) > 0 {
		rs, err := Commit(ctx, c.Driver, changes, c.Commit)
		var ce *CommitError
		if err == nil {
			results = rs
			break
		}
		if !errors.As(err, &ce) {
			// The system could not be read: try again at the next pass.
			p.Err = err
			results = nil
			for _, ch := range changes {
				if ch.Desired != nil || ch.Applied != nil {
					results = append(results, Result{ID: ch.ID, Transition: TransitionSkipped})
				}
			}
			break
		}
		if ctx.Err() != nil {
			return p, nil
		}
		// The object's own error; the rollback's, if any, too.
		p.Failed[ce.ID] = errors.Join(ce.Err, ce.Rollback)
		if ce.Rollback != nil {
			unsure[refs[ce.ID]] = true
		}
		changes = slices.DeleteFunc(changes, func(ch Change) bool { return ch.ID == ce.ID })
	}
	p.Results = results
	for id, err := range p.Failed {
		p.Results = append(p.Results, Result{ID: id, Transition: TransitionFailed, Err: err})
	}

	// Statuses that differ.
	now := c.now().UTC().Format(time.RFC3339Nano)
	type write struct {
		path string
		st   *Status // nil: delete
	}
	var writes []write
	for _, r := range p.Results {
		ref := refs[r.ID]
		old, had := observed[ref]
		path := c.Paths.Observed(c.Target, ref.Kind, ref.ID)
		var st Status
		switch r.Transition {
		case TransitionFailed:
			st = Status{State: StateError, Object: old.Object, LastError: r.Err.Error(), AppliedAt: old.AppliedAt}
		case TransitionSkipped:
			continue
		case TransitionRemove, TransitionAbsent:
			if _, want := desired[ref]; !want {
				if had {
					writes = append(writes, write{path: path})
				}
				continue
			}
			continue
		case TransitionClean:
			st = Status{State: StateSystem, Object: r.Object, AppliedAt: old.AppliedAt}
			if st.AppliedAt == "" || old.State != StateSystem || !reflect.DeepEqual(old.Object, r.Object) {
				st.AppliedAt = now
			}
		default: // add, set, replace
			st = Status{State: StateSystem, Object: r.Object, AppliedAt: now}
		}
		if had && reflect.DeepEqual(old, st) {
			continue
		}
		writes = append(writes, write{path: path, st: &st})
	}
	slices.SortFunc(writes, func(a, b write) int { return cmp.Compare(a.path, b.path) })
	for chunk := range slices.Chunk(writes, statusBatch) {
		vals := make([]string, len(chunk))
		for i, w := range chunk {
			if w.st != nil {
				v, err := config.Marshal(w.st)
				if err != nil {
					return p, err
				}
				vals[i] = v
			}
		}
		// A watcher transaction: the next pass reads at least at its
		// revision, so it sees the statuses this one wrote.
		err := it.Txn(ctx, func(t *config.Txn) error {
			for i, w := range chunk {
				var err error
				if w.st == nil {
					err = t.Delete(w.path, txn.DeleteOptions{})
				} else {
					err = t.Put(w.path, vals[i])
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return p, nil
			}
			return p, fmt.Errorf("netobj: write statuses of %q: %w", c.Target, err)
		}
		p.Writes += len(chunk)
	}
	if err := c.clearIntents(ctx, it, p, intents, written, unsure); err != nil {
		if ctx.Err() != nil {
			return p, nil
		}
		return p, err
	}
	return p, nil
}
