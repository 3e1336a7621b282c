package datasync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/telemetry"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// Status is what the active syncer of a synchronisation last did, written
// at /datasync/status/<name> after every full sync and every change.
type Status struct {
	Leader    config.OwnerInfo `json:"leader"`
	Full      bool             `json:"full"`
	Started   time.Time        `json:"started"`
	Finished  time.Time        `json:"finished"`
	Runs      int              `json:"runs"`
	Converged bool             `json:"converged"`
	Changes   int              `json:"changes"`
	Error     string           `json:"error,omitempty"`
	// Request is the id of the last on-demand request the sync answered.
	Request string `json:"request,omitempty"`
	// Operations of the last run that changed something (at most
	// MaxStatusOps; Omitted counts the rest).
	Operations []Operation `json:"operations"`
	Omitted    int         `json:"omitted,omitempty"`
}

// Request asks the active syncer for a full sync; ID must change with every
// request.
type Request struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

// MaxStatusOps bounds the operations a Status keeps.
const MaxStatusOps = 200

// The store keys of a synchronisation named n: its status at
// /datasync/status/<n>, its election at /datasync/leader/<n>/owner, its
// on-demand requests at /datasync/request/<n>.
var (
	Statuses = config.MustKind[Status]("/datasync/status")
	Leaders  = config.MustKind[struct{}]("/datasync/leader")
	Requests = config.MustKind[Request]("/datasync/request")
)

// ControllerOptions tune a Controller.
type ControllerOptions struct {
	// Period between full syncs when nothing else happens (0: one minute).
	Period time.Duration
	// MaxRuns per full sync (0: 10).
	MaxRuns int
	// MaxOne is how many changed entities are synchronised one by one;
	// more make a full sync (0: 100).
	MaxOne int
}

// Controller runs a Syncer as a service on a Config: it is active only
// while it owns the election key of its name (bound to its client lease:
// one active syncer at a time, another takes over when the lease ends); it
// syncs everything at start, periodically, on Trigger and on a Request in
// the store; and it syncs one entity when that entity of a StoreSource on
// its Config changes. After each sync it writes the Status.
type Controller struct {
	c    *config.Config
	name string
	s    *Syncer
	opts ControllerOptions
	w    *config.Watcher

	met    *telemetry.Controller
	metErr error // from registering met: Run returns it

	prev    map[string]int64 // watched path -> mod revision at the last sync
	lastReq string
}

// NewController returns a controller of synchronisation name running s on
// c. It does nothing until Run.
func NewController(c *config.Config, name string, s *Syncer, opts ControllerOptions) *Controller {
	if opts.Period <= 0 {
		opts.Period = time.Minute
	}
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = 10
	}
	if opts.MaxOne <= 0 {
		opts.MaxOne = 100
	}
	tel := c.Telemetry()
	met, err := telemetry.NewController("datasync", tel.Registerer, tel.TracerProvider, tel.Logger)
	return &Controller{c: c, name: name, s: s, opts: opts, w: c.Watcher(watcher.Options{Timeout: opts.Period}), met: met, metErr: err}
}

// Trigger asks the running loop for a full sync.
func (ctl *Controller) Trigger() { ctl.w.Trigger() }

// Close stops Run; no goroutine of the Controller outlives it.
func (ctl *Controller) Close() error { return ctl.w.Close() }

// Run runs the loop until ctx ends or Close; it returns the cause, or the
// first error of the store. Sync errors do not stop it: they are recorded
// in the Status.
func (ctl *Controller) Run(ctx context.Context) error {
	if ctl.metErr != nil {
		return fmt.Errorf("datasync: controller %q: %w", ctl.name, ctl.metErr)
	}
	defer ctl.met.Leader(false)
	return ctl.w.Run(ctx, func(ctx context.Context, it *config.Iteration) error {
		ctx, done := ctl.met.Pass(ctx)
		err := ctl.iterate(ctx, it)
		done(err)
		return err
	})
}

