package netobj

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Kind is the kind of a network object.
type Kind string

// The kinds of network objects, in the order a commit applies them.
const (
	KindInterface Kind = "interface"
	KindAddress   Kind = "address"
	KindRoute     Kind = "route"
)

// Kinds lists every kind in dependency order: interfaces before the
// addresses on them, addresses before the routes through them.
var Kinds = []Kind{KindInterface, KindAddress, KindRoute}

// Field names. Fields is a flat dict of these names to string values, as
// pyroute2's NDB objects are flat dicts of RTNL fields.
const (
	FieldName    = "name"    // interface: its name (key)
	FieldType    = "type"    // interface: bridge, veth, macvlan, dummy or vlan (set at creation)
	FieldMTU     = "mtu"     // interface: MTU in bytes
	FieldState   = "state"   // interface: up or down
	FieldMaster  = "master"  // interface: the bridge it is enslaved to ("" for none)
	FieldVlanID  = "vlan_id" // interface: 802.1Q id of a vlan (set at creation)
	FieldLink    = "link"    // interface: parent of a macvlan or vlan (set at creation)
	FieldPeer    = "peer"    // interface: peer name of a veth (set at creation)
	FieldIface   = "interface"
	FieldCIDR    = "cidr"    // address: address/prefix length (key)
	FieldDst     = "dst"     // route: destination prefix (key)
	FieldGateway = "gateway" // route: next hop
	FieldTable   = "table"   // route: routing table (key), 254 (main) by default
	FieldMetric  = "metric"  // route: priority (key), 0 by default
)

// Interface types.
const (
	TypeBridge  = "bridge"
	TypeVeth    = "veth"
	TypeMacvlan = "macvlan"
	TypeDummy   = "dummy"
	TypeVlan    = "vlan"
)

// Fields is the dict-like field set of an object: field name to value.
type Fields map[string]string

// Clone returns a copy of f.
func (f Fields) Clone() Fields {
	c := make(Fields, len(f))
	for k, v := range f {
		c[k] = v
	}
	return c
}

