package datasync

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// pass runs one direction of mapping mi over every source entity (or only
// the one named by only).
func (r *runState) pass(mi int, m Mapping, dir Mode, only *Endpoint) error {
	src, dst := Left, Right
	srcType, dstType := m.Left, m.Right
	if dir == RightToLeft {
		src, dst = Right, Left
		srcType, dstType = m.Right, m.Left
	}
	if only != nil && (only.Source != r.s.sources[src].Name() || only.Type != srcType) {
		return nil
	}
	stc, err := r.entities(src, srcType)
	if err != nil {
		return err
	}
	dtc, err := r.entities(dst, dstType)
	if err != nil {
		return err
	}
	p := &passState{r: r, mi: mi, m: m, dir: dir, src: src, dst: dst, srcType: srcType, dstType: dstType, dtc: dtc}
	ids := stc.order
	if only != nil {
		ids = []string{only.ID}
	}
	for _, id := range ids {
		e := stc.byID[id]
		if e == nil {
			continue
		}
		if err := p.one(e); err != nil {
			return err
		}
	}
	if m.DeleteOrphans && only == nil {
		return p.orphans()
	}
	return nil
}

type passState struct {
	r                *runState
	mi               int
	m                Mapping
	dir              Mode
	src, dst         Side
	srcType, dstType string
	dtc              *typeCache
	index            map[string][]string // key tuple -> target ids
}

func (p *passState) op(kind OpKind, from, to Ref) Operation {
	return Operation{Kind: kind, Mapping: p.mi, Direction: p.dir, From: from, To: to}
}

