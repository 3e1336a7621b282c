package datasync

import (
	"sort"
	"strings"
)

// identityNames returns, for each side and type, the plain names (not
// deep paths, not Self) the mappings use as keys of that type: what
// identifies one of its entities.
func identityNames(mappings []Mapping) [2]map[string][]string {
	var out [2]map[string][]string
	for sd := range out {
		out[sd] = map[string][]string{}
	}
	add := func(sd Side, typ, name string) {
		if name == Self || strings.Contains(name, ".") {
			return
		}
		for _, n := range out[sd][typ] {
			if n == name {
				return
			}
		}
		out[sd][typ] = append(out[sd][typ], name)
		sort.Strings(out[sd][typ])
	}
	for _, m := range mappings {
		for _, k := range m.Keys {
			add(Left, m.Left, k.Left)
			add(Right, m.Right, k.Right)
		}
	}
	return out
}

// identity is what identifies e on side sd: its key values, as
// "name=value" pairs in name order.
func (r *runState) identity(sd Side, e *Entity) string {
	var parts []string
	for _, n := range r.s.identity[sd][e.Type] {
		v := any(nil)
		if ref, ok := e.Refs[n]; ok {
			v = ref
		} else if a, ok := e.Attrs[n]; ok {
			v = a
		}
		parts = append(parts, n+"="+canonical(v))
	}
	return strings.Join(parts, "\x1f")
}

// side returns the side of endpoint ep.
func (r *runState) side(ep Endpoint) Side {
	if ep.Source == r.s.sources[Left].Name() {
		return Left
	}
	return Right
}

// identityOf returns the identity of the entity at ep, from e when it is
// given, else from the run's cache ("" when the entity is not known).
func (r *runState) identityOf(ep Endpoint, e *Entity) (string, error) {
	if e == nil {
		if id, ok := r.idCache[ep]; ok {
			return id, nil
		}
	}
	sd := r.side(ep)
	if e == nil {
		var err error
		if e, err = r.get(sd, ep.Ref); err != nil {
			return "", err
		}
		if e == nil {
			return "", nil
		}
		id := r.identity(sd, e)
		if r.idCache == nil {
			r.idCache = map[Endpoint]string{}
		}
		r.idCache[ep] = id
		return id, nil
	}
	return r.identity(sd, e), nil
}

// joins reports whether the link from me to far still joins the
// entities it was made for, by the identities recorded with it (a link
// recorded without them always does): mine, when me's entity is known,
// and far's, when its entity exists. A source that reuses an id for
// another entity thus never inherits the links of the one it replaced:
// for that entity the link is not there, for the other end its
// counterpart is gone.
func (r *runState) joins(me, far Endpoint) (mine, theirs bool, err error) {
	mine, theirs = true, true
	if want, ok := r.ids[linkEnds{far, me}]; ok {
		id, err := r.identityOf(me, nil)
		if err != nil {
			return false, false, err
		}
		mine = id == "" || id == want
	}
	if want, ok := r.ids[linkEnds{me, far}]; ok {
		id, err := r.identityOf(far, nil)
		if err != nil {
			return false, false, err
		}
		theirs = id == "" || id == want
	}
	return mine, theirs, nil
}
