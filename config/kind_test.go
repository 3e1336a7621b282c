package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"gotest.tools/v3/assert"
)

// block is an entity type whose Validate has a value receiver.
type block struct {
	ID         string         `json:"id"`
	Script     string         `json:"script"`
	Parameters map[string]any `json:"parameters"`
}

func (b block) Validate() error {
	if b.Script == "" {
		return errors.New("script is empty")
	}
	return nil
}

// ranged is an entity type whose Validate has a pointer receiver.
type ranged struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

func (r *ranged) Validate() error {
	if r.Min > r.Max {
		return fmt.Errorf("min %d > max %d", r.Min, r.Max)
	}
	return nil
}

var blocks = MustKind[block]("/pb")

func TestKindCRUD(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		ctx := ctxT(t)
		v1 := block{ID: "pb-1", Script: "vis-receive", Parameters: map[string]any{"n": 1}}

		// Get of a missing entity: ErrNotFound naming the key, never a zero value.
		err := c.Txn(ctx, func(t *Txn) error {
			_, err := blocks.Get(t, "pb-1")
			return err
		})
		assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
		assert.ErrorContains(t, err, `"/pb/pb-1"`)

		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return blocks.Create(t, "pb-1", v1) }))
		stored, ok := rawGet(t, b, "/pb/pb-1")
		assert.Assert(t, ok)
		want, err := Marshal(v1)
		assert.NilError(t, err)
		assert.Equal(t, stored, want)
		assert.Equal(t, stored, "{\n  \"id\": \"pb-1\",\n  \"parameters\": {\n    \"n\": 1\n  },\n  \"script\": \"vis-receive\"\n}")

		err = c.Txn(ctx, func(t *Txn) error { return blocks.Create(t, "pb-1", v1) })
		assert.Assert(t, errors.Is(err, backend.ErrCollision), "%v", err)
		assert.ErrorContains(t, err, "/pb/pb-1")

		err = c.Txn(ctx, func(t *Txn) error { return blocks.Update(t, "pb-2", v1) })
		assert.Assert(t, errors.Is(err, backend.ErrVanished), "%v", err)
		assert.ErrorContains(t, err, "/pb/pb-2")

		v2 := v1
		v2.Script = "test-batch"
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return blocks.Update(t, "pb-1", v2) }))
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return blocks.CreateOrUpdate(t, "pb-2", v1) }))
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return blocks.CreateOrUpdate(t, "pb-2", v2) }))
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return blocks.Create(t, "10.0.0.1/24", v1) }))

		var got1, got2 block
		var ids []string
		var exists, missing bool
		err = c.Txn(ctx, func(t *Txn) error {
			var err error
			if got1, err = blocks.Get(t, "pb-1"); err != nil {
				return err
			}
			if got2, err = blocks.Get(t, "pb-2"); err != nil {
				return err
			}
			if exists, err = blocks.Exists(t, "pb-2"); err != nil {
				return err
			}
			if missing, err = blocks.Exists(t, "pb-3"); err != nil {
				return err
			}
			ids, err = blocks.List(t)
			return err
		})
		assert.NilError(t, err)
		assert.DeepEqual(t, got1, block{ID: "pb-1", Script: "test-batch", Parameters: map[string]any{"n": json.Number("1")}})
		assert.Equal(t, got2.Script, "test-batch")
		assert.Assert(t, exists && !missing)
		assert.DeepEqual(t, ids, []string{"10.0.0.1/24", "pb-1", "pb-2"})
		_, ok = rawGet(t, b, "/pb/10.0.0.1%2F24")
		assert.Assert(t, ok, "the id was not escaped")

		// Delete removes the entity and its sub-keys.
		states := StateOf[map[string]any](blocks)
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return states.Create(t, "pb-1", map[string]any{"status": "RUNNING"}) }))
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return blocks.Delete(t, "pb-1") }))
		_, ok = rawGet(t, b, "/pb/pb-1")
		assert.Assert(t, !ok)
		_, ok = rawGet(t, b, "/pb/pb-1/state")
		assert.Assert(t, !ok, "Delete left the state")
		err = c.Txn(ctx, func(t *Txn) error { return blocks.Delete(t, "pb-1") })
		assert.Assert(t, errors.Is(err, backend.ErrVanished), "%v", err)
		assert.ErrorContains(t, err, "/pb/pb-1")
	})
}

