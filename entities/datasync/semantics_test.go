package datasync

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture is two memory sources and a syncer over mappings.
type fixture struct {
	l, r *MemorySource
	s    *Syncer
	c    *config.Config
}

func newFixture(t *testing.T, c *config.Config, ms ...Mapping) *fixture {
	t.Helper()
	f := &fixture{l: NewMemorySource("L"), r: NewMemorySource("R"), c: c}
	s, err := NewSyncer(f.l, f.r, newLinks(t, c), ms, nil)
	assert.NilError(t, err)
	f.s = s
	return f
}

func (f *fixture) run(t *testing.T) Run {
	t.Helper()
	r, err := f.s.Run(context.Background())
	assert.NilError(t, err)
	return r
}

func ent(typ string, ts time.Time, kv ...any) Entity {
	e := Entity{Type: typ, Attrs: map[string]any{}, UpdatedAt: ts}
	for i := 0; i+1 < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case Ref:
			if e.Refs == nil {
				e.Refs = map[string]Ref{}
			}
			e.Refs[kv[i].(string)] = v
		default:
			e.Attrs[kv[i].(string)] = v
		}
	}
	return e
}

var providers = Mapping{Left: "P", Right: "Q", Keys: []AttributeMap{Attr("name", "name")}, Attributes: []AttributeMap{Attr("x", "y")}}

var children = Mapping{
	Left: "C", Right: "D", Modes: LeftToRight,
	Keys: []AttributeMap{Attr("name", "name"), RefAttr("parent", "parent", "P", "Q")},
}

func TestLeftToRightBeforeRightToLeft(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		f := newFixture(t, c, providers)
		mustCreate(t, f.l, ent("P", t0, "name", "a"))
		mustCreate(t, f.r, ent("Q", t0, "name", "b"))
		r := f.run(t)
		assert.DeepEqual(t, kinds(r.Ops), []string{"Addition", "Linking", "Addition", "Linking"})
		assert.Equal(t, r.Ops[0].Direction, LeftToRight)
		assert.Equal(t, r.Ops[0].To.Type, "Q")
		assert.Equal(t, r.Ops[2].Direction, RightToLeft)
		assert.Equal(t, r.Ops[2].To.Type, "P")
		assert.Equal(t, f.run(t).Changes(), 0)
	})
}

func TestMappingsInOrderAndMissingLinkDeferred(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		// Children first: their parent is not linked until the second
		// mapping runs, so the first run defers them, the second adds them.
		f := newFixture(t, c, children, providers)
		p := mustCreate(t, f.l, ent("P", t0, "name", "aws"))
		mustCreate(t, f.l, ent("C", t0, "name", "c1", "parent", p.Ref()))
		r1 := f.run(t)
		assert.DeepEqual(t, kinds(r1.Ops), []string{"SkipMissingLink", "Addition", "Linking"})
		assert.Equal(t, r1.Ops[0].From.Type, "C")
		assert.Assert(t, r1.Ops[0].Reason != "")
		r2 := f.run(t)
		assert.DeepEqual(t, kinds(r2.Ops), []string{"Addition", "Linking"})
		ds, err := f.r.Find(context.Background(), "D", nil)
		assert.NilError(t, err)
		qs, err := f.r.Find(context.Background(), "Q", Where{"name": "aws"})
		assert.NilError(t, err)
		assert.Equal(t, len(ds), 1)
		assert.Equal(t, ds[0].Refs["parent"], qs[0].Ref())
		assert.Equal(t, f.run(t).Changes(), 0)
	})
}

func TestParentsMappedFirstNeedNoDeferral(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		f := newFixture(t, c, providers, children)
		p := mustCreate(t, f.l, ent("P", t0, "name", "aws"))
		mustCreate(t, f.l, ent("C", t0, "name", "c1", "parent", p.Ref()))
		assert.DeepEqual(t, kinds(f.run(t).Ops), []string{"Addition", "Linking", "Addition", "Linking"})
		assert.Equal(t, f.run(t).Changes(), 0)
	})
}