// Names returns the field names of f, sorted.
func (f Fields) Names() []string {
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// spec describes a kind: its key fields, the other fields it accepts, the
// fields that can only be given at creation, and whether a change of its
// key replaces the object (add the new one, then delete the old one).
type spec struct {
	key        []string
	fields     []string
	createOnly []string
	replace    bool
}

var specs = map[Kind]spec{
	KindInterface: {
		key:        []string{FieldName},
		fields:     []string{FieldType, FieldMTU, FieldState, FieldMaster, FieldVlanID, FieldLink, FieldPeer},
		createOnly: []string{FieldType, FieldVlanID, FieldLink, FieldPeer},
	},
	KindAddress: {
		key: []string{FieldIface, FieldCIDR},
	},
	KindRoute: {
		key:     []string{FieldDst, FieldTable, FieldMetric},
		fields:  []string{FieldGateway, FieldIface},
		replace: true,
	},
}

// Object is one desired network object: its kind and its fields.
type Object struct {
	Kind   Kind   `json:"kind"`
	Fields Fields `json:"fields"`
}

// Interface returns an interface object of type typ named name, with the
// extra fields given as name, value pairs.
func Interface(name, typ string, kv ...string) Object {
	return newObject(KindInterface, append([]string{FieldName, name, FieldType, typ}, kv...))
}

// Address returns an address object: cidr (such as "10.0.0.1/24") on iface.
func Address(iface, cidr string) Object {
	return newObject(KindAddress, []string{FieldIface, iface, FieldCIDR, cidr})
}

// Route returns a route object to dst, with extra fields as name, value
// pairs (gateway, interface, table, metric).
func Route(dst string, kv ...string) Object {
	return newObject(KindRoute, append([]string{FieldDst, dst}, kv...))
}

func newObject(k Kind, kv []string) Object {
	o := Object{Kind: k, Fields: Fields{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Fields[kv[i]] = kv[i+1]
	}
	return o
}

// Get returns field name and whether it is set, as a dict lookup.
func (o Object) Get(name string) (string, bool) {
	v, ok := o.Fields[name]
	return v, ok
}

// Set sets field name to value, as a dict assignment.
func (o *Object) Set(name, value string) {
	if o.Fields == nil {
		o.Fields = Fields{}
	}
	o.Fields[name] = value
}

// Clone returns a deep copy of o.
func (o Object) Clone() Object { return Object{Kind: o.Kind, Fields: o.Fields.Clone()} }

// KeyFields returns the names of the key fields of kind k.
func KeyFields(k Kind) []string { return slices.Clone(specs[k].key) }

// Replaceable reports whether a change of a key field of an object of kind
// k replaces the object instead of being an error.
func Replaceable(k Kind) bool { return specs[k].replace }

// Key returns the key fields of o.
func (o Object) Key() Fields {
	key := Fields{}
	for _, n := range specs[o.Kind].key {
		key[n] = o.Fields[n]
	}
	return key
}

// KeyString returns the key of o as one string, "name=value,..." in key
// order: two objects of a kind are the same system object when their
// KeyStrings are equal. o should be normalised.
func (o Object) KeyString() string { return keyString(o.Kind, o.Fields) }

func keyString(k Kind, f Fields) string {
	var b strings.Builder
	for i, n := range specs[k].key {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + "=" + f[n])
	}
	return b.String()
}

// DefaultID returns the identifier under which o is stored when none is
// given: its key values joined by ",", such as "eth0,10.0.0.1/24", without
// trailing values that are empty or defaults (a route's table 254 and
// metric 0: "10.2.0.0/16"). It may contain "/": Paths escape it.
func (o Object) DefaultID() string {
	if n, err := o.Normalize(); err == nil {
		o = n
	}
	var vals []string
	for _, n := range specs[o.Kind].key {
		vals = append(vals, o.Fields[n])
	}
	for len(vals) > 1 {
		last := vals[len(vals)-1]
		if last != "" && !(o.Kind == KindRoute && (last == "254" && len(vals) == 2 || last == defaultMetric(o.Fields[FieldDst]) && len(vals) == 3)) {
			break
		}
		vals = vals[:len(vals)-1]
	}
	return strings.Join(vals, ",")
}

// Normalize checks o and returns it in canonical form: defaults filled
// in (route table 254, metric 0 for IPv4 and 1024 for IPv6, as the kernel
// stores them), prefixes and numbers in canonical
// spelling. The error wraps ErrInvalidObject and names the object.
func (o Object) Normalize() (Object, error) {
	sp, ok := specs[o.Kind]
	if !ok {
		return o, fmt.Errorf("%w: unknown kind %q", ErrInvalidObject, o.Kind)
	}
	n := o.Clone()
	if n.Kind == KindRoute {
		if _, ok := n.Fields[FieldTable]; !ok {
			n.Fields[FieldTable] = "254"
		}
		if _, ok := n.Fields[FieldMetric]; !ok {
			n.Fields[FieldMetric] = "0"
		}
	}
	bad := func(format string, a ...any) (Object, error) {
		return o, fmt.Errorf("%w: %s %q: %s", ErrInvalidObject, o.Kind, o.rawID(), fmt.Sprintf(format, a...))
	}
	for name := range n.Fields {
		if !slices.Contains(sp.key, name) && !slices.Contains(sp.fields, name) {
			return bad("unknown field %q", name)
		}
	}
	for _, k := range sp.key {
		if n.Fields[k] == "" {
			return bad("key field %q is missing", k)
		}
	}
	for name, v := range n.Fields {
		switch name {
		case FieldMTU, FieldVlanID, FieldTable, FieldMetric:
			i, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return bad("field %q: %q is not a number", name, v)
			}
			n.Fields[name] = strconv.FormatUint(i, 10)
		case FieldState:
			if v != "up" && v != "down" {
				return bad("field state: %q is neither up nor down", v)
			}
		case FieldType:
			switch v {
			case TypeBridge, TypeVeth, TypeMacvlan, TypeDummy, TypeVlan:
			default:
				return bad("unknown interface type %q", v)
			}
		case FieldCIDR:
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return bad("field cidr: %v", err)
			}
			n.Fields[name] = p.String()
		case FieldDst:
			if v == "default" {
				v = "0.0.0.0/0"
			}
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return bad("field dst: %v", err)
			}
			n.Fields[name] = p.Masked().String()
		case FieldGateway:
			a, err := netip.ParseAddr(v)
			if err != nil {
				return bad("field gateway: %v", err)
			}
			n.Fields[name] = a.String()
		}
	}
	if n.Kind == KindInterface {
		switch n.Fields[FieldType] {
		case "":
			return bad("field type is missing")
		case TypeVeth:
			if n.Fields[FieldPeer] == "" {
				return bad("a veth needs a peer name")
			}
		case TypeMacvlan, TypeVlan:
			if n.Fields[FieldLink] == "" {
				return bad("a %s needs a link", n.Fields[FieldType])
			}
			if n.Fields[FieldType] == TypeVlan && n.Fields[FieldVlanID] == "" {
				return bad("a vlan needs a vlan_id")
			}
		}
	}
	if n.Kind == KindRoute && n.Fields[FieldGateway] == "" && n.Fields[FieldIface] == "" {
		return bad("a route needs a gateway or an interface")
	}
	if msg := kernelLimits(n); msg != "" {
		return bad("%s", msg)
	}
	if n.Kind == KindRoute && n.Fields[FieldMetric] == "0" {
		n.Fields[FieldMetric] = defaultMetric(n.Fields[FieldDst])
	}
	return n, nil
}

