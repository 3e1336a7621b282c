package sqlsource

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sort"
	"testing"

	"gotest.tools/v3/assert"
	_ "modernc.org/sqlite" // the embedded SQL engine under test

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/datasync"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

const desireSchema = `
CREATE TABLE cloud_service_providers (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, upgrade_allowed INTEGER, updated_at TEXT);
CREATE TABLE cloud_regions (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, external_ref TEXT, parent_id INTEGER REFERENCES cloud_service_providers(id), updated_at TEXT);
CREATE TABLE cloud_handovers (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, external_ref TEXT, parent_id INTEGER REFERENCES cloud_regions(id), updated_at TEXT);
CREATE TABLE nics (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, external_ref TEXT, parent_id INTEGER REFERENCES cloud_handovers(id), updated_at TEXT);
`

func parent(typ string) map[string]RefColumn {
	return map[string]RefColumn{"parent": {Column: "parent_id", Type: typ}}
}

// openDesire opens a fresh SQLite file with the demo's Desire schema.
func openDesire(t *testing.T) *Source {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "desire.sqlite"))
	assert.NilError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(desireSchema)
	assert.NilError(t, err)
	s, err := New("desire", db,
		Table{Type: datasync.DemoCloudServiceProvider, Name: "cloud_service_providers", Attrs: []string{"name", "upgrade_allowed"}, Bools: []string{"upgrade_allowed"}, UpdatedAt: "updated_at"},
		Table{Type: datasync.DemoCloudRegion, Name: "cloud_regions", Attrs: []string{"name", "external_ref"}, Refs: parent(datasync.DemoCloudServiceProvider), UpdatedAt: "updated_at"},
		Table{Type: datasync.DemoCloudHandover, Name: "cloud_handovers", Attrs: []string{"name", "external_ref"}, Refs: parent(datasync.DemoCloudRegion), UpdatedAt: "updated_at"},
		Table{Type: datasync.DemoNIC, Name: "nics", Attrs: []string{"name", "external_ref"}, Refs: parent(datasync.DemoCloudHandover), UpdatedAt: "updated_at"},
	)
	assert.NilError(t, err)
	return s
}

var stores = []struct {
	name string
	open func(t *testing.T) backend.Backend
}{
	{"memory", func(t *testing.T) backend.Backend {
		b := memory.New()
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"etcd", func(t *testing.T) backend.Backend { return sdptest.NewBackend(t) }},
}

// The final Desire state of the seed's demo output.
var demoFinalDesire = []string{
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

// TestDemoWithDesireInSQLite runs the seed's demo with Desire as SQLite
// tables and Daphne in the config store, links in the store.
func TestDemoWithDesireInSQLite(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			c := config.New(st.open(t), config.Options{})
			defer c.Close()
			daphne, err := datasync.NewStoreSource(c, "daphne", "/ds/daphne")
			assert.NilError(t, err)
			desire := openDesire(t)
			assert.NilError(t, datasync.LoadDemo(ctx, daphne, desire))
			links, err := datasync.NewLinks(c, "/ds/links")
			assert.NilError(t, err)
			s, err := datasync.NewSyncer(daphne, desire, links, datasync.DemoMappings(), nil)
			assert.NilError(t, err)
			runs, err := s.Converge(ctx, 10)
			assert.NilError(t, err)
			assert.Equal(t, len(runs), 3)
			assert.Equal(t, len(runs[0].Ops), 27)
			assert.Equal(t, len(runs[1].Ops), 16)
			got, err := datasync.Describe(ctx, desire, datasync.DemoRightTypes)
			assert.NilError(t, err)
			sort.Strings(got)
			want := append([]string(nil), demoFinalDesire...)
			sort.Strings(want)
			assert.DeepEqual(t, got, want)
		})
	}
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s := openDesire(t)
	p, err := s.Create(ctx, datasync.Entity{Type: datasync.DemoCloudServiceProvider, Attrs: map[string]any{"name": "AWS", "upgrade_allowed": true}, UpdatedAt: datasync.DemoTime})
	assert.NilError(t, err)
	assert.Equal(t, p.ID, "1")
	r, err := s.Create(ctx, datasync.Entity{Type: datasync.DemoCloudRegion, Attrs: map[string]any{"name": "eu"}, Refs: map[string]datasync.Ref{"parent": p.Ref()}})
	assert.NilError(t, err)

	got, err := s.Get(ctx, p.Ref())
	assert.NilError(t, err)
	assert.DeepEqual(t, got.Attrs, map[string]any{"name": "AWS", "upgrade_allowed": true})
	assert.Assert(t, got.UpdatedAt.Equal(datasync.DemoTime))

	found, err := s.Find(ctx, datasync.DemoCloudRegion, datasync.Where{"parent": p.Ref(), "name": "eu"})
	assert.NilError(t, err)
	assert.Equal(t, len(found), 1)
	assert.Equal(t, found[0].Refs["parent"], p.Ref())
	found, err = s.Find(ctx, datasync.DemoCloudRegion, datasync.Where{"name": "us"})
	assert.NilError(t, err)
	assert.Equal(t, len(found), 0)

	r.Attrs["external_ref"] = "x"
	assert.NilError(t, s.Update(ctx, r))
	got, err = s.Get(ctx, r.Ref())
	assert.NilError(t, err)
	assert.Equal(t, got.Attrs["external_ref"], "x")

	assert.NilError(t, s.Delete(ctx, r.Ref()))
	_, err = s.Get(ctx, r.Ref())
	assert.Assert(t, errors.Is(err, datasync.ErrNotFound), "got %v", err)
	assert.Assert(t, errors.Is(s.Delete(ctx, r.Ref()), datasync.ErrNotFound))
	assert.Assert(t, errors.Is(s.Update(ctx, r), datasync.ErrNotFound))
	_, err = s.Create(ctx, datasync.Entity{Type: datasync.DemoCloudRegion, Attrs: map[string]any{"bogus": 1}})
	assert.ErrorContains(t, err, `no column for attribute "bogus"`)
	_, err = s.Find(ctx, "Nope", nil)
	assert.ErrorContains(t, err, `no table for type "Nope"`)
}
