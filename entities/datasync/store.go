package datasync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

// StoreSource is a DataSource over a config-store prefix: the entity of
// type T and id I is the typed value (config.Kind[Entity]) at
// <prefix>/<T>/<I>, stored as ska-sdp-config stores JSON. It implements
// TxnSource, so that a Syncer whose Links are on the same Config writes an
// entity and its links in one transaction. Ids it assigns are random hex.
type StoreSource struct {
	declared
	name   string
	c      *config.Config
	prefix string

	mu    sync.Mutex
	kinds map[string]*config.Kind[Entity]
}

// NewStoreSource returns the source named name over prefix (a valid path,
// such as "/datasync/demo/daphne") of c.
func NewStoreSource(c *config.Config, name, prefix string) (*StoreSource, error) {
	if err := backend.ValidatePath(prefix); err != nil {
		return nil, fmt.Errorf("datasync: source %s prefix: %w", name, err)
	}
	return &StoreSource{name: name, c: c, prefix: prefix, kinds: map[string]*config.Kind[Entity]{}}, nil
}

// Name returns the source's name.
func (s *StoreSource) Name() string { return s.name }

// Declare declares entity types of the source, so that NewSyncer checks
// the mappings against them (see Schema). It returns s.
func (s *StoreSource) Declare(types ...TypeSchema) *StoreSource {
	s.declare(types)
	return s
}

// Types returns the declared types, or nil if none was declared.
func (s *StoreSource) Types() []TypeSchema {
	if ts := s.list(); len(ts) > 0 {
		return ts
	}
	return nil
}

// Config returns the Config the entities are stored in.
func (s *StoreSource) Config() *config.Config { return s.c }

// Prefix returns the source's prefix.
func (s *StoreSource) Prefix() string { return s.prefix }

// Kind returns the typed collection of entities of type typ.
func (s *StoreSource) Kind(typ string) *config.Kind[Entity] {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.kinds[typ]
	if !ok {
		k = config.MustKind[Entity](s.prefix + "/" + backend.EscapeSegment(typ))
		s.kinds[typ] = k
	}
	return k
}

// RefOf maps a path of the source back to the entity it stores.
func (s *StoreSource) RefOf(path string) (Ref, bool) {
	rest, ok := strings.CutPrefix(path, s.prefix+"/")
	if !ok {
		return Ref{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 2 {
		return Ref{}, false
	}
	typ, err1 := backend.UnescapeSegment(parts[0])
	id, err2 := backend.UnescapeSegment(parts[1])
	if err1 != nil || err2 != nil {
		return Ref{}, false
	}
	return Ref{Type: typ, ID: id}, true
}

// Find reads every entity of typ in one (untracked) list and returns those
// satisfying where, sorted by id.
func (s *StoreSource) Find(ctx context.Context, typ string, where Where) ([]Entity, error) {
	k := s.Kind(typ)
	var out []Entity
	err := s.c.Txn(ctx, func(t *config.Txn) error {
		out = nil
		kvs, err := t.ListValues(k.Prefix()+"/", txn.ListOptions{Untracked: true})
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var e Entity
			if err := json.Unmarshal([]byte(kv.Value), &e); err != nil {
				return fmt.Errorf("decode %q: %w", kv.Path, err)
			}
			if id, ok := k.ID(kv.Path); ok {
				e.ID, e.Type = id, typ
			}
			if where.Matches(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: find %s: %w", s.name, typ, err)
	}
	sortEntities(out)
	return out, nil
}

// Get reads one entity.
func (s *StoreSource) Get(ctx context.Context, r Ref) (Entity, error) {
	var e Entity
	err := s.c.Txn(ctx, func(t *config.Txn) error {
		var err error
		e, err = s.Kind(r.Type).Get(t, r.ID)
		return err
	})
	if errors.Is(err, backend.ErrNotFound) {
		return Entity{}, fmt.Errorf("%s: get %s: %w: %w", s.name, r, ErrNotFound, err)
	}
	if err != nil {
		return Entity{}, fmt.Errorf("%s: get %s: %w", s.name, r, err)
	}
	return e, nil
}

// CreateTxn creates e inside t, with a random id when e.ID is empty.
func (s *StoreSource) CreateTxn(t *config.Txn, e Entity) (Entity, error) {
	if e.ID == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Entity{}, err
		}
		e.ID = hex.EncodeToString(b[:])
	}
	if err := s.Kind(e.Type).Create(t, e.ID, e); err != nil {
		return Entity{}, err
	}
	return e, nil
}

// Create stores a new entity.
func (s *StoreSource) Create(ctx context.Context, e Entity) (Entity, error) {
	var out Entity
	err := s.c.Txn(ctx, func(t *config.Txn) error {
		var err error
		out, err = s.CreateTxn(t, e)
		return err
	})
	if err != nil {
		return Entity{}, fmt.Errorf("%s: create %s: %w", s.name, e.Type, err)
	}
	return out, nil
}

// Update replaces an existing entity.
func (s *StoreSource) Update(ctx context.Context, e Entity) error {
	err := s.c.Txn(ctx, func(t *config.Txn) error { return s.Kind(e.Type).Update(t, e.ID, e) })
	if errors.Is(err, backend.ErrVanished) {
		return fmt.Errorf("%s: update %s: %w: %w", s.name, e.Ref(), ErrNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("%s: update %s: %w", s.name, e.Ref(), err)
	}
	return nil
}

// DeleteTxn deletes an entity inside t (ErrNotFound if it is gone).
func (s *StoreSource) DeleteTxn(t *config.Txn, r Ref) error {
	k := s.Kind(r.Type)
	ok, err := k.Exists(t, r.ID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: delete %s: %w", s.name, r, ErrNotFound)
	}
	return k.Delete(t, r.ID)
}

// Delete removes an entity.
func (s *StoreSource) Delete(ctx context.Context, r Ref) error {
	return s.c.Txn(ctx, func(t *config.Txn) error { return s.DeleteTxn(t, r) })
}