func TestMatchNoneOneMany(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		m := providers
		m.Modes = LeftToRight
		f := newFixture(t, c, m)
		mustCreate(t, f.l, ent("P", t0, "name", "none", "x", 1))
		mustCreate(t, f.l, ent("P", t0, "name", "one", "x", 2))
		mustCreate(t, f.l, ent("P", t0, "name", "many"))
		one := mustCreate(t, f.r, ent("Q", t0, "name", "one", "y", 9))
		mustCreate(t, f.r, ent("Q", t0, "name", "many"))
		mustCreate(t, f.r, ent("Q", t0, "name", "many"))
		r := f.run(t)
		assert.DeepEqual(t, kinds(r.Ops), []string{"Addition", "Linking", "Linking", "AttributeUpdated", "SkipAmbiguous"})
		assert.Equal(t, r.Ops[2].To, one.Ref())
		assert.Equal(t, r.Ops[3].Old, 9)
		assert.Equal(t, r.Ops[3].New, 2)
		got, err := f.r.Find(context.Background(), "Q", Where{"name": "none"})
		assert.NilError(t, err)
		assert.Equal(t, len(got), 1)
		assert.Equal(t, got[0].Attrs["y"], 1)
		// The ambiguous one stays skipped; nothing else changes.
		r2 := f.run(t)
		assert.DeepEqual(t, kinds(r2.Ops), []string{"SkipAmbiguous"})
		runs, err := f.s.Converge(context.Background(), 3)
		assert.NilError(t, err)
		assert.Equal(t, len(runs), 1)
	})
}

func TestNoCreate(t *testing.T) {
	m := providers
	m.NoCreate = true
	m.Modes = LeftToRight
	eachStore(t, func(t *testing.T, c *config.Config) {
		f := newFixture(t, c, m)
		mustCreate(t, f.l, ent("P", t0, "name", "a"))
		assert.DeepEqual(t, kinds(f.run(t).Ops), []string{"SkipNoCreate"})
		got, _ := f.r.Find(context.Background(), "Q", nil)
		assert.Equal(t, len(got), 0)
	})
}

func TestLinkedCounterpartGoneIsNotRecreated(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		f := newFixture(t, c, providers)
		mustCreate(t, f.l, ent("P", t0, "name", "a"))
		f.run(t)
		qs, _ := f.r.Find(context.Background(), "Q", nil)
		assert.Equal(t, len(qs), 1)
		assert.NilError(t, f.r.Delete(context.Background(), qs[0].Ref()))
		r := f.run(t)
		assert.Equal(t, len(r.Ops), 0)
		qs, _ = f.r.Find(context.Background(), "Q", nil)
		assert.Equal(t, len(qs), 0)
		ps, _ := f.l.Find(context.Background(), "P", nil)
		assert.Equal(t, len(ps), 1, "without DeleteOrphans the left entity stays")
	})
}

func TestLastWriteWins(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		f := newFixture(t, c, providers)
		p := mustCreate(t, f.l, ent("P", t0, "name", "a", "x", "v0"))
		f.run(t)
		qs, _ := f.r.Find(ctx, "Q", nil)
		q := qs[0]
		assert.Equal(t, q.Attrs["y"], "v0")
		assert.Equal(t, q.UpdatedAt, t0, "a copy carries its source's time")

		// Right newer: flows right to left, the left→right pass leaves it.
		q.Attrs["y"], q.UpdatedAt = "right", t0.Add(time.Minute)
		assert.NilError(t, f.r.Update(ctx, q))
		r := f.run(t)
		assert.DeepEqual(t, kinds(r.Ops), []string{"AttributeUpdated"})
		assert.Equal(t, r.Ops[0].Direction, RightToLeft)
		got, _ := f.l.Get(ctx, p.Ref())
		assert.Equal(t, got.Attrs["x"], "right")

		// Left newer: flows left to right.
		got.Attrs["x"], got.UpdatedAt = "left", t0.Add(2*time.Minute)
		assert.NilError(t, f.l.Update(ctx, got))
		r = f.run(t)
		assert.DeepEqual(t, kinds(r.Ops), []string{"AttributeUpdated"})
		assert.Equal(t, r.Ops[0].Direction, LeftToRight)
		q, _ = f.r.Get(ctx, q.Ref())
		assert.Equal(t, q.Attrs["y"], "left")

		// Equal times, different values: the left→right pass wins.
		got, _ = f.l.Get(ctx, p.Ref())
		q.Attrs["y"], q.UpdatedAt = "tie-right", got.UpdatedAt
		assert.NilError(t, f.r.Update(ctx, q))
		r = f.run(t)
		assert.DeepEqual(t, kinds(r.Ops), []string{"AttributeUpdated"})
		assert.Equal(t, r.Ops[0].Direction, LeftToRight)
		q, _ = f.r.Get(ctx, q.Ref())
		assert.Equal(t, q.Attrs["y"], "left")
	})
}