// TestKindValidate: an invalid value is refused before anything is
// written, with ErrInvalidEntity naming the key; the whole transaction
// writes nothing.
func TestKindValidate(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		ctx := ctxT(t)
		ranges := MustKind[ranged]("/range")
		ptrs := MustKind[*ranged]("/ptr")
		cases := []struct {
			name string
			path string
			fn   func(t *Txn) error
		}{
			{"value receiver create", "/pb/bad", func(t *Txn) error { return blocks.Create(t, "bad", block{ID: "bad"}) }},
			{"value receiver put", "/pb/bad", func(t *Txn) error { return blocks.CreateOrUpdate(t, "bad", block{}) }},
			{"pointer receiver", "/range/r", func(t *Txn) error { return ranges.Create(t, "r", ranged{Min: 2, Max: 1}) }},
			{"pointer type", "/ptr/p", func(t *Txn) error { return ptrs.Create(t, "p", &ranged{Min: 2, Max: 1}) }},
			{"nil pointer", "/ptr/p", func(t *Txn) error { return ptrs.Create(t, "p", nil) }},
		}
		for _, tc := range cases {
			err := c.Txn(ctx, func(t *Txn) error {
				if err := t.Create("/side-effect", "1"); err != nil {
					return err
				}
				return tc.fn(t)
			})
			assert.Assert(t, errors.Is(err, ErrInvalidEntity), "%s: %v", tc.name, err)
			assert.ErrorContains(t, err, fmt.Sprintf("%q", tc.path), tc.name)
			_, ok := rawGet(t, b, tc.path)
			assert.Assert(t, !ok, "%s: an invalid value was written", tc.name)
			_, ok = rawGet(t, b, "/side-effect")
			assert.Assert(t, !ok, "%s: the transaction committed", tc.name)
		}

		// Update validates too, and leaves the old value.
		assert.NilError(t, c.Txn(ctx, func(t *Txn) error { return ranges.Create(t, "ok", ranged{Min: 1, Max: 2}) }))
		err := c.Txn(ctx, func(t *Txn) error { return ranges.Update(t, "ok", ranged{Min: 3, Max: 2}) })
		assert.Assert(t, errors.Is(err, ErrInvalidEntity), "%v", err)
		assert.ErrorContains(t, err, "min 3 > max 2")
		v, _ := rawGet(t, b, "/range/ok")
		assert.Equal(t, v, "{\n  \"max\": 2,\n  \"min\": 1\n}")
	})
}

// TestKindDecodeError: a stored value that is not a T fails with ErrDecode
// naming the key, and no value.
func TestKindDecodeError(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		ctx := ctxT(t)
		for id, raw := range map[string]string{
			"garbage":  "not json",
			"wrong":    `{"id": 5}`,
			"null":     "null",
			"trailing": `{"id": "x"} {}`,
		} {
			_, err := b.Create(ctx, "/pb/"+id, raw, backend.NoLease)
			assert.NilError(t, err)
			var got block
			err = c.Txn(ctx, func(t *Txn) error {
				var err error
				got, err = blocks.Get(t, id)
				return err
			})
			assert.Assert(t, errors.Is(err, ErrDecode), "%s: %v", id, err)
			assert.ErrorContains(t, err, fmt.Sprintf(`"/pb/%s"`, id))
			assert.DeepEqual(t, got, block{})
		}
	})
}

