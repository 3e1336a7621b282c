package sqlsource

import (
	"context"
	"database/sql"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/datasync"
)

const familySchema = `
CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL, updated_at TEXT);
CREATE TABLE children (id INTEGER PRIMARY KEY, name TEXT NOT NULL, parent_id INTEGER REFERENCES parents(id), updated_at TEXT);
`

// openFamily opens a fresh SQLite file with foreign keys on and rowids
// that are reused (INTEGER PRIMARY KEY without AUTOINCREMENT).
func openFamily(t *testing.T) *Source {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "family.sqlite")+"?_pragma=foreign_keys(1)")
	assert.NilError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(familySchema)
	assert.NilError(t, err)
	s, err := New("family", db,
		Table{Type: "Parent", Name: "parents", Attrs: []string{"name"}, UpdatedAt: "updated_at"},
		Table{Type: "Child", Name: "children", Attrs: []string{"name"}, Refs: map[string]RefColumn{"parent": {Column: "parent_id", Type: "Parent"}}, UpdatedAt: "updated_at"},
	)
	assert.NilError(t, err)
	return s
}

var familyMappings = []datasync.Mapping{
	{Left: "P", Right: "Parent", Modes: datasync.LeftToRight, Keys: []datasync.AttributeMap{datasync.Attr("name", "name")}, DeleteOrphans: true},
	{Left: "C", Right: "Child", Modes: datasync.LeftToRight, DeleteOrphans: true, Keys: []datasync.AttributeMap{
		datasync.Attr("name", "name"), datasync.RefAttr("parent", "parent", "P", "Parent"),
	}},
}

// TestOrphansDeletedChildrenFirst: with foreign keys on, a parent and its
// child orphaned together are deleted child first, and a new parent is
// synced in the same run.
func TestOrphansDeletedChildrenFirst(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			c := config.New(st.open(t), config.Options{})
			defer c.Close()
			left := datasync.NewMemorySource("left")
			right := openFamily(t)
			links, err := datasync.NewLinks(c, "/ds/links")
			assert.NilError(t, err)
			s, err := datasync.NewSyncer(left, right, links, familyMappings, nil)
			assert.NilError(t, err)
			p, err := left.Create(ctx, datasync.Entity{Type: "P", Attrs: map[string]any{"name": "p"}})
			assert.NilError(t, err)
			ch, err := left.Create(ctx, datasync.Entity{Type: "C", Attrs: map[string]any{"name": "c"}, Refs: map[string]datasync.Ref{"parent": p.Ref()}})
			assert.NilError(t, err)
			_, err = s.Converge(ctx, 5)
			assert.NilError(t, err)

			assert.NilError(t, left.Delete(ctx, ch.Ref()))
			assert.NilError(t, left.Delete(ctx, p.Ref()))
			_, err = left.Create(ctx, datasync.Entity{Type: "P", Attrs: map[string]any{"name": "q"}})
			assert.NilError(t, err)
			runs, err := s.Converge(ctx, 5)
			assert.NilError(t, err)
			assert.Equal(t, runs[0].Changes(), 4, "%v", runs[0].Ops) // q added and linked, c and p deleted
			parents, err := right.Find(ctx, "Parent", nil)
			assert.NilError(t, err)
			assert.Equal(t, len(parents), 1)
			assert.Equal(t, parents[0].Attrs["name"], "q")
			children, err := right.Find(ctx, "Child", nil)
			assert.NilError(t, err)
			assert.Equal(t, len(children), 0)
		})
	}
}