// watched returns the prefixes (of StoreSources on the controller's
// Config) of the types the mappings use, with each one's side.
func (ctl *Controller) watched() map[string]Side {
	out := map[string]Side{}
	for _, sd := range []Side{Left, Right} {
		ss, ok := ctl.s.sources[sd].(*StoreSource)
		if !ok || ss.Config() != ctl.c {
			continue
		}
		for _, m := range ctl.s.mappings {
			typ := m.Left
			if sd == Right {
				typ = m.Right
			}
			out[ss.Kind(typ).Prefix()+"/"] = sd
		}
	}
	return out
}

func (ctl *Controller) iterate(ctx context.Context, it *config.Iteration) error {
	var leader bool
	var snap map[string]int64
	var req Request
	watched := ctl.watched()
	err := it.Txn(ctx, func(t *config.Txn) error {
		leader, snap, req = false, map[string]int64{}, Request{}
		alive, err := Leaders.IsAlive(t, ctl.name)
		if err != nil {
			return err
		}
		if !alive {
			if err := Leaders.TakeOwnership(t, ctl.name, config.OwnerInfo{}); err != nil {
				return err
			}
			leader = true
		} else if leader, err = Leaders.IsOwner(t, ctl.name); err != nil {
			return err
		}
		if !leader {
			return nil
		}
		if r, err := Requests.Get(t, ctl.name); err == nil {
			req = r
		}
		for prefix := range watched {
			kvs, err := t.ListValues(prefix, txn.ListOptions{})
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				snap[kv.Path] = kv.ModRevision
			}
		}
		return nil
	})
	if err == nil {
		ctl.met.Leader(leader)
	}
	if err != nil || !leader {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}
	full := ctl.prev == nil || it.Reason() != watcher.Changed || it.Triggered() || req.ID != ctl.lastReq
	var changed []Endpoint
	if !full {
		for p, rev := range snap {
			if old, ok := ctl.prev[p]; !ok || old != rev {
				for prefix, sd := range watched {
					if len(p) > len(prefix) && p[:len(prefix)] == prefix {
						if ref, ok := ctl.s.sources[sd].(*StoreSource).RefOf(p); ok {
							changed = append(changed, Endpoint{Source: ctl.s.sources[sd].Name(), Ref: ref})
						}
					}
				}
			}
		}
		for p := range ctl.prev {
			if _, ok := snap[p]; !ok {
				full = true // a deletion: orphans are found by a full pass
			}
		}
		if len(changed) > ctl.opts.MaxOne {
			full = true
		}
	}
	ctl.prev = snap
	prevReq := ctl.lastReq
	ctl.lastReq = req.ID
	st := Status{Leader: ctl.c.Owner(), Full: full, Started: time.Now(), Request: req.ID}
	var runs []Run
	if full {
		runs, err = ctl.s.Converge(ctx, ctl.opts.MaxRuns)
		st.Converged = err == nil
	} else {
		if len(changed) == 0 {
			return nil
		}
		sort.Slice(changed, func(i, j int) bool { return changed[i].String() < changed[j].String() })
		var r Run
		for _, e := range changed {
			sd := Left
			if e.Source == ctl.s.sources[Right].Name() {
				sd = Right
			}
			var one Run
			one, err = ctl.s.SyncOne(ctx, sd, e.Ref)
			r.Ops = append(r.Ops, one.Ops...)
			if err != nil {
				break
			}
		}
		runs = []Run{r}
		if Changes(r.Ops) == 0 && err == nil {
			return nil // our own writes coming back: nothing to report
		}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if full && err == nil && it.Reason() == watcher.Changed && req.ID == prevReq && totalChanges(runs) == 0 {
		// Woken by writes (ours, typically) that needed nothing: keep the
		// status of the sync that made them.
		return nil
	}
	st.Finished, st.Runs = time.Now(), len(runs)
	if err != nil {
		st.Error = err.Error()
		ctl.met.Log.Warn("datasync: sync failed", "sync", ctl.name, "full", full, "err", err)
	}
	ops := map[string]int{}
	for _, r := range runs {
		for _, op := range r.Ops {
			ops[string(op.Kind)]++
		}
	}
	ctl.met.Items(ops)
	for _, r := range runs {
		st.Changes += r.Changes()
		if r.Changes() > 0 || len(st.Operations) == 0 {
			st.Operations, st.Omitted = r.Ops, 0
		}
	}
	if len(st.Operations) > MaxStatusOps {
		st.Omitted = len(st.Operations) - MaxStatusOps
		st.Operations = st.Operations[:MaxStatusOps]
	}
	return WriteStatus(ctx, ctl.c, ctl.name, st)
}

