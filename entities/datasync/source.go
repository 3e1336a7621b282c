package datasync

import (
	"context"
	"errors"
)

// ErrNotFound is returned (wrapped, naming the entity) by DataSource.Get,
// Update and Delete when the entity does not exist.
var ErrNotFound = errors.New("datasync: entity not found")

// Where selects entities by their attributes and references: every entry
// must equal the entity's attribute of that name, or, for a Ref value, its
// reference of that name. A nil or empty Where selects every entity of the
// type.
type Where map[string]any

// Matches reports whether e satisfies w.
func (w Where) Matches(e Entity) bool {
	for k, v := range w {
		if r, ok := v.(Ref); ok {
			if e.Refs[k] != r {
				return false
			}
			continue
		}
		if !sameValue(e.Attrs[k], v) {
			return false
		}
	}
	return true
}

// DataSource is a CRUD store of entities that a Syncer synchronises. Its
// methods must be safe for concurrent use. Name identifies the source in
// links: it must be stable across runs and differ between the two sides of
// a Syncer.
type DataSource interface {
	// Name returns the source's stable name.
	Name() string
	// Find returns the entities of type typ that satisfy where, sorted by
	// id.
	Find(ctx context.Context, typ string, where Where) ([]Entity, error)
	// Get returns the current state of one entity (a refresh), or an error
	// wrapping ErrNotFound.
	Get(ctx context.Context, r Ref) (Entity, error)
	// Create stores a new entity, assigning its id when e.ID is empty, and
	// returns it as stored.
	Create(ctx context.Context, e Entity) (Entity, error)
	// Update replaces an existing entity (ErrNotFound if it is gone).
	Update(ctx context.Context, e Entity) error
	// Delete removes an entity (ErrNotFound if it is gone).
	Delete(ctx context.Context, r Ref) error
}
