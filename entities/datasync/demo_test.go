package datasync

import (
	"context"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
)

// The final states of the seed's demo output.
var (
	demoFinalDesire = []string{
		"CloudServiceProvider(name=AWS, upgrade_allowed=false)",
		"CloudServiceProvider(name=AZURE)",
		"CloudServiceProvider(name=IBM)",
		"CloudRegion(name=EU-Frankfurt, parent=CloudServiceProvider(name=IBM))",
		"CloudRegion(name=eu-central-1, parent=CloudServiceProvider(name=AWS))",
		"CloudRegion(name=eu-west-1, parent=CloudServiceProvider(name=AWS))",
		"CloudRegion(name=eu-west-2, parent=CloudServiceProvider(name=AWS), external_ref=nic3-eref)",
		"CloudHandover(name=EqFA5, parent=CloudRegion(name=eu-central-1))",
		"CloudHandover(name=EqFA5, parent=CloudRegion(name=eu-west-2), external_ref=nic3-eref)",
		"CloudHandover(name=INX6, parent=CloudRegion(name=eu-central-1))",
		"CloudHandover(name=LON1, parent=CloudRegion(name=eu-west-1))",
		"CloudHandover(name=fra03, parent=CloudRegion(name=EU-Frankfurt))",
		"NIC(name=nic-1, parent=CloudHandover(name=INX6))",
		"NIC(name=nic-2, parent=CloudHandover(name=EqFA5))",
		"NIC(name=nic-2a, parent=CloudHandover(name=EqFA5))",
		"NIC(name=nic-3, parent=CloudHandover(name=EqFA5), external_ref=nic3-eref)",
		"NIC(name=nic-3a, parent=CloudHandover(name=LON1))",
		"NIC(name=nic-4, parent=CloudHandover(name=fra03))",
	}
	demoFinalDaphne = []string{
		"VlanServiceProvider(name=AWS, canUpgrade=false)",
		"VlanServiceProvider(name=AZURE)",
		"VlanServiceProvider(name=IBM)",
		"VlanServiceConnection(name=nic-1, parent=VlanServiceProvider(name=AWS), pop=INX6, region=eu-central-1)",
		"VlanServiceConnection(name=nic-2, parent=VlanServiceProvider(name=AWS), pop=EqFA5, region=eu-central-1)",
		"VlanServiceConnection(name=nic-2a, parent=VlanServiceProvider(name=AWS), pop=EqFA5, region=eu-central-1)",
		"VlanServiceConnection(name=nic-3, parent=VlanServiceProvider(name=AWS), externalRef=nic3-eref, pop=EqFA5, region=eu-west-2)",
		"VlanServiceConnection(name=nic-3a, parent=VlanServiceProvider(name=AWS), pop=LON1, region=eu-west-1)",
		"VlanServiceConnection(name=nic-4, parent=VlanServiceProvider(name=IBM), pop=fra03, region=EU-Frankfurt)",
	}
)

// runDemo loads the demo into two sources and converges, checking the
// seed's operation counts per run (27, 16, 0) and its final states.
func runDemo(t *testing.T, c *config.Config, daphne, desire DataSource) {
	ctx := context.Background()
	assert.NilError(t, LoadDemo(ctx, daphne, desire))
	s, err := NewSyncer(daphne, desire, newLinks(t, c), DemoMappings(), nil)
	assert.NilError(t, err)
	runs, err := s.Converge(ctx, 10)
	assert.NilError(t, err)
	assert.Equal(t, len(runs), 3)

	// Run 1: the seed's 27 operations, kind by kind.
	assert.DeepEqual(t, countKinds(runs[0].Ops), map[OpKind]int{
		OpSkipMissingLink: 12, OpAddition: 5, OpLinking: 8, OpAttributeUpdated: 2,
	})
	assert.Equal(t, len(runs[0].Ops), 27)
	// Mapping 1 defers the three connections (AWS is not linked yet), then
	// mapping 2 adds and links AZURE, links AWS and updates it, and adds
	// and links IBM on the left (order among providers follows their ids).
	assert.DeepEqual(t, kinds(runs[0].Ops[:3]), []string{"SkipMissingLink", "SkipMissingLink", "SkipMissingLink"})
	assert.DeepEqual(t, countKinds(runs[0].Ops[3:9]), map[OpKind]int{OpAddition: 2, OpLinking: 3, OpAttributeUpdated: 1})
	var up Operation
	for _, o := range runs[0].Ops[3:9] {
		if o.Kind == OpAttributeUpdated {
			up = o
		}
	}
	assert.Equal(t, up.Attribute, "upgrade_allowed")
	assert.Equal(t, up.Old, true)
	assert.Equal(t, up.New, false)
	// Run 2: 16 operations: 13 linkings, 2 external_ref updates, NIC nic-2.
	assert.DeepEqual(t, countKinds(runs[1].Ops), map[OpKind]int{
		OpLinking: 13, OpAttributeUpdated: 2, OpAddition: 1,
	})
	assert.Equal(t, len(runs[2].Ops), 0)

	gotDesire, err := Describe(ctx, desire, DemoRightTypes)
	assert.NilError(t, err)
	assert.DeepEqual(t, sortedCopy(gotDesire), sortedCopy(demoFinalDesire))
	gotDaphne, err := Describe(ctx, daphne, DemoLeftTypes)
	assert.NilError(t, err)
	assert.DeepEqual(t, sortedCopy(gotDaphne), sortedCopy(demoFinalDaphne))
}

func TestDemoConvergesToSeedFinalStates(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		t.Run("memory sources", func(t *testing.T) {
			runDemo(t, c, NewMemorySource("daphne"), NewMemorySource("desire"))
		})
	})
}

func TestDemoOnStoreSources(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		daphne, err := NewStoreSource(c, "daphne", "/datasync/test/daphne")
		assert.NilError(t, err)
		desire, err := NewStoreSource(c, "desire", "/datasync/test/desire")
		assert.NilError(t, err)
		runDemo(t, c, daphne, desire)
	})
}