func totalChanges(runs []Run) int {
	n := 0
	for _, r := range runs {
		n += r.Changes()
	}
	return n
}

// WriteStatus writes the status of synchronisation name.
func WriteStatus(ctx context.Context, c *config.Config, name string, st Status) error {
	if err := c.Txn(ctx, func(t *config.Txn) error { return Statuses.CreateOrUpdate(t, name, st) }); err != nil {
		return fmt.Errorf("datasync: write status of %q: %w", name, err)
	}
	return nil
}

// ReadStatus reads the status of synchronisation name (an error wrapping
// backend.ErrNotFound if none was written).
func ReadStatus(ctx context.Context, c *config.Config, name string) (Status, error) {
	var st Status
	err := c.Txn(ctx, func(t *config.Txn) error {
		var err error
		st, err = Statuses.Get(t, name)
		return err
	})
	return st, err
}

// RequestSync asks the active controller of name for a full sync and
// returns the request id its Status will carry once it is answered.
func RequestSync(ctx context.Context, c *config.Config, name string) (string, error) {
	id := fmt.Sprintf("%d", time.Now().UnixNano())
	err := c.Txn(ctx, func(t *config.Txn) error {
		return Requests.CreateOrUpdate(t, name, Request{ID: id, At: time.Now().UTC()})
	})
	if err != nil {
		return "", fmt.Errorf("datasync: request sync of %q: %w", name, err)
	}
	return id, nil
}

// ErrActive is returned by RunOnce when a controller is active.
var ErrActive = errors.New("datasync: a syncer is active")

// RunOnce takes the election of name (failing with an error wrapping
// ErrActive if a controller holds it), converges s once, writes the Status
// and releases the election.
func RunOnce(ctx context.Context, c *config.Config, name string, s *Syncer, maxRuns int) (Status, error) {
	err := c.Txn(ctx, func(t *config.Txn) error { return Leaders.TakeOwnership(t, name, config.OwnerInfo{}) })
	if errors.Is(err, backend.ErrCollision) {
		return Status{}, fmt.Errorf("%w: %q: %w", ErrActive, name, err)
	}
	if err != nil {
		return Status{}, fmt.Errorf("datasync: elect %q: %w", name, err)
	}
	defer c.Txn(context.WithoutCancel(ctx), func(t *config.Txn) error { return Leaders.ReleaseOwnership(t, name) })
	st := Status{Leader: c.Owner(), Full: true, Started: time.Now()}
	runs, err := s.Converge(ctx, maxRuns)
	st.Finished, st.Runs, st.Converged = time.Now(), len(runs), err == nil
	if err != nil {
		st.Error = err.Error()
	}
	for _, r := range runs {
		st.Changes += r.Changes()
		if r.Changes() > 0 || len(st.Operations) == 0 {
			st.Operations = r.Ops
		}
	}
	if len(st.Operations) > MaxStatusOps {
		st.Omitted = len(st.Operations) - MaxStatusOps
		st.Operations = st.Operations[:MaxStatusOps]
	}
	if werr := WriteStatus(ctx, c, name, st); werr != nil && err == nil {
		err = werr
	}
	return st, err
}

// SyncStatus is a synchronisation's last status and whether a controller
// holds its election key.
type SyncStatus struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Status Status `json:"status"`
}

// ReadStatuses reads the status of every synchronisation (name "") or of
// one, sorted by name, in t.
func ReadStatuses(t *config.Txn, name string) ([]SyncStatus, error) {
	names, err := Statuses.List(t)
	if err != nil {
		return nil, err
	}
	var out []SyncStatus
	for _, n := range names {
		if name != "" && n != name {
			continue
		}
		st, err := Statuses.Get(t, n)
		if err != nil {
			return nil, err
		}
		alive, err := Leaders.IsAlive(t, n)
		if err != nil {
			return nil, err
		}
		out = append(out, SyncStatus{Name: n, Active: alive, Status: st})
	}
	return out, nil
}
