package datasync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// ErrNotConverged is returned by Converge when the last allowed run still
// changed something.
var ErrNotConverged = errors.New("datasync: not converged")

// Side is one of the two sources of a Syncer.
type Side int

// The sides of a Syncer.
const (
	Left Side = iota
	Right
)

// String returns "left" or "right".
func (s Side) String() string {
	if s == Left {
		return "left"
	}
	return "right"
}

func (s Side) other() Side { return 1 - s }

// Syncer synchronises a left and a right DataSource by a list of Mappings,
// keeping its links in Links. A Syncer is not meant to run concurrently
// with another Syncer on the same links (Controller elects one); its
// methods may be called from one goroutine at a time.
type Syncer struct {
	sources  [2]DataSource
	links    *Links
	mappings []Mapping
	identity [2]map[string][]string // see identityNames
	log      *slog.Logger
}

// NewSyncer validates the mappings, also against the schema of each
// source that has one (see Schema: every type, key path and attribute
// must exist, or the error names the mapping and the name, with the
// nearest match), and returns a Syncer. log may be nil (no logging);
// skips are logged as warnings, changes as info.
func NewSyncer(leftSrc, rightSrc DataSource, links *Links, mappings []Mapping, log *slog.Logger) (*Syncer, error) {
	if leftSrc == nil || rightSrc == nil || links == nil {
		return nil, errors.New("datasync: NewSyncer needs two sources and links")
	}
	if leftSrc.Name() == rightSrc.Name() {
		return nil, fmt.Errorf("datasync: both sources are named %q", leftSrc.Name())
	}
	for _, m := range mappings {
		if err := m.Validate(); err != nil {
			return nil, err
		}
	}
	if err := checkSchemas([2]DataSource{leftSrc, rightSrc}, mappings); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{
		sources: [2]DataSource{leftSrc, rightSrc}, links: links, log: log,
		mappings: append([]Mapping(nil), mappings...), identity: identityNames(mappings),
	}, nil
}

// Source returns the source on side s.
func (s *Syncer) Source(sd Side) DataSource { return s.sources[sd] }

// Run is the outcome of one run.
type Run struct {
	Started  time.Time   `json:"started"`
	Finished time.Time   `json:"finished"`
	Ops      []Operation `json:"operations"`
}

// Changes counts the operations of the run that changed something.
func (r Run) Changes() int { return Changes(r.Ops) }

// Run synchronises everything once: every mapping in order, left→right
// before right→left. It returns the operations made, also on error (those
// made before it).
func (s *Syncer) Run(ctx context.Context) (Run, error) {
	return s.run(ctx, nil)
}

// SyncOne synchronises one entity of side sd: the passes of every mapping
// whose source type on that side is ref.Type, restricted to that entity.
func (s *Syncer) SyncOne(ctx context.Context, sd Side, ref Ref) (Run, error) {
	return s.run(ctx, &Endpoint{Source: s.sources[sd].Name(), Ref: ref})
}

// Converge repeats Run until a run changes nothing, at most maxRuns times,
// and returns every run. If the last run still changed something, the
// error wraps ErrNotConverged.
func (s *Syncer) Converge(ctx context.Context, maxRuns int) ([]Run, error) {
	var runs []Run
	for i := 0; i < maxRuns; i++ {
		r, err := s.Run(ctx)
		runs = append(runs, r)
		if err != nil {
			return runs, err
		}
		if r.Changes() == 0 {
			return runs, nil
		}
	}
	return runs, fmt.Errorf("%w after %d runs", ErrNotConverged, maxRuns)
}

func (s *Syncer) run(ctx context.Context, only *Endpoint) (Run, error) {
	r := &runState{s: s, ctx: ctx}
	out := Run{Started: time.Now()}
	err := r.all(only)
	out.Ops = r.ops
	out.Finished = time.Now()
	return out, err
}

type typeCache struct {
	byID  map[string]*Entity
	order []string
}

// runState is what one run knows: the entities it read (one Find per type
// and side) and the links (one read), kept up to date with its own writes.
type runState struct {
	s       *Syncer
	ctx     context.Context
	cache   [2]map[string]*typeCache
	links   map[Endpoint][]Endpoint
	ids     map[linkEnds]string // the identity of each link's far end, as linked
	idCache map[Endpoint]string // the identity of each entity seen, this run
	ops     []Operation
	orphans []orphan // deletions queued by the passes
	errs    []error  // the writes sources refused
}

// failed records a write the source refused: op (with the error as its
// Reason) and the error, which the run returns among ErrWritesFailed's.
func (r *runState) failed(op Operation, err error) {
	op.Reason = err.Error()
	r.record(op)
	r.errs = append(r.errs, fmt.Errorf("%s: %w", op.To, err))
}

func (r *runState) all(only *Endpoint) error {
	links, ids, err := r.s.links.all(r.ctx)
	if err != nil {
		return err
	}
	r.links, r.ids = links, ids
	r.cache = [2]map[string]*typeCache{{}, {}}
	for i, m := range r.s.mappings {
		for _, dir := range []Mode{LeftToRight, RightToLeft} {
			if m.modes()&dir == 0 {
				continue
			}
			if err := r.pass(i, m, dir, only); err != nil {
				return fmt.Errorf("datasync: mapping %d (%s), %s: %w", i, m, dir, err)
			}
		}
	}
	if err := r.deleteOrphans(); err != nil {
		return fmt.Errorf("datasync: delete orphans: %w", err)
	}
	if len(r.errs) > 0 {
		// One line, each write with its entity and cause.
		format := "%w (%d): " + strings.TrimSuffix(strings.Repeat("%w; ", len(r.errs)), "; ")
		args := append([]any{ErrWritesFailed, len(r.errs)}, anySlice(r.errs)...)
		return fmt.Errorf(format, args...)
	}
	return nil
}

