package datasync

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
)

// sourceKinds are the DataSources the conflict tests run on (SQLite runs
// them in package sqlsource).
var sourceKinds = []struct {
	name string
	open func(t *testing.T, c *config.Config, name string) DataSource
}{
	{"memory sources", func(t *testing.T, c *config.Config, name string) DataSource { return NewMemorySource(name) }},
	{"store sources", func(t *testing.T, c *config.Config, name string) DataSource {
		s, err := NewStoreSource(c, name, "/datasync/test/"+name)
		assert.NilError(t, err)
		return s
	}},
}

// eachSourceKind runs f on a fresh store and pair of sources of each kind.
func eachSourceKind(t *testing.T, f func(t *testing.T, c *config.Config, l, r DataSource)) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		for _, k := range sourceKinds {
			t.Run(k.name, func(t *testing.T) {
				f(t, c, k.open(t, c, "L"), k.open(t, c, "R"))
			})
		}
	})
}

// TestTieCopiesRightToLeft: with equal times, a right-to-left mapping
// copies as a left-to-right one does: a copy is skipped only when the
// target is strictly newer (the seed's rule).
func TestTieCopiesRightToLeft(t *testing.T) {
	eachSourceKind(t, func(t *testing.T, c *config.Config, l, r DataSource) {
		ctx := context.Background()
		m := Mapping{Left: "A", Right: "B", Modes: RightToLeft, Keys: []AttributeMap{Attr("name", "name")}, Attributes: []AttributeMap{Attr("x", "y")}}
		s, err := NewSyncer(l, r, newLinks(t, c), []Mapping{m}, nil)
		assert.NilError(t, err)
		a := mustCreate(t, l, ent("A", t0, "name", "a"))
		mustCreate(t, r, ent("B", t0, "name", "a", "y", "v"))
		_, err = s.Converge(ctx, 5)
		assert.NilError(t, err)
		got, err := l.Get(ctx, a.Ref())
		assert.NilError(t, err)
		assert.Equal(t, got.Attrs["x"], "v")
	})
}

// convergedDemo loads the demo into l and r and converges it.
func convergedDemo(t *testing.T, c *config.Config, l, r DataSource) *Syncer {
	t.Helper()
	ctx := context.Background()
	assert.NilError(t, LoadDemo(ctx, l, r))
	s, err := NewSyncer(l, r, newLinks(t, c), DemoMappings(), nil)
	assert.NilError(t, err)
	_, err = s.Converge(ctx, 10)
	assert.NilError(t, err)
	return s
}

// find returns the one entity of typ in src whose attributes match kv
// (name, value pairs) and whose parent, when parentName is set, has that
// name.
func find(t *testing.T, src DataSource, typ, parentName string, kv ...any) Entity {
	t.Helper()
	ctx := context.Background()
	w := Where{}
	for i := 0; i+1 < len(kv); i += 2 {
		w[kv[i].(string)] = kv[i+1]
	}
	es, err := src.Find(ctx, typ, w)
	assert.NilError(t, err)
	var out []Entity
	for _, e := range es {
		if parentName != "" {
			p, err := src.Get(ctx, e.Refs["parent"])
			assert.NilError(t, err)
			if p.Attrs["name"] != parentName {
				continue
			}
		}
		out = append(out, e)
	}
	assert.Equal(t, len(out), 1, "%s %v under %q: %v", typ, kv, parentName, out)
	return out[0]
}