func TestKindState(t *testing.T) {
	type status struct {
		Status string `json:"status"`
	}
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		ctx := ctxT(t)
		states := StateOf[status](blocks)
		assert.Equal(t, states.Path("pb-1"), "/pb/pb-1/state")
		err := c.Txn(ctx, func(t *Txn) error {
			for _, id := range []string{"pb-1", "pb-2", "pb-3"} {
				if err := blocks.Create(t, id, block{ID: id, Script: "s"}); err != nil {
					return err
				}
			}
			if err := states.Create(t, "pb-1", status{"RUNNING"}); err != nil {
				return err
			}
			return states.Create(t, "pb-3", status{"FINISHED"})
		})
		assert.NilError(t, err)
		v, _ := rawGet(t, b, "/pb/pb-1/state")
		assert.Equal(t, v, "{\n  \"status\": \"RUNNING\"\n}")

		var ids, stateIDs []string
		var st status
		err = c.Txn(ctx, func(t *Txn) error {
			if err := blocks.TakeOwnership(t, "pb-2", OwnerInfo{}); err != nil {
				return err
			}
			var err error
			if st, err = states.Get(t, "pb-3"); err != nil {
				return err
			}
			if ids, err = blocks.List(t); err != nil {
				return err
			}
			stateIDs, err = states.List(t)
			return err
		})
		assert.NilError(t, err)
		assert.Equal(t, st.Status, "FINISHED")
		assert.DeepEqual(t, ids, []string{"pb-1", "pb-2", "pb-3"})
		assert.DeepEqual(t, stateIDs, []string{"pb-1", "pb-3"})

		err = c.Txn(ctx, func(t *Txn) error {
			_, err := states.Get(t, "pb-2")
			return err
		})
		assert.Assert(t, errors.Is(err, backend.ErrNotFound), "%v", err)
		assert.ErrorContains(t, err, "/pb/pb-2/state")
	})
}

func TestKindPathsAndIDs(t *testing.T) {
	states := SubKind[int](blocks, "state")
	for _, id := range []string{"a", "10.0.0.1/24", "", "a b", "x%y", "%zz", "50%", "a%2Fb", "%-", "line\nbreak"} {
		p := blocks.Path(id)
		assert.NilError(t, backend.ValidatePath(p), id)
		got, ok := blocks.ID(p)
		assert.Assert(t, ok, id)
		assert.Equal(t, got, id)
		got, ok = states.ID(states.Path(id))
		assert.Assert(t, ok, id)
		assert.Equal(t, got, id)
	}
	for _, p := range []string{"/pb", "/pb/", "/pbx/a", "/pb/a/state", "/other/a"} {
		_, ok := blocks.ID(p)
		assert.Assert(t, !ok, p)
	}
	_, ok := states.ID("/pb/a/owner")
	assert.Assert(t, !ok)
	assert.Equal(t, blocks.OwnerPath("a"), "/pb/a/owner")
	assert.Equal(t, states.OwnerPath("a"), "/pb/a/owner")

	_, err := NewKind[block]("pb")
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
	_, err = NewKind[block]("/pb/")
	assert.Assert(t, errors.Is(err, backend.ErrInvalidPath), "%v", err)
	func() {
		defer func() { assert.Assert(t, recover() != nil, "SubKind accepted a/b") }()
		SubKind[int](blocks, "a/b")
	}()
}

// TestKindReadsOwnWrites: inside one transaction, typed reads see the
// transaction's own typed writes.
func TestKindReadsOwnWrites(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend.Backend) {
		c := newTestConfig(t, b, Options{})
		var got block
		var ids []string
		err := c.Txn(ctxT(t), func(t *Txn) error {
			if err := blocks.Create(t, "x", block{ID: "x", Script: "s"}); err != nil {
				return err
			}
			var err error
			if got, err = blocks.Get(t, "x"); err != nil {
				return err
			}
			ids, err = blocks.List(t)
			return err
		}, txn.WithMaxAttempts(1))
		assert.NilError(t, err)
		assert.Equal(t, got.Script, "s")
		assert.DeepEqual(t, ids, []string{"x"})
	})
}
