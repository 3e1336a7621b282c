package datasync

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
)

// MemorySource is an in-memory DataSource, for tests and demos. Ids it
// assigns are "1", "2", ... per source. Safe for concurrent use.
type MemorySource struct {
	declared
	name string
	mu   sync.Mutex
	next int
	ents map[string]map[string]Entity // type -> id -> entity
}

// NewMemorySource returns an empty source named name.
func NewMemorySource(name string) *MemorySource {
	return &MemorySource{name: name, ents: map[string]map[string]Entity{}}
}

// Name returns the source's name.
func (m *MemorySource) Name() string { return m.name }

// Declare declares entity types of the source, so that NewSyncer checks
// the mappings against them (see Schema). It returns m.
func (m *MemorySource) Declare(types ...TypeSchema) *MemorySource {
	m.declare(types)
	return m
}

// Types returns the declared types, or nil if none was declared.
func (m *MemorySource) Types() []TypeSchema {
	if ts := m.list(); len(ts) > 0 {
		return ts
	}
	return nil
}

// Find returns the entities of typ satisfying where, sorted by id.
func (m *MemorySource) Find(ctx context.Context, typ string, where Where) ([]Entity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Entity
	for _, e := range m.ents[typ] {
		if where.Matches(e) {
			out = append(out, e.Clone())
		}
	}
	sortEntities(out)
	return out, nil
}

// sortEntities sorts by id, numerically when both ids are numbers.
func sortEntities(es []Entity) {
	sort.Slice(es, func(i, j int) bool { return lessID(es[i].ID, es[j].ID) })
}

func lessID(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

// Get returns the entity r names.
func (m *MemorySource) Get(ctx context.Context, r Ref) (Entity, error) {
	if err := ctx.Err(); err != nil {
		return Entity{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.ents[r.Type][r.ID]
	if !ok {
		return Entity{}, fmt.Errorf("%s: get %s: %w", m.name, r, ErrNotFound)
	}
	return e.Clone(), nil
}

// Create stores e, assigning the next id when e.ID is empty; an existing id
// is an error.
func (m *MemorySource) Create(ctx context.Context, e Entity) (Entity, error) {
	if err := ctx.Err(); err != nil {
		return Entity{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.ID == "" {
		m.next++
		e.ID = strconv.Itoa(m.next)
	}
	if _, ok := m.ents[e.Type][e.ID]; ok {
		return Entity{}, fmt.Errorf("%s: create %s: already exists", m.name, e.Ref())
	}
	if m.ents[e.Type] == nil {
		m.ents[e.Type] = map[string]Entity{}
	}
	m.ents[e.Type][e.ID] = e.Clone()
	return e.Clone(), nil
}

// Update replaces an existing entity.
func (m *MemorySource) Update(ctx context.Context, e Entity) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ents[e.Type][e.ID]; !ok {
		return fmt.Errorf("%s: update %s: %w", m.name, e.Ref(), ErrNotFound)
	}
	m.ents[e.Type][e.ID] = e.Clone()
	return nil
}

// Delete removes an entity.
func (m *MemorySource) Delete(ctx context.Context, r Ref) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ents[r.Type][r.ID]; !ok {
		return fmt.Errorf("%s: delete %s: %w", m.name, r, ErrNotFound)
	}
	delete(m.ents[r.Type], r.ID)
	return nil
}