// TestSchemaReadFromTheDatabase: a table or column the database lacks
// fails New; a mapping naming an attribute no table has fails NewSyncer.
func TestSchemaReadFromTheDatabase(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "s.sqlite"))
	assert.NilError(t, err)
	defer db.Close()
	_, err = db.Exec(familySchema)
	assert.NilError(t, err)
	_, err = New("family", db, Table{Type: "Parent", Name: "parents", Attrs: []string{"nmae"}})
	assert.ErrorContains(t, err, "table parents of type Parent")
	assert.ErrorContains(t, err, "nmae")
	_, err = New("family", db, Table{Type: "Parent", Name: "parent", Attrs: []string{"name"}})
	assert.ErrorContains(t, err, "table parent of type Parent")

	c := config.New(stores[0].open(t), config.Options{})
	defer c.Close()
	links, err := datasync.NewLinks(c, "/ds/links")
	assert.NilError(t, err)
	ms := append([]datasync.Mapping(nil), familyMappings...)
	ms[1].Keys = []datasync.AttributeMap{datasync.Attr("name", "nme"), datasync.RefAttr("parent", "parent", "P", "Parent")}
	_, err = datasync.NewSyncer(datasync.NewMemorySource("left"), openFamily(t), links, ms, nil)
	assert.ErrorContains(t, err, `mapping 1 (C -> Child): right key path "nme": type Child has no attribute "nme" (did you mean "name"?)`)
}

// TestReusedRowidDoesNotInheritLinks: SQLite gives a new row the rowid of
// the deleted last one (INTEGER PRIMARY KEY without AUTOINCREMENT); the
// new NIC gets a connection of its own and the deleted NIC's connection
// keeps its values.
func TestReusedRowidDoesNotInheritLinks(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "desire.sqlite"))
	assert.NilError(t, err)
	defer db.Close()
	_, err = db.Exec(strings.ReplaceAll(desireSchema, " AUTOINCREMENT", ""))
	assert.NilError(t, err)
	desire, err := New("desire", db, openDesire(t).tableList()...)
	assert.NilError(t, err)
	s, daphne, _ := convergeDemo(t, desire)

	nics, err := desire.Find(ctx, datasync.DemoNIC, datasync.Where{"name": "nic-2"})
	assert.NilError(t, err)
	assert.Equal(t, len(nics), 1)
	nic2 := nics[0]
	assert.NilError(t, desire.Delete(ctx, nic2.Ref()))
	_, err = s.Converge(ctx, 10)
	assert.NilError(t, err)
	nic5, err := desire.Create(ctx, datasync.Entity{Type: datasync.DemoNIC, Attrs: map[string]any{"name": "nic-5", "external_ref": "E5"},
		Refs: nic2.Refs, UpdatedAt: datasync.DemoTime.Add(time.Hour)})
	assert.NilError(t, err)
	assert.Equal(t, nic5.ID, nic2.ID, "SQLite reused the rowid")
	_, err = s.Converge(ctx, 10)
	assert.NilError(t, err)
	conns, err := daphne.Find(ctx, datasync.DemoVlanServiceConnection, nil)
	assert.NilError(t, err)
	byName := map[string]any{}
	for _, e := range conns {
		byName[e.Attrs["name"].(string)] = e.Attrs["externalRef"]
	}
	assert.Equal(t, byName["nic-2"], nil)
	assert.Equal(t, byName["nic-5"], "E5")
}

// tableList returns the source's tables, sorted by type.
func (s *Source) tableList() []Table {
	var out []Table
	for _, t := range s.tables {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// convergeDemo loads the demo into a memory Daphne and desire, and
// converges it with links in a memory store, returning the runs.
func convergeDemo(t *testing.T, desire *Source) (*datasync.Syncer, *datasync.MemorySource, []datasync.Run) {
	t.Helper()
	ctx := context.Background()
	c := config.New(stores[0].open(t), config.Options{})
	t.Cleanup(func() { c.Close() })
	daphne := datasync.NewMemorySource("daphne").Declare(datasync.DemoLeftSchema...)
	assert.NilError(t, datasync.LoadDemo(ctx, daphne, desire))
	links, err := datasync.NewLinks(c, "/ds/links")
	assert.NilError(t, err)
	s, err := datasync.NewSyncer(daphne, desire, links, datasync.DemoMappings(), nil)
	assert.NilError(t, err)
	runs, err := s.Converge(ctx, 10)
	assert.NilError(t, err)
	return s, daphne, runs
}
