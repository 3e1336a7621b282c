package datasync

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The entity types of the demo: Daphne (the left source) has
// VlanServiceProvider and VlanServiceConnection, Desire (the right source)
// has CloudServiceProvider > CloudRegion > CloudHandover > NIC.
const (
	DemoVlanServiceProvider   = "VlanServiceProvider"
	DemoVlanServiceConnection = "VlanServiceConnection"
	DemoCloudServiceProvider  = "CloudServiceProvider"
	DemoCloudRegion           = "CloudRegion"
	DemoCloudHandover         = "CloudHandover"
	DemoNIC                   = "NIC"
)

// DemoLeftTypes and DemoRightTypes list the demo's types per side, parents
// first.
var (
	DemoLeftTypes  = []string{DemoVlanServiceProvider, DemoVlanServiceConnection}
	DemoRightTypes = []string{DemoCloudServiceProvider, DemoCloudRegion, DemoCloudHandover, DemoNIC}
)

// DemoLeftSchema and DemoRightSchema declare the demo's types, to
// Declare to a MemorySource or StoreSource.
var (
	DemoLeftSchema = []TypeSchema{
		{Type: DemoVlanServiceProvider, Attrs: []string{"name", "canUpgrade"}},
		{Type: DemoVlanServiceConnection, Attrs: []string{"name", "region", "pop", "externalRef"}, Refs: map[string]string{"parent": DemoVlanServiceProvider}},
	}
	DemoRightSchema = []TypeSchema{
		{Type: DemoCloudServiceProvider, Attrs: []string{"name", "upgrade_allowed"}},
		{Type: DemoCloudRegion, Attrs: []string{"name", "external_ref"}, Refs: map[string]string{"parent": DemoCloudServiceProvider}},
		{Type: DemoCloudHandover, Attrs: []string{"name", "external_ref"}, Refs: map[string]string{"parent": DemoCloudRegion}},
		{Type: DemoNIC, Attrs: []string{"name", "external_ref"}, Refs: map[string]string{"parent": DemoCloudHandover}},
	}
)

// DemoMappings returns the five mappings of the synchronizer-framework
// demo, in its order.
func DemoMappings() []Mapping {
	return []Mapping{
		{
			Left: DemoVlanServiceConnection, Right: DemoCloudRegion, Modes: LeftToRight,
			Keys: []AttributeMap{
				Attr("region", "name"),
				RefAttr("parent", "parent", DemoVlanServiceProvider, DemoCloudServiceProvider),
			},
			Attributes: []AttributeMap{Attr("externalRef", "external_ref")},
		},
		{
			Left: DemoVlanServiceProvider, Right: DemoCloudServiceProvider, Modes: Both,
			Keys:       []AttributeMap{Attr("name", "name")},
			Attributes: []AttributeMap{Attr("canUpgrade", "upgrade_allowed")},
		},
		{
			Left: DemoVlanServiceConnection, Right: DemoCloudHandover, Modes: LeftToRight,
			Keys: []AttributeMap{
				Attr("pop", "name"),
				RefAttr(Self, "parent", DemoVlanServiceConnection, DemoCloudRegion),
			},
			Attributes: []AttributeMap{Attr("externalRef", "external_ref")},
		},
		{
			Left: DemoVlanServiceConnection, Right: DemoNIC, Modes: RightToLeft,
			Keys: []AttributeMap{
				Attr("name", "name"),
				Attr("region", "parent.parent.name"),
				Attr("pop", "parent.name"),
				RefAttr("parent", "parent.parent.parent", DemoVlanServiceProvider, DemoCloudServiceProvider),
			},
			Attributes: []AttributeMap{Attr("externalRef", "external_ref")},
		},
		{
			Left: DemoVlanServiceConnection, Right: DemoNIC, Modes: LeftToRight,
			Keys: []AttributeMap{
				Attr("name", "name"),
				RefAttr(Self, "parent", DemoVlanServiceConnection, DemoCloudHandover),
			},
			Attributes: []AttributeMap{Attr("externalRef", "external_ref")},
		},
	}
}

// DemoTime is the UpdatedAt of every initial entity of the demo, read
// literally from the seed's objects: they all are as new as each other,
// and a tie copies (a copy is skipped only when the target is strictly
// newer).
var DemoTime = time.Date(2021, 4, 21, 18, 0, 0, 0, time.UTC)