func TestLastWriteWinsByTheRowHoldingTheValue(t *testing.T) {
	// The child on the right is older than the left one, but its parent
	// (on its key path) was written later: the parent's time does not
	// count for the child's own attribute, so the left side wins.
	child := Mapping{
		Left: "C", Right: "D",
		Keys:       []AttributeMap{Attr("name", "name"), Attr("region", "parent.name")},
		Attributes: []AttributeMap{Attr("x", "y")},
	}
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		f := newFixture(t, c, child)
		mustCreate(t, f.l, ent("C", t0.Add(time.Minute), "name", "c", "region", "eu", "x", "left"))
		rp := mustCreate(t, f.r, ent("R", t0.Add(2*time.Minute), "name", "eu"))
		d := mustCreate(t, f.r, ent("D", t0, "name", "c", "parent", rp.Ref(), "y", "right"))
		r := f.run(t)
		assert.DeepEqual(t, kinds(r.Ops), []string{"Linking", "AttributeUpdated"})
		assert.Equal(t, r.Ops[1].Direction, LeftToRight)
		got, _ := f.r.Get(ctx, d.Ref())
		assert.Equal(t, got.Attrs["y"], "left")
		cs, _ := f.l.Find(ctx, "C", nil)
		assert.Equal(t, cs[0].Attrs["x"], "left")
	})
}

func TestReferenceLinkedToSeveralFailsTheRun(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		f := newFixture(t, c, children)
		p := mustCreate(t, f.l, ent("P", t0, "name", "aws"))
		mustCreate(t, f.l, ent("C", t0, "name", "c1", "parent", p.Ref()))
		q1 := mustCreate(t, f.r, ent("Q", t0, "name", "aws"))
		q2 := mustCreate(t, f.r, ent("Q", t0, "name", "aws2"))
		links := newLinks(t, c)
		assert.NilError(t, c.Txn(ctx, func(tx *config.Txn) error {
			lp := Endpoint{Source: "L", Ref: p.Ref()}
			if err := links.PutTxn(tx, lp, Endpoint{Source: "R", Ref: q1.Ref()}); err != nil {
				return err
			}
			return links.PutTxn(tx, lp, Endpoint{Source: "R", Ref: q2.Ref()})
		}))
		_, err := f.s.Run(ctx)
		assert.Assert(t, errors.Is(err, ErrAmbiguousLink), "got %v", err)
		assert.ErrorContains(t, err, "C/2.parent is P/1, linked to 2 Q entities")
	})
}

func TestOrphanDeletionOnlyWhenEverySourceIsGone(t *testing.T) {
	regions := Mapping{
		Left: "C", Right: "Region", Modes: LeftToRight, DeleteOrphans: true,
		Keys: []AttributeMap{Attr("region", "name")},
	}
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		f := newFixture(t, c, regions)
		c1 := mustCreate(t, f.l, ent("C", t0, "name", "c1", "region", "eu"))
		c2 := mustCreate(t, f.l, ent("C", t0, "name", "c2", "region", "eu"))
		unlinked := mustCreate(t, f.r, ent("Region", t0, "name", "us"))
		r := f.run(t)
		assert.DeepEqual(t, kinds(r.Ops), []string{"Addition", "Linking", "Linking"})
		region := r.Ops[0].To

		assert.NilError(t, f.l.Delete(ctx, c1.Ref()))
		assert.Equal(t, len(f.run(t).Ops), 0, "c2 still links the region")

		assert.NilError(t, f.l.Delete(ctx, c2.Ref()))
		r = f.run(t)
		assert.DeepEqual(t, kinds(r.Ops), []string{"Deletion"})
		assert.Equal(t, r.Ops[0].To, region)
		_, err := f.r.Get(ctx, region)
		assert.Assert(t, errors.Is(err, ErrNotFound))
		_, err = f.r.Get(ctx, unlinked.Ref())
		assert.NilError(t, err, "an entity without links is no orphan")
		all, err := newLinks(t, c).All(ctx)
		assert.NilError(t, err)
		assert.Equal(t, len(all[Endpoint{Source: "R", Ref: region}]), 0)
		assert.Equal(t, len(f.run(t).Ops), 0)
	})
}

func TestConvergeGivesUp(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		f := newFixture(t, c, DemoMappings()...)
		assert.NilError(t, LoadDemo(context.Background(), f.l, f.r))
		runs, err := f.s.Converge(context.Background(), 1)
		assert.Assert(t, errors.Is(err, ErrNotConverged), "got %v", err)
		assert.Equal(t, len(runs), 1)
	})
}