func (p *passState) one(e *Entity) error {
	r := p.r
	vals, _, reason, err := r.keysOf(p.m, p.src, e, true)
	if err != nil {
		return err
	}
	if reason != "" {
		o := p.op(OpSkipMissingLink, e.Ref(), Ref{Type: p.dstType})
		o.Reason = reason
		r.record(o)
		return nil
	}
	counterparts, err := r.linked(p.src, e.Ref(), p.dstType, false)
	if err != nil {
		return err
	}
	if len(counterparts) > 0 {
		// Linked: update the counterparts that still exist; never re-create
		// one that is gone.
		for _, c := range counterparts {
			if d := p.dtc.byID[c.ID]; d != nil {
				if err := p.update(e, d); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := p.buildIndex(); err != nil {
		return err
	}
	matches := p.index[tupleKey(vals)]
	switch len(matches) {
	case 0:
		return p.create(e, vals)
	case 1:
		d := p.dtc.byID[matches[0]]
		if err := p.link(e, d); err != nil {
			return err
		}
		return p.update(e, d)
	default:
		o := p.op(OpSkipAmbiguous, e.Ref(), Ref{Type: p.dstType})
		o.Reason = fmt.Sprintf("keys of %s match %d %s entities %v", e.Ref(), len(matches), p.dstType, matches)
		r.record(o)
		return nil
	}
}

// buildIndex indexes the target entities by their key tuples, once per pass.
func (p *passState) buildIndex() error {
	if p.index != nil {
		return nil
	}
	p.index = map[string][]string{}
	for _, id := range p.dtc.order {
		d := p.dtc.byID[id]
		if d == nil {
			continue
		}
		if err := p.addToIndex(d); err != nil {
			return err
		}
	}
	return nil
}

func (p *passState) addToIndex(d *Entity) error {
	vals, _, _, err := p.r.keysOf(p.m, p.dst, d, false)
	if err != nil {
		return err
	}
	k := tupleKey(vals)
	p.index[k] = append(p.index[k], d.ID)
	return nil
}

// update copies the mapping's attributes from e to d where they differ
// and e's value wins (see winner).
func (p *passState) update(e *Entity, d *Entity) error {
	r := p.r
	var nd *Entity
	var ops []Operation
	newest := time.Time{}
	for _, a := range p.m.Attributes {
		dp, _ := a.path(p.dst)
		w, err := p.winner(a, d)
		if err != nil {
			return err
		}
		if w.ref != e.Ref() {
			continue // another contributor's value is d's: it writes it
		}
		if len(w.others) > 0 {
			o := p.op(OpConflict, e.Ref(), d.Ref())
			o.Attribute, o.New = dp, w.value
			o.Reason = fmt.Sprintf("%s.%s is set by %s (at %s) and also by %s; the newest wins, then the smallest reference",
				d.Ref(), dp, e.Ref(), w.at.Format(time.RFC3339Nano), strings.Join(w.others, ", "))
			r.record(o)
		}
		dv := d.Attrs[dp]
		// The seed's rule: a copy is skipped only when the target's own
		// row is strictly newer, in either direction.
		if sameValue(w.value, dv) || d.UpdatedAt.After(w.at) {
			continue
		}
		if nd == nil {
			c := d.Clone()
			nd = &c
			if nd.Attrs == nil {
				nd.Attrs = map[string]any{}
			}
		}
		if w.value == nil {
			delete(nd.Attrs, dp)
		} else {
			nd.Attrs[dp] = w.value
		}
		newest = later(newest, w.at)
		o := p.op(OpAttributeUpdated, e.Ref(), d.Ref())
		o.Attribute, o.Old, o.New = dp, dv, w.value
		ops = append(ops, o)
	}
	if nd == nil {
		return nil
	}
	nd.UpdatedAt = later(nd.UpdatedAt, newest)
	if err := r.s.sources[p.dst].Update(r.ctx, *nd); err != nil {
		r.failed(p.op(OpCouldNotUpdate, e.Ref(), d.Ref()), fmt.Errorf("update %s in %s: %w", d.Ref(), r.s.sources[p.dst].Name(), err))
		return nil
	}
	*d = *nd
	delete(r.idCache, r.endpoint(p.dst, d.Ref())) // its keys may be another mapping's attributes
	for _, o := range ops {
		r.record(o)
	}
	return nil
}

// contribution is the value the winning source entity gives a target
// attribute.
type contribution struct {
	ref    Ref
	value  any
	at     time.Time // the UpdatedAt of the entity holding the value
	others []string  // contributors with another value
}

// winner returns which of the source entities linked to d (of the pass's
// source type) sets attribute a of d: the one whose value is newest, by
// the time of the entity holding it (the source itself, or the entity a
// deep path ends at), and on a tie the one with the smallest reference.
// Every run picks the same one, so that several sources feeding one
// target converge.
func (p *passState) winner(a AttributeMap, d *Entity) (contribution, error) {
	sp, _ := a.path(p.src)
	srcs, err := p.r.linked(p.dst, d.Ref(), p.srcType, true)
	if err != nil {
		return contribution{}, err
	}
	var w contribution
	type cand struct {
		ref   Ref
		value any
	}
	var all []cand
	for i, ref := range srcs {
		x, err := p.r.get(p.src, ref)
		if err != nil {
			return contribution{}, err
		}
		v, at, err := p.r.resolve(p.src, x, sp, false)
		if err != nil {
			return contribution{}, err
		}
		all = append(all, cand{ref, v})
		if i == 0 || at.After(w.at) || at.Equal(w.at) && ref.String() < w.ref.String() {
			w = contribution{ref: ref, value: v, at: at}
		}
	}
	for _, c := range all {
		if !sameValue(c.value, w.value) {
			w.others = append(w.others, fmt.Sprintf("%s (%v)", c.ref, c.value))
		}
	}
	return w, nil
}

// create makes e's counterpart from its translated keys and attributes and
// links it, unless the mapping forbids it or a target key path cannot be
// set.
func (p *passState) create(e *Entity, vals []any) error {
	r := p.r
	if p.m.NoCreate {
		o := p.op(OpSkipNoCreate, e.Ref(), Ref{Type: p.dstType})
		o.Reason = fmt.Sprintf("no %s matches %s and the mapping does not create", p.dstType, e.Ref())
		r.record(o)
		return nil
	}
	nd := Entity{Type: p.dstType, Attrs: map[string]any{}, Refs: map[string]Ref{}, UpdatedAt: e.UpdatedAt}
	for i, k := range p.m.Keys {
		dp, _ := k.path(p.dst)
		if dp == Self || strings.Contains(dp, ".") {
			o := p.op(OpSkipCannotCreate, e.Ref(), Ref{Type: p.dstType})
			o.Reason = fmt.Sprintf("no %s matches %s and key path %q cannot be set", p.dstType, e.Ref(), dp)
			r.record(o)
			return nil
		}
		switch v := vals[i].(type) {
		case nil:
		case Ref:
			nd.Refs[dp] = v
		default:
			nd.Attrs[dp] = v
		}
	}
	for _, a := range p.m.Attributes {
		sp, _ := a.path(p.src)
		dp, _ := a.path(p.dst)
		sv, at, err := r.resolve(p.src, e, sp, false)
		if err != nil {
			return err
		}
		if sv != nil {
			nd.Attrs[dp] = sv
			nd.UpdatedAt = later(nd.UpdatedAt, at)
		}
	}
	created, err := r.createLinked(p.dst, nd, r.endpoint(p.src, e.Ref()))
	if isRefused(err) {
		r.failed(p.op(OpCouldNotCreate, e.Ref(), Ref{Type: p.dstType}), err)
		return nil
	}
	if err != nil {
		return err
	}
	p.dtc.byID[created.ID] = &created
	p.dtc.order = append(p.dtc.order, created.ID)
	if p.index != nil {
		if err := p.addToIndex(&created); err != nil {
			return err
		}
	}
	r.record(p.op(OpAddition, e.Ref(), created.Ref()))
	r.record(p.op(OpLinking, e.Ref(), created.Ref()))
	return nil
}

func (p *passState) link(e, d *Entity) error {
	r := p.r
	if err := r.putLink(r.endpoint(p.src, e.Ref()), r.endpoint(p.dst, d.Ref())); err != nil {
		return err
	}
	r.record(p.op(OpLinking, e.Ref(), d.Ref()))
	return nil
}

// orphans finds the target entities linked to source entities of this
// mapping's type that are all gone, and queues their deletion: the run
// deletes them after every pass, children first (see deleteOrphans).
func (p *passState) orphans() error {
	r := p.r
	for _, id := range p.dtc.order {
		d := p.dtc.byID[id]
		if d == nil {
			continue
		}
		srcs, err := r.linked(p.dst, d.Ref(), p.srcType, false)
		if err != nil {
			return err
		}
		if len(srcs) == 0 {
			continue
		}
		// Alive: linked to a source entity that exists and is still the
		// one linked (see joins).
		alive, err := r.linked(p.dst, d.Ref(), p.srcType, true)
		if err != nil {
			return err
		}
		if len(alive) == 0 {
			r.orphans = append(r.orphans, orphan{op: p.op(OpDeletion, srcs[0], d.Ref()), side: p.dst})
		}
	}
	return nil
}

// orphan is a deletion a pass queued.
type orphan struct {
	op   Operation
	side Side
}

// deleteOrphans deletes the queued orphans in the reverse order of the
// mappings that found them (a mapping of children comes after its
// parents' mapping, whose keys it references), so that a source with
// foreign keys deletes a child before its parent. An entity queued twice
// is deleted once.
func (r *runState) deleteOrphans() error {
	done := map[Endpoint]bool{}
	sort.SliceStable(r.orphans, func(i, j int) bool { return r.orphans[i].op.Mapping > r.orphans[j].op.Mapping })
	for _, o := range r.orphans {
		ep := r.endpoint(o.side, o.op.To)
		if done[ep] {
			continue
		}
		done[ep] = true
		if err := r.deleteLinked(o.side, o.op.To); isRefused(err) {
			f := o.op
			f.Kind = OpCouldNotDelete
			r.failed(f, err)
			continue
		} else if err != nil {
			return err
		}
		if tc := r.cache[o.side][o.op.To.Type]; tc != nil {
			delete(tc.byID, o.op.To.ID)
		}
		r.record(o.op)
	}
	return nil
}
