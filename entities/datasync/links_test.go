package datasync

import (
	"context"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
)

func TestLinksBothDirectionsEscaped(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		l := newLinks(t, c)
		a := Endpoint{Source: "src:1", Ref: Ref{Type: "T/x", ID: "10.0.0.1/24"}}
		b := Endpoint{Source: "other", Ref: Ref{Type: "U", ID: "a b%c"}}
		assert.NilError(t, c.Txn(ctx, func(t *config.Txn) error { return l.PutTxn(t, a, b) }))
		all, err := l.All(ctx)
		assert.NilError(t, err)
		assert.DeepEqual(t, all, map[Endpoint][]Endpoint{a: {b}, b: {a}})
		got, err := l.Linked(ctx, b)
		assert.NilError(t, err)
		assert.DeepEqual(t, got, []Endpoint{a})
		assert.NilError(t, c.Txn(ctx, func(t *config.Txn) error { return l.DeleteTxn(t, a, b) }))
		all, err = l.All(ctx)
		assert.NilError(t, err)
		assert.Equal(t, len(all), 0)
	})
}

// TestStoreSourceWritesEntityAndLinksInOneTxn checks that an addition into
// a StoreSource commits the entity and both link keys at one revision, and
// that an orphan deletion removes them at one revision.
func TestStoreSourceWritesEntityAndLinksInOneTxn(t *testing.T) {
	eachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		left := NewMemorySource("L")
		right, err := NewStoreSource(c, "R", "/datasync/test/right")
		assert.NilError(t, err)
		links := newLinks(t, c)
		m := providers
		m.Modes, m.DeleteOrphans = LeftToRight, true
		s, err := NewSyncer(left, right, links, []Mapping{m}, nil)
		assert.NilError(t, err)
		p := mustCreate(t, left, ent("P", t0, "name", "a"))
		r, err := s.Run(ctx)
		assert.NilError(t, err)
		assert.DeepEqual(t, kinds(r.Ops), []string{"Addition", "Linking"})
		q := r.Ops[0].To
		lp, rq := Endpoint{Source: "L", Ref: p.Ref()}, Endpoint{Source: "R", Ref: q}
		var revs []int64
		assert.NilError(t, c.Txn(ctx, func(tx *config.Txn) error {
			revs = nil
			for _, path := range []string{right.Kind("Q").Path(q.ID), links.key(lp, rq), links.key(rq, lp)} {
				kv, ok, err := tx.GetKV(path)
				if err != nil {
					return err
				}
				assert.Assert(t, ok, path)
				revs = append(revs, kv.ModRevision)
			}
			return nil
		}))
		assert.Equal(t, revs[0], revs[1])
		assert.Equal(t, revs[0], revs[2])

		// The stored entity is the typed value, read back by RefOf/Get.
		ref, ok := right.RefOf(right.Kind("Q").Path(q.ID))
		assert.Assert(t, ok)
		assert.Equal(t, ref, q)
		got, err := right.Get(ctx, q)
		assert.NilError(t, err)
		assert.Equal(t, got.Attrs["name"], "a")

		// Orphan deletion removes the entity and its links together.
		assert.NilError(t, left.Delete(ctx, p.Ref()))
		r, err = s.Run(ctx)
		assert.NilError(t, err)
		assert.DeepEqual(t, kinds(r.Ops), []string{"Deletion"})
		assert.NilError(t, c.Txn(ctx, func(tx *config.Txn) error {
			for _, path := range []string{right.Kind("Q").Path(q.ID), links.key(lp, rq), links.key(rq, lp)} {
				_, ok, err := tx.Get(path)
				if err != nil {
					return err
				}
				assert.Assert(t, !ok, path)
			}
			return nil
		}))
	})
}
