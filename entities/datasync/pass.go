package datasync

import (
	"fmt"
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
		return p.orphans(stc)
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
	vals, sts, reason, err := r.keysOf(p.m, p.src, e, true)
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
				if err := p.update(e, sts, d); err != nil {
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
		return p.create(e, sts, vals)
	case 1:
		d := p.dtc.byID[matches[0]]
		if err := p.link(e, d); err != nil {
			return err
		}
		return p.update(e, sts, d)
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

// update copies the mapping's attributes from e to d where they differ and
// e wins by last write (sts is e's time over its key paths).
func (p *passState) update(e *Entity, sts time.Time, d *Entity) error {
	r := p.r
	_, dts, _, err := r.keysOf(p.m, p.dst, d, false)
	if err != nil {
		return err
	}
	wins := sts.After(dts) || sts.Equal(dts) && p.dir == LeftToRight
	if !wins {
		return nil
	}
	var nd *Entity
	var ops []Operation
	for _, a := range p.m.Attributes {
		sp, _ := a.path(p.src)
		dp, _ := a.path(p.dst)
		sv, _, err := r.resolve(p.src, e, sp, false)
		if err != nil {
			return err
		}
		dv := d.Attrs[dp]
		if sameValue(sv, dv) {
			continue
		}
		if nd == nil {
			c := d.Clone()
			nd = &c
			if nd.Attrs == nil {
				nd.Attrs = map[string]any{}
			}
		}
		if sv == nil {
			delete(nd.Attrs, dp)
		} else {
			nd.Attrs[dp] = sv
		}
		o := p.op(OpAttributeUpdated, e.Ref(), d.Ref())
		o.Attribute, o.Old, o.New = dp, dv, sv
		ops = append(ops, o)
	}
	if nd == nil {
		return nil
	}
	nd.UpdatedAt = later(nd.UpdatedAt, sts)
	if err := r.s.sources[p.dst].Update(r.ctx, *nd); err != nil {
		return fmt.Errorf("update %s in %s: %w", d.Ref(), r.s.sources[p.dst].Name(), err)
	}
	*d = *nd
	for _, o := range ops {
		r.record(o)
	}
	return nil
}

// create makes e's counterpart from its translated keys and attributes and
// links it, unless the mapping forbids it or a target key path cannot be
// set.
func (p *passState) create(e *Entity, sts time.Time, vals []any) error {
	r := p.r
	if p.m.NoCreate {
		o := p.op(OpSkipNoCreate, e.Ref(), Ref{Type: p.dstType})
		o.Reason = fmt.Sprintf("no %s matches %s and the mapping does not create", p.dstType, e.Ref())
		r.record(o)
		return nil
	}
	nd := Entity{Type: p.dstType, Attrs: map[string]any{}, Refs: map[string]Ref{}, UpdatedAt: sts}
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
		sv, _, err := r.resolve(p.src, e, sp, false)
		if err != nil {
			return err
		}
		if sv != nil {
			nd.Attrs[dp] = sv
		}
	}
	created, err := r.createLinked(p.dst, nd, r.endpoint(p.src, e.Ref()))
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

// orphans deletes the target entities linked to source entities of this
// mapping's type that are all gone.
func (p *passState) orphans(stc *typeCache) error {
	r := p.r
	for _, id := range append([]string(nil), p.dtc.order...) {
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
		alive := false
		for _, s := range srcs {
			if stc.byID[s.ID] != nil {
				alive = true
				break
			}
		}
		if alive {
			continue
		}
		if err := r.deleteLinked(p.dst, d.Ref()); err != nil {
			return err
		}
		delete(p.dtc.byID, id)
		r.record(p.op(OpDeletion, srcs[0], d.Ref()))
	}
	return nil
}