func (r *runState) entities(sd Side, typ string) (*typeCache, error) {
	if tc, ok := r.cache[sd][typ]; ok {
		return tc, nil
	}
	es, err := r.s.sources[sd].Find(r.ctx, typ, nil)
	if err != nil {
		return nil, fmt.Errorf("find %s in %s: %w", typ, r.s.sources[sd].Name(), err)
	}
	tc := &typeCache{byID: make(map[string]*Entity, len(es)), order: make([]string, 0, len(es))}
	for i := range es {
		tc.byID[es[i].ID] = &es[i]
		tc.order = append(tc.order, es[i].ID)
	}
	r.cache[sd][typ] = tc
	return tc, nil
}

func (r *runState) get(sd Side, ref Ref) (*Entity, error) {
	tc, err := r.entities(sd, ref.Type)
	if err != nil {
		return nil, err
	}
	return tc.byID[ref.ID], nil
}

func (r *runState) endpoint(sd Side, ref Ref) Endpoint {
	return Endpoint{Source: r.s.sources[sd].Name(), Ref: ref}
}

// linked returns the refs of type typ on side to that ref (on side from) is
// linked with; existing only keeps those that exist.
func (r *runState) linked(from Side, ref Ref, typ string, existing bool) ([]Ref, error) {
	var out []Ref
	to := from.other()
	name := r.s.sources[to].Name()
	me := r.endpoint(from, ref)
	for _, e := range r.links[me] {
		if e.Source != name || e.Type != typ {
			continue
		}
		mine, theirs, err := r.joins(me, e)
		if err != nil {
			return nil, err
		}
		if !mine {
			continue
		}
		if existing && !theirs {
			continue // its entity is gone: the id holds another
		}
		if existing {
			x, err := r.get(to, e.Ref)
			if err != nil {
				return nil, err
			}
			if x == nil {
				continue
			}
		}
		out = append(out, e.Ref)
	}
	return out, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// resolve follows path p from e on side sd and returns the value (a Ref
// when ref) and the UpdatedAt of the entity holding it: the row that
// was written when the value was (the last entity of a deep path, e
// itself for a plain name). A path that breaks off holds nothing, as of
// the entity it breaks off at.
func (r *runState) resolve(sd Side, e *Entity, p string, ref bool) (any, time.Time, error) {
	if p == Self {
		return e.Ref(), e.UpdatedAt, nil
	}
	segs := strings.Split(p, ".")
	cur := e
	for i, seg := range segs {
		last := i == len(segs)-1
		if last && !ref {
			return cur.Attrs[seg], cur.UpdatedAt, nil
		}
		next, ok := cur.Refs[seg]
		if !ok || last {
			return refOrNil(next, ok), cur.UpdatedAt, nil
		}
		x, err := r.get(sd, next)
		if err != nil {
			return nil, cur.UpdatedAt, err
		}
		if x == nil {
			return nil, cur.UpdatedAt, nil
		}
		cur = x
	}
	return nil, cur.UpdatedAt, nil
}

// refOrNil returns ref as a value, or nil when there is none.
func refOrNil(ref Ref, ok bool) any {
	if !ok {
		return nil
	}
	return ref
}

// keysOf resolves the mapping's keys of e on side sd, translating
// references to side sd.other() when translate is set. A reference not
// linked yet returns a skip reason.
func (r *runState) keysOf(m Mapping, sd Side, e *Entity, translate bool) ([]any, time.Time, string, error) {
	vals := make([]any, len(m.Keys))
	ts := e.UpdatedAt
	for i, k := range m.Keys {
		p, _ := k.path(sd)
		v, t, err := r.resolve(sd, e, p, k.isRef())
		if err != nil {
			return nil, ts, "", err
		}
		ts = later(ts, t)
		if translate && k.isRef() && v != nil {
			_, hint := k.path(sd.other())
			ref := v.(Ref)
			got, err := r.linked(sd, ref, hint, true)
			if err != nil {
				return nil, ts, "", err
			}
			switch len(got) {
			case 0:
				return nil, ts, fmt.Sprintf("cannot find linked entity of %s.%s: %s not in %s", e.Ref(), p, ref, hint), nil
			case 1:
				v = got[0]
			default:
				return nil, ts, "", fmt.Errorf("%w: %s.%s is %s, linked to %d %s entities %v", ErrAmbiguousLink, e.Ref(), p, ref, len(got), hint, got)
			}
		}
		vals[i] = v
	}
	return vals, ts, "", nil
}

func tupleKey(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = canonical(v)
	}
	return strings.Join(parts, "\x1f")
}

func (r *runState) record(op Operation) {
	r.ops = append(r.ops, op)
	if op.Changed() {
		r.s.log.Info("datasync", "op", op.String())
	} else {
		r.s.log.Warn("datasync", "op", op.String())
	}
}

// anySlice returns errs as a []any, for fmt.
func anySlice(errs []error) []any {
	out := make([]any, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return out
}
