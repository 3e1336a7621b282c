package datasync

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/sdpconfig/sdpconfig/internal/nearest"
)

// TypeSchema declares one entity type of a source: its attribute names
// and its references, by name, with the type each refers to.
type TypeSchema struct {
	Type  string            `json:"type"`
	Attrs []string          `json:"attrs,omitempty"`
	Refs  map[string]string `json:"refs,omitempty"`
}

// Schema is implemented by sources that know their entity types, so that
// NewSyncer can check every mapping against them before the first
// operation: a typo in a type, key path or attribute would otherwise
// delete values or create junk. Types returns nil when the source has
// declared none (it is then not checked).
type Schema interface {
	Types() []TypeSchema
}

// declared is the schema of a source whose types are declared to it: a
// MemorySource or StoreSource after Declare.
type declared struct {
	mu    sync.Mutex
	types map[string]TypeSchema
}

// declare adds or replaces types.
func (d *declared) declare(types []TypeSchema) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.types == nil {
		d.types = map[string]TypeSchema{}
	}
	for _, t := range types {
		d.types[t.Type] = t
	}
}

// list returns the declared types, sorted by name.
func (d *declared) list() []TypeSchema {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]TypeSchema, 0, len(d.types))
	for _, t := range d.types {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// checkSchemas checks each mapping against the schemas of the sources
// that have one.
func checkSchemas(sources [2]DataSource, mappings []Mapping) error {
	var schemas [2]map[string]TypeSchema
	for sd, src := range sources {
		s, ok := src.(Schema)
		if !ok {
			continue
		}
		if ts := s.Types(); ts != nil {
			schemas[sd] = map[string]TypeSchema{}
			for _, t := range ts {
				schemas[sd][t.Type] = t
			}
		}
	}
	for i, m := range mappings {
		for _, sd := range []Side{Left, Right} {
			if err := checkSide(schemas[sd], sources[sd].Name(), m, sd); err != nil {
				return fmt.Errorf("datasync: mapping %d (%s): %w", i, m, err)
			}
		}
	}
	return nil
}

// checkSide checks the type and every path of side sd of m against the
// schema of that side's source (nil: nothing to check).
func checkSide(schema map[string]TypeSchema, source string, m Mapping, sd Side) error {
	if schema == nil {
		return nil
	}
	typ := m.Left
	if sd == Right {
		typ = m.Right
	}
	if _, ok := schema[typ]; !ok {
		return fmt.Errorf("%s type %q is not a type of source %s%s", sd, typ, source, suggest(typ, typeNames(schema)))
	}
	for _, group := range []struct {
		what string
		maps []AttributeMap
	}{{"key", m.Keys}, {"attribute", m.Attributes}} {
		for _, a := range group.maps {
			p, hint := a.path(sd)
			if err := checkPath(schema, typ, p, hint, a.isRef()); err != nil {
				return fmt.Errorf("%s %s path %q: %w", sd, group.what, p, err)
			}
		}
	}
	return nil
}

// checkPath follows path p from type typ: every segment but the last must
// be a reference, the last an attribute (or, for a reference map, a
// reference to hint).
func checkPath(schema map[string]TypeSchema, typ, p, hint string, ref bool) error {
	if p == Self {
		if hint != typ {
			return fmt.Errorf("%s is a %s, not the hinted %s", Self, typ, hint)
		}
		return nil
	}
	segs := strings.Split(p, ".")
	for i, seg := range segs {
		t, ok := schema[typ]
		if !ok {
			return fmt.Errorf("type %q is not in the source's schema", typ)
		}
		last := i == len(segs)-1
		if last && !ref {
			if !contains(t.Attrs, seg) {
				return fmt.Errorf("type %s has no attribute %q%s", typ, seg, suggest(seg, t.Attrs))
			}
			return nil
		}
		next, ok := t.Refs[seg]
		if !ok {
			return fmt.Errorf("type %s has no reference %q%s", typ, seg, suggest(seg, refNames(t)))
		}
		if last && next != hint {
			return fmt.Errorf("reference %s.%s is to %s, not the hinted %s", typ, seg, next, hint)
		}
		typ = next
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func typeNames(schema map[string]TypeSchema) []string {
	out := make([]string, 0, len(schema))
	for n := range schema {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func refNames(t TypeSchema) []string {
	out := make([]string, 0, len(t.Refs))
	for n := range t.Refs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// suggest returns ` (did you mean "x"?)` for the name among names nearest
// to s by edit distance, if it is near enough to be a typo.
func suggest(s string, names []string) string {
	best, ok := nearest.Name(s, names, len(s)/2+2)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
