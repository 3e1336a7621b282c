package datasync

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Self is the key path that stands for the entity itself, as a reference.
const Self = "__self__"

// Ref names one entity of a data source: its type and its id.
type Ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// String returns "Type/id".
func (r Ref) String() string { return r.Type + "/" + r.ID }

// Entity is one record of a data source: a type, an id assigned by the
// source, plain attributes (JSON values: strings, numbers, booleans),
// references to other entities of the same source (such as "parent"), and
// the time of its last write, for last-write-wins.
type Entity struct {
	Type      string         `json:"type"`
	ID        string         `json:"id"`
	Attrs     map[string]any `json:"attrs,omitempty"`
	Refs      map[string]Ref `json:"refs,omitempty"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// Ref returns the entity's reference.
func (e Entity) Ref() Ref { return Ref{Type: e.Type, ID: e.ID} }

// Clone returns a deep copy of e (attribute values are copied shallowly,
// which is deep for JSON scalars).
func (e Entity) Clone() Entity {
	c := e
	if e.Attrs != nil {
		c.Attrs = make(map[string]any, len(e.Attrs))
		for k, v := range e.Attrs {
			c.Attrs[k] = v
		}
	}
	if e.Refs != nil {
		c.Refs = make(map[string]Ref, len(e.Refs))
		for k, v := range e.Refs {
			c.Refs[k] = v
		}
	}
	return c
}

// String returns "Type(id, a=1, b=x, parent=Type/id)", attributes and
// references sorted by name.
func (e Entity) String() string {
	var parts []string
	for k, v := range e.Attrs {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	for k, v := range e.Refs {
		parts = append(parts, fmt.Sprintf("%s=%s", k, v))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%s(%s)", e.Type, strings.Join(append([]string{e.ID}, parts...), ", "))
}

// sameValue reports whether two attribute values are equal as JSON (so that
// 1, 1.0 as float64 and json.Number("1") compare equal, and a missing value
// equals nil).
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return canonical(a) == canonical(b)
}

// canonical returns a comparable encoding of a key or attribute value.
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case Ref:
		return "\x00" + x.Type + "\x00" + x.ID
	case string:
		return `"` + x
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return fmt.Sprint(f)
		}
		return x.String()
	case float64:
		return fmt.Sprint(x)
	case int:
		return fmt.Sprint(float64(x))
	case int64:
		return fmt.Sprint(float64(x))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