// maxNameLen is the longest interface name Linux takes (IFNAMSIZ - 1).
const maxNameLen = 15

// kernelLimits returns what the kernel would refuse in the normalised n,
// or "": interface names (the object's own and those it names) of at most
// 15 bytes with no "/" or space, a vlan_id from 1 to 4094, a table other
// than 0.
func kernelLimits(n Object) string {
	for _, f := range []string{FieldName, FieldPeer, FieldMaster, FieldLink, FieldIface} {
		v := n.Fields[f]
		switch {
		case len(v) > maxNameLen:
			return fmt.Sprintf("field %s: %q is longer than %d bytes", f, v, maxNameLen)
		case strings.ContainsAny(v, "/ "):
			return fmt.Sprintf("field %s: %q holds a \"/\" or a space", f, v)
		}
	}
	if v, ok := n.Fields[FieldVlanID]; ok {
		if id, _ := strconv.Atoi(v); id < 1 || id > 4094 {
			return fmt.Sprintf("field vlan_id: %s is not in 1-4094", v)
		}
	}
	if n.Kind == KindRoute && n.Fields[FieldTable] == "0" {
		return "field table: 0 is not a routing table (main is 254)"
	}
	return ""
}

// defaultMetric is the metric the kernel gives a route of destination dst
// (normalised) that names none: 0 for IPv4, 1024 for IPv6.
func defaultMetric(dst string) string {
	if strings.Contains(dst, ":") {
		return "1024"
	}
	return "0"
}

// rank orders objects for a commit that adds or sets them: interfaces
// without a parent, then interfaces with one, then addresses, then routes.
// Removals run in the reverse order.
func (o Object) rank() int {
	switch o.Kind {
	case KindInterface:
		switch {
		case o.Fields[FieldLink] != "":
			return 2
		case o.Fields[FieldType] == TypeBridge:
			return 0
		default:
			return 1
		}
	case KindAddress:
		return 3
	default:
		return 4
	}
}

// rawID is DefaultID without normalisation, for errors of Normalize.
func (o Object) rawID() string {
	var vals []string
	for _, n := range specs[o.Kind].key {
		if v := o.Fields[n]; v != "" {
			vals = append(vals, v)
		}
	}
	return strings.Join(vals, ",")
}