func TestSyncOne(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		f := newFixture(t, c, providers)
		a := mustCreate(t, f.l, ent("P", t0, "name", "a"))
		mustCreate(t, f.l, ent("P", t0, "name", "b"))
		mustCreate(t, f.r, ent("Q", t0, "name", "q"))
		r, err := f.s.SyncOne(ctx, Left, a.Ref())
		assert.NilError(t, err)
		assert.DeepEqual(t, kinds(r.Ops), []string{"Addition", "Linking"})
		assert.Equal(t, r.Ops[0].From, a.Ref())
		qs, _ := f.r.Find(ctx, "Q", nil)
		assert.Equal(t, len(qs), 2, "only a was synchronised")
	})
}

func TestMappingValidate(t *testing.T) {
	for _, tc := range []struct {
		m    Mapping
		want string
	}{
		{Mapping{Left: "A"}, "both entity types"},
		{Mapping{Left: "A", Right: "B"}, "no keys"},
		{Mapping{Left: "A", Right: "B", Keys: []AttributeMap{{Left: "x", Right: "y", LeftType: "P"}}}, "both type hints"},
		{Mapping{Left: "A", Right: "B", Keys: []AttributeMap{Attr(Self, "y")}}, "needs type hints"},
		{Mapping{Left: "A", Right: "B", Keys: []AttributeMap{Attr("a..b", "y")}}, "malformed"},
		{Mapping{Left: "A", Right: "B", Keys: []AttributeMap{Attr("x", "y")}, Attributes: []AttributeMap{Attr("p.q", "z")}}, "plain name"},
		{Mapping{Left: "A", Right: "B", Modes: 8, Keys: []AttributeMap{Attr("x", "y")}}, "unknown mode"},
	} {
		assert.ErrorContains(t, tc.m.Validate(), tc.want)
	}
	assert.NilError(t, Mapping{Left: "A", Right: "B", Modes: LeftToRight, Keys: []AttributeMap{Attr("x", "y")}, Attributes: []AttributeMap{Attr("p.q", "z")}}.Validate())
}

func TestSpecJSONRoundTrip(t *testing.T) {
	sp := Spec{Left: SourceSpec{Name: "a", Prefix: "/a"}, Right: SourceSpec{Name: "b", Prefix: "/b"}, Links: "/l", Mappings: DemoMappings()}
	s, err := config.Marshal(sp)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(s, `"modes": "right-to-left"`), s)
	assert.Assert(t, strings.Contains(s, `"right": "parent.parent.parent"`), s)
	var back Spec
	assert.NilError(t, json.Unmarshal([]byte(s), &back))
	assert.DeepEqual(t, back, sp)
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"modes": "sideways"}`), &Mapping{}), "unknown mode")
}

// failingCreate is a DataSource whose Create runs a hook after the entity
// is stored: a crash between the entity and its link.
type failingCreate struct {
	*MemorySource
	after func()
}

func (f failingCreate) Create(ctx context.Context, e Entity) (Entity, error) {
	out, err := f.MemorySource.Create(ctx, e)
	f.after()
	return out, err
}

// TestCrashBetweenEntityAndLinkHeals: for an external source the entity is
// written before its link; if the link is lost, the next run links the
// entity it finds on its keys instead of adding another.
func TestCrashBetweenEntityAndLinkHeals(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			b := st.open(t)
			c1 := config.New(b, config.Options{})
			left, right := NewMemorySource("L"), NewMemorySource("R")
			m := providers
			m.Modes = LeftToRight
			s1, err := NewSyncer(left, failingCreate{right, func() { c1.Close() }}, newLinks(t, c1), []Mapping{m}, nil)
			assert.NilError(t, err)
			mustCreate(t, left, ent("P", t0, "name", "a"))
			r, err := s1.Run(ctx)
			assert.Assert(t, errors.Is(err, backend.ErrClosed), "got %v", err)
			assert.Equal(t, len(r.Ops), 0)
			qs, _ := right.Find(ctx, "Q", nil)
			assert.Equal(t, len(qs), 1, "the entity was written, its link was not")

			c2 := config.New(b, config.Options{})
			defer c2.Close()
			s2, err := NewSyncer(left, right, newLinks(t, c2), []Mapping{m}, nil)
			assert.NilError(t, err)
			r, err = s2.Run(ctx)
			assert.NilError(t, err)
			assert.DeepEqual(t, kinds(r.Ops), []string{"Linking"})
			assert.Equal(t, r.Ops[0].To, qs[0].Ref())
			qs, _ = right.Find(ctx, "Q", nil)
			assert.Equal(t, len(qs), 1)
		})
	}
}
