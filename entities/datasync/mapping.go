package datasync

import (
	"fmt"
	"strings"
)

// Mode is a set of directions in which a Mapping synchronises.
type Mode int

// The directions of a Mapping; combine them with |.
const (
	// LeftToRight makes the right entities follow the left ones.
	LeftToRight Mode = 1 << iota
	// RightToLeft makes the left entities follow the right ones.
	RightToLeft
	// Both is LeftToRight | RightToLeft.
	Both = LeftToRight | RightToLeft
)

// MarshalText writes the mode as String does ("both" for 0).
func (m Mode) MarshalText() ([]byte, error) {
	if m == 0 {
		m = Both
	}
	if m&^Both != 0 {
		return nil, fmt.Errorf("datasync: unknown mode %d", int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads "left-to-right", "right-to-left" or "both".
func (m *Mode) UnmarshalText(b []byte) error {
	for _, x := range []Mode{LeftToRight, RightToLeft, Both} {
		if string(b) == x.String() {
			*m = x
			return nil
		}
	}
	return fmt.Errorf("datasync: unknown mode %q: want left-to-right, right-to-left or both", b)
}

// String returns "left-to-right", "right-to-left" or "both".
func (m Mode) String() string {
	switch m {
	case LeftToRight:
		return "left-to-right"
	case RightToLeft:
		return "right-to-left"
	case Both:
		return "both"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// AttributeMap pairs a path of the left entity type with one of the right
// type. A path is an attribute name ("name"), a deep join through
// references ("parent.parent.name": the name of the parent's parent), or
// Self. When LeftType and RightType are set, the paths lead to references
// (the last segment is a reference name, or the path is Self) to entities of
// those types, and a reference on one side is translated to the other
// through links.
type AttributeMap struct {
	Left      string `json:"left"`
	Right     string `json:"right"`
	LeftType  string `json:"left_type,omitempty"`
	RightType string `json:"right_type,omitempty"`
}

// Attr maps a plain (or deep-join) path of the left type to one of the right
// type.
func Attr(left, right string) AttributeMap { return AttributeMap{Left: left, Right: right} }

// RefAttr maps a reference path of the left type, leading to an entity of
// leftType, to a reference path of the right type, leading to an entity of
// rightType; the references are translated through links.
func RefAttr(left, right, leftType, rightType string) AttributeMap {
	return AttributeMap{Left: left, Right: right, LeftType: leftType, RightType: rightType}
}

// isRef reports whether the map translates references.
func (a AttributeMap) isRef() bool { return a.LeftType != "" }

// path returns the map's path on side s and the type hint of that side.
func (a AttributeMap) path(s Side) (string, string) {
	if s == Left {
		return a.Left, a.LeftType
	}
	return a.Right, a.RightType
}

// Mapping says how entities of type Left (in the left source) and Right (in
// the right source) are synchronised.
type Mapping struct {
	// Left and Right are the entity types.
	Left  string `json:"left"`
	Right string `json:"right"`
	// Modes are the directions; 0 means Both.
	Modes Mode `json:"modes"`
	// Keys identify a counterpart: an unlinked entity is matched with the
	// entities of the other type whose keys are equal.
	Keys []AttributeMap `json:"keys"`
	// Attributes are copied from the source to the target of a pass, last
	// write wins. Their target paths must be plain names.
	Attributes []AttributeMap `json:"attributes,omitempty"`
	// NoCreate disables creating a missing counterpart: unmatched entities
	// are reported with OpSkipNoCreate.
	NoCreate bool `json:"no_create,omitempty"`
	// DeleteOrphans deletes a target entity whose every linked source
	// entity (of this mapping's source type) is gone.
	DeleteOrphans bool `json:"delete_orphans,omitempty"`
}

// String returns "Left<->Right" with the mapping's direction.
func (m Mapping) String() string {
	arrow := "<->"
	switch m.modes() {
	case LeftToRight:
		arrow = "->"
	case RightToLeft:
		arrow = "<-"
	}
	return m.Left + " " + arrow + " " + m.Right
}

func (m Mapping) modes() Mode {
	if m.Modes == 0 {
		return Both
	}
	return m.Modes
}

// Validate checks the mapping: types named, modes known, paths well formed,
// reference hints set on both sides or neither, attribute targets plain.
func (m Mapping) Validate() error {
	if m.Left == "" || m.Right == "" {
		return fmt.Errorf("datasync: mapping %s: both entity types must be named", m)
	}
	if m.Modes&^Both != 0 {
		return fmt.Errorf("datasync: mapping %s: unknown mode %d", m, m.Modes)
	}
	if len(m.Keys) == 0 {
		return fmt.Errorf("datasync: mapping %s: no keys", m)
	}
	check := func(what string, a AttributeMap) error {
		if (a.LeftType == "") != (a.RightType == "") {
			return fmt.Errorf("datasync: mapping %s: %s %s=%s: set both type hints or neither", m, what, a.Left, a.Right)
		}
		for _, p := range []string{a.Left, a.Right} {
			if p == "" || strings.Contains(p, "..") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") {
				return fmt.Errorf("datasync: mapping %s: %s path %q is malformed", m, what, p)
			}
			if p == Self && !a.isRef() {
				return fmt.Errorf("datasync: mapping %s: %s path %s needs type hints", m, what, Self)
			}
		}
		return nil
	}
	for _, k := range m.Keys {
		if err := check("key", k); err != nil {
			return err
		}
	}
	for _, a := range m.Attributes {
		if err := check("attribute", a); err != nil {
			return err
		}
		if a.isRef() {
			return fmt.Errorf("datasync: mapping %s: attribute %s=%s: references belong in Keys", m, a.Left, a.Right)
		}
		if strings.Contains(a.Left, ".") && m.modes()&RightToLeft != 0 || strings.Contains(a.Right, ".") && m.modes()&LeftToRight != 0 {
			return fmt.Errorf("datasync: mapping %s: attribute %s=%s: a target path must be a plain name", m, a.Left, a.Right)
		}
	}
	return nil
}