// LoadDemo writes the demo's initial entities into daphne (left) and
// desire (right), as the seed's Db.from_collection builds them.
func LoadDemo(ctx context.Context, daphne, desire DataSource) error {
	at := DemoTime
	mk := func(ds DataSource, typ string, attrs map[string]any, parent *Entity, ts time.Time) (*Entity, error) {
		e := Entity{Type: typ, Attrs: attrs, UpdatedAt: ts}
		if parent != nil {
			e.Refs = map[string]Ref{"parent": parent.Ref()}
		}
		c, err := ds.Create(ctx, e)
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	name := func(n string) map[string]any { return map[string]any{"name": n} }
	aws, err := mk(daphne, DemoVlanServiceProvider, map[string]any{"name": "AWS", "canUpgrade": false}, nil, at)
	if err != nil {
		return err
	}
	for _, c := range [][3]string{{"nic-1", "eu-central-1", "INX6"}, {"nic-2", "eu-central-1", "EqFA5"}, {"nic-3", "eu-west-2", "EqFA5"}} {
		if _, err := mk(daphne, DemoVlanServiceConnection, map[string]any{"name": c[0], "region": c[1], "pop": c[2]}, aws, at); err != nil {
			return err
		}
	}
	if _, err := mk(daphne, DemoVlanServiceProvider, name("AZURE"), nil, at); err != nil {
		return err
	}

	type nic struct {
		name, ref string
	}
	type handover struct {
		name string
		nics []nic
	}
	type region struct {
		name      string
		handovers []handover
	}
	build := func(csp map[string]any, regions []region) error {
		p, err := mk(desire, DemoCloudServiceProvider, csp, nil, at)
		if err != nil {
			return err
		}
		for _, rg := range regions {
			re, err := mk(desire, DemoCloudRegion, name(rg.name), p, at)
			if err != nil {
				return err
			}
			for _, h := range rg.handovers {
				he, err := mk(desire, DemoCloudHandover, name(h.name), re, at)
				if err != nil {
					return err
				}
				for _, n := range h.nics {
					attrs := name(n.name)
					if n.ref != "" {
						attrs["external_ref"] = n.ref
					}
					if _, err := mk(desire, DemoNIC, attrs, he, at); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := build(map[string]any{"name": "AWS", "upgrade_allowed": true}, []region{
		{"eu-central-1", []handover{{"INX6", []nic{{"nic-1", ""}}}, {"EqFA5", []nic{{"nic-2a", ""}}}}},
		{"eu-west-1", []handover{{"LON1", []nic{{"nic-3a", ""}}}}},
		{"eu-west-2", []handover{{"EqFA5", []nic{{"nic-3", "nic3-eref"}}}}},
	}); err != nil {
		return err
	}
	return build(name("IBM"), []region{
		{"EU-Frankfurt", []handover{{"fra03", []nic{{"nic-4", ""}}}}},
	})
}

// Describe renders the entities of the given types of src as the seed's
// demo prints them, e.g. "NIC(name=nic-1, parent=CloudHandover(name=INX6))",
// with other attributes after the parent, sorted within each type.
func Describe(ctx context.Context, src DataSource, types []string) ([]string, error) {
	var out []string
	for _, typ := range types {
		es, err := src.Find(ctx, typ, nil)
		if err != nil {
			return nil, err
		}
		var lines []string
		for _, e := range es {
			parts := []string{fmt.Sprintf("name=%v", e.Attrs["name"])}
			if p, ok := e.Refs["parent"]; ok {
				pe, err := src.Get(ctx, p)
				if err != nil {
					return nil, err
				}
				parts = append(parts, fmt.Sprintf("parent=%s(name=%v)", pe.Type, pe.Attrs["name"]))
			}
			var rest []string
			for k, v := range e.Attrs {
				if k != "name" {
					rest = append(rest, fmt.Sprintf("%s=%v", k, v))
				}
			}
			sort.Strings(rest)
			lines = append(lines, fmt.Sprintf("%s(%s)", typ, strings.Join(append(parts, rest...), ", ")))
		}
		sort.Strings(lines)
		out = append(out, lines...)
	}
	return out, nil
}