// write updates e in src with the attributes kv at time at.
func write(t *testing.T, src DataSource, e Entity, at time.Time, kv ...any) {
	t.Helper()
	e = e.Clone()
	if e.Attrs == nil {
		e.Attrs = map[string]any{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs[kv[i].(string)] = kv[i+1]
	}
	e.UpdatedAt = at
	assert.NilError(t, src.Update(context.Background(), e))
}

// externalRefs returns the external reference of connection nic-2 and of
// its counterparts: NIC nic-2, region eu-central-1, its handover EqFA5.
func externalRefs(t *testing.T, daphne, desire DataSource) map[string]any {
	return map[string]any{
		"connection": find(t, daphne, DemoVlanServiceConnection, "", "name", "nic-2").Attrs["externalRef"],
		"nic":        find(t, desire, DemoNIC, "", "name", "nic-2").Attrs["external_ref"],
		"region":     find(t, desire, DemoCloudRegion, "", "name", "eu-central-1").Attrs["external_ref"],
		"handover":   find(t, desire, DemoCloudHandover, "eu-central-1", "name", "EqFA5").Attrs["external_ref"],
	}
}

// TestFreshWriteSurvivesANewerParent: a value written at t+100s is not
// overwritten by the old value of an entity whose parent was written at
// t+101s, nor by a sibling written later: an attribute is judged by the
// time of the entity (the row) that holds it, on both sides.
func TestFreshWriteSurvivesANewerParent(t *testing.T) {
	want := map[string]any{"connection": "A", "nic": "A", "region": "A", "handover": "A"}
	t.Run("newer parent", func(t *testing.T) {
		// The handover's own row is newer than the connection's value:
		// it keeps its own.
		want := map[string]any{"connection": "A", "nic": "A", "region": "A", "handover": nil}
		eachSourceKind(t, func(t *testing.T, c *config.Config, daphne, desire DataSource) {
			s := convergedDemo(t, c, daphne, desire)
			write(t, daphne, find(t, daphne, DemoVlanServiceConnection, "", "name", "nic-2"), DemoTime.Add(100*time.Second), "externalRef", "A")
			write(t, desire, find(t, desire, DemoCloudHandover, "eu-central-1", "name", "EqFA5"), DemoTime.Add(101*time.Second))
			_, err := s.Converge(context.Background(), 10)
			assert.NilError(t, err)
			assert.DeepEqual(t, externalRefs(t, daphne, desire), want)
		})
	})
	t.Run("newer sibling", func(t *testing.T) {
		eachSourceKind(t, func(t *testing.T, c *config.Config, daphne, desire DataSource) {
			s := convergedDemo(t, c, daphne, desire)
			write(t, desire, find(t, desire, DemoNIC, "", "name", "nic-2"), DemoTime.Add(100*time.Second), "external_ref", "A")
			write(t, desire, find(t, desire, DemoNIC, "", "name", "nic-2a"), DemoTime.Add(101*time.Second))
			_, err := s.Converge(context.Background(), 10)
			assert.NilError(t, err)
			assert.DeepEqual(t, externalRefs(t, daphne, desire), want)
		})
	})
}

// TestSharedTargetConverges: two connections feeding one region converge
// in one run to the newest value, on a tie to the contributor with the
// smallest reference, and the conflict is reported.
func TestSharedTargetConverges(t *testing.T) {
	for _, later := range []time.Duration{0, time.Second} {
		t.Run(fmt.Sprintf("nic-2a %v later", later), func(t *testing.T) {
			eachSourceKind(t, func(t *testing.T, c *config.Config, daphne, desire DataSource) {
				ctx := context.Background()
				s := convergedDemo(t, c, daphne, desire)
				nic2 := find(t, daphne, DemoVlanServiceConnection, "", "name", "nic-2")
				nic2a := find(t, daphne, DemoVlanServiceConnection, "", "name", "nic-2a")
				at := DemoTime.Add(100 * time.Second)
				write(t, daphne, nic2, at, "externalRef", "X")
				write(t, daphne, nic2a, at.Add(later), "externalRef", "Y")
				want := "Y"
				if later == 0 && nic2.Ref().String() < nic2a.Ref().String() {
					want = "X"
				}
				r1, err := s.Run(ctx)
				assert.NilError(t, err)
				conflicts := 0
				for _, o := range r1.Ops {
					if o.Kind == OpConflict && o.To.Type == DemoCloudRegion {
						conflicts++
					}
				}
				assert.Equal(t, conflicts, 1, "ops: %v", r1.Ops)
				assert.Equal(t, find(t, desire, DemoCloudRegion, "", "name", "eu-central-1").Attrs["external_ref"], want)
				runs, err := s.Converge(ctx, 3)
				assert.NilError(t, err)
				assert.Equal(t, runs[len(runs)-1].Changes(), 0)
				assert.Assert(t, len(runs) <= 2, "converged in %d more runs", len(runs))
				assert.Equal(t, find(t, desire, DemoCloudRegion, "", "name", "eu-central-1").Attrs["external_ref"], want)
			})
		})
	}
}

// failingDelete is a DataSource that refuses to delete one entity.
type failingDelete struct {
	DataSource
	refuse string // the id whose deletion fails
}

func (f failingDelete) Delete(ctx context.Context, r Ref) error {
	if r.ID == f.refuse {
		return fmt.Errorf("refused by the test")
	}
	return f.DataSource.Delete(ctx, r)
}

// TestFailedWriteDoesNotBlockTheRest: a deletion the target refuses is
// reported as CouldNotDelete and in the run's error, and the run goes on:
// the other orphan is deleted and a new entity is added; the next run
// tries the refused deletion again.
func TestFailedWriteDoesNotBlockTheRest(t *testing.T) {
	eachSourceKind(t, func(t *testing.T, c *config.Config, l, r DataSource) {
		ctx := context.Background()
		m := providers
		m.Modes, m.DeleteOrphans = LeftToRight, true
		a := mustCreate(t, l, ent("P", t0, "name", "a"))
		b := mustCreate(t, l, ent("P", t0, "name", "b"))
		s, err := NewSyncer(l, r, newLinks(t, c), []Mapping{m}, nil)
		assert.NilError(t, err)
		_, err = s.Converge(ctx, 5)
		assert.NilError(t, err)
		qa := find(t, r, "Q", "", "name", "a")
		refusing := failingDelete{r, qa.ID}
		s, err = NewSyncer(l, refusing, newLinks(t, c), []Mapping{m}, nil)
		assert.NilError(t, err)
		assert.NilError(t, l.Delete(ctx, a.Ref()))
		assert.NilError(t, l.Delete(ctx, b.Ref()))
		mustCreate(t, l, ent("P", t0, "name", "new"))

		run, err := s.Run(ctx)
		assert.ErrorIs(t, err, ErrWritesFailed)
		assert.ErrorContains(t, err, qa.Ref().String())
		assert.ErrorContains(t, err, "refused by the test")
		assert.Assert(t, !strings.Contains(err.Error(), "\n"), "one line: %q", err)
		assert.DeepEqual(t, countKinds(run.Ops), map[OpKind]int{OpAddition: 1, OpLinking: 1, OpDeletion: 1, OpCouldNotDelete: 1})
		qs, err := r.Find(ctx, "Q", nil)
		assert.NilError(t, err)
		assert.Equal(t, len(qs), 2, "a (refused) and new: %v", qs)

		run, err = s.Run(ctx)
		assert.ErrorIs(t, err, ErrWritesFailed)
		assert.DeepEqual(t, kinds(run.Ops), []string{"CouldNotDelete"})
	})
}

// TestMappingsCheckedAgainstSchemas: a typo in a type, a deep key path, a
// source or a target attribute fails NewSyncer, naming the mapping and
// the name, with the nearest match; the demo's mappings pass.
func TestMappingsCheckedAgainstSchemas(t *testing.T) {
	typo := func(f func(ms []Mapping)) []Mapping {
		ms := DemoMappings()
		f(ms)
		return ms
	}
	cases := []struct {
		name     string
		mappings []Mapping
		want     string
	}{
		{"source attribute", typo(func(ms []Mapping) { ms[0].Attributes[0].Left = "externalREf" }),
			`mapping 0 (VlanServiceConnection -> CloudRegion): left attribute path "externalREf": type VlanServiceConnection has no attribute "externalREf" (did you mean "externalRef"?)`},
		{"deep key path", typo(func(ms []Mapping) { ms[3].Keys[1].Right = "parent.prent.name" }),
			`mapping 3 (VlanServiceConnection <- NIC): right key path "parent.prent.name": type CloudHandover has no reference "prent" (did you mean "parent"?)`},
		{"type", typo(func(ms []Mapping) { ms[1].Right = "CloudServiceProvidr" }),
			`right type "CloudServiceProvidr" is not a type of source R (did you mean "CloudServiceProvider"?)`},
		{"target attribute", typo(func(ms []Mapping) { ms[1].Attributes[0].Right = "upgrade_alowed" }),
			`right attribute path "upgrade_alowed": type CloudServiceProvider has no attribute "upgrade_alowed" (did you mean "upgrade_allowed"?)`},
		{"key", typo(func(ms []Mapping) { ms[1].Keys[0].Left = "nam" }),
			`left key path "nam": type VlanServiceProvider has no attribute "nam" (did you mean "name"?)`},
	}
	eachStore(t, func(t *testing.T, c *config.Config) {
		for _, k := range []struct {
			name string
			l, r Schema
		}{
			{"memory sources", NewMemorySource("L").Declare(DemoLeftSchema...), NewMemorySource("R").Declare(DemoRightSchema...)},
			{"store sources", mustStore(t, c, "L").Declare(DemoLeftSchema...), mustStore(t, c, "R").Declare(DemoRightSchema...)},
		} {
			t.Run(k.name, func(t *testing.T) {
				l, r := k.l.(DataSource), k.r.(DataSource)
				_, err := NewSyncer(l, r, newLinks(t, c), DemoMappings(), nil)
				assert.NilError(t, err)
				for _, tc := range cases {
					_, err := NewSyncer(l, r, newLinks(t, c), tc.mappings, nil)
					assert.ErrorContains(t, err, tc.want, tc.name)
				}
			})
		}
	})
}

func mustStore(t *testing.T, c *config.Config, name string) *StoreSource {
	s, err := NewStoreSource(c, name, "/datasync/test/"+name)
	assert.NilError(t, err)
	return s
}

// TestReusedIDDoesNotInheritLinks: an entity created with the id of a
// deleted one (as SQLite reuses rowids) is not taken for it: it gets a
// counterpart of its own, and the deleted one's counterpart keeps its
// values and is not linked to it.
func TestReusedIDDoesNotInheritLinks(t *testing.T) {
	eachSourceKind(t, func(t *testing.T, c *config.Config, daphne, desire DataSource) {
		ctx := context.Background()
		s := convergedDemo(t, c, daphne, desire)
		nic2 := find(t, desire, DemoNIC, "", "name", "nic-2")
		assert.NilError(t, desire.Delete(ctx, nic2.Ref()))
		_, err := s.Converge(ctx, 10)
		assert.NilError(t, err)
		reuse := nic2.Clone()
		reuse.Attrs = map[string]any{"name": "nic-5", "external_ref": "E5"}
		reuse.UpdatedAt = DemoTime.Add(time.Hour)
		_, err = desire.Create(ctx, reuse)
		assert.NilError(t, err)
		_, err = s.Converge(ctx, 10)
		assert.NilError(t, err)
		assert.Equal(t, find(t, daphne, DemoVlanServiceConnection, "", "name", "nic-2").Attrs["externalRef"], nil)
		assert.Equal(t, find(t, daphne, DemoVlanServiceConnection, "", "name", "nic-5").Attrs["externalRef"], "E5")
		nics, err := desire.Find(ctx, DemoNIC, Where{"name": "nic-2"})
		assert.NilError(t, err)
		assert.Equal(t, len(nics), 0, "a gone counterpart is not re-created")
	})
}
