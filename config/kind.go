package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
)

// Kind is a typed collection of entities of type T stored as JSON under a
// prefix, in ska-sdp-config's layout:
//
//	<prefix>/<id>        the entity (Kind)
//	<prefix>/<id>/state  its state (StateOf, or any SubKind)
//	<prefix>/<id>/owner  its owner, bound to a lease (TakeOwnership)
//
// An id is one path segment, written as ska-sdp-config writes it: verbatim
// ("sub 01", "a%b"), except for what a segment cannot hold, which
// backend.EscapeSegment escapes ("10.0.0.1/24" is stored as
// "10.0.0.1%2F24"). Every id another program stored is read back as it
// is. Values are written with Marshal, as ska-sdp-config writes them, and
// read with numbers kept exact (see Get).
//
// A Kind holds no state: one value can serve every Config and goroutine.
// Its methods work inside a transaction (Config.Txn) and have its
// semantics: reads see the snapshot plus the transaction's own writes, and
// nothing is written unless the transaction commits.
//
// If T or *T has a method Validate() error, every write calls it first and
// refuses the value, writing nothing, with an error wrapping
// ErrInvalidEntity and naming the key.
type Kind[T any] struct {
	prefix string // the collection's path, e.g. "/pb"
	sub    string // "" for the entities; the sub-key name for a SubKind
}

// NewKind returns the collection of entities of type T under prefix, a path
// such as "/pb" (relative to the Config's global prefix, if any). It fails
// with backend.ErrInvalidPath for anything but a valid path.
func NewKind[T any](prefix string) (*Kind[T], error) {
	if err := backend.ValidatePath(prefix); err != nil {
		return nil, fmt.Errorf("config: kind prefix: %w", err)
	}
	return &Kind[T]{prefix: prefix}, nil
}

// MustKind is NewKind for prefixes fixed in the program: it panics if the
// prefix is invalid.
func MustKind[T any](prefix string) *Kind[T] {
	k, err := NewKind[T](prefix)
	if err != nil {
		panic(err.Error())
	}
	return k
}

// SubKind returns the typed accessor of the sub-key name of k's entities:
// for id, the key <prefix>/<id>/<name>, holding an S. name must be one
// valid path segment (SubKind panics otherwise: it is fixed in the
// program). Ownership methods of the result concern the parent entity.
func SubKind[S, T any](k *Kind[T], name string) *Kind[S] {
	if strings.Contains(name, "/") || backend.ValidatePath("/"+name) != nil {
		panic(fmt.Sprintf("config: SubKind: %q is not one path segment", name))
	}
	if k.sub != "" {
		panic("config: SubKind of a SubKind")
	}
	return &Kind[S]{prefix: k.prefix, sub: name}
}

// StateOf returns the accessor of the "state" sub-key of k's entities,
// <prefix>/<id>/state, typed S (map[string]any for an untyped state).
func StateOf[S, T any](k *Kind[T]) *Kind[S] { return SubKind[S](k, "state") }

// Prefix returns the collection's path, such as "/pb".
func (k *Kind[T]) Prefix() string { return k.prefix }

// entityPath returns the path of the entity id itself.
func (k *Kind[T]) entityPath(id string) string {
	return k.prefix + "/" + backend.EscapeSegment(id)
}

// Path returns the key of id: <prefix>/<escaped id>, or for a SubKind
// <prefix>/<escaped id>/<name>.
func (k *Kind[T]) Path(id string) string {
	if k.sub != "" {
		return k.entityPath(id) + "/" + k.sub
	}
	return k.entityPath(id)
}

// ID returns the id whose key is path, and false if path is no key of this
// Kind. It reverses Path, for the paths of watch events and raw lists.
func (k *Kind[T]) ID(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, k.prefix+"/")
	if !ok {
		return "", false
	}
	if k.sub != "" {
		if rest, ok = strings.CutSuffix(rest, "/"+k.sub); !ok {
			return "", false
		}
	}
	if rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	id, err := backend.UnescapeSegment(rest)
	if err != nil {
		return "", false
	}
	return id, true
}

// Get returns the entity id. It fails with an error wrapping
// backend.ErrNotFound and naming the key when the key is absent, and with
// one wrapping ErrDecode and naming the key when the stored value is not a
// JSON encoding of a T (or is null); it never returns a zero value in
// place of a missing or undecodable one. Numbers are decoded exactly:
// into an interface (map[string]any) they become json.Number, so that
// writing the value back keeps 1.0 a float and large integers whole.
// Unknown object fields are ignored, as written by newer programs.
func (k *Kind[T]) Get(t *Txn, id string) (T, error) {
	var zero T
	path := k.Path(id)
	s, ok, err := t.Get(path)
	if err != nil {
		return zero, err
	}
	if !ok {
		return zero, backend.WrapPath("get", path, backend.ErrNotFound)
	}
	return decode[T](path, s)
}

// Exists reports whether the entity id exists.
func (k *Kind[T]) Exists(t *Txn, id string) (bool, error) {
	_, ok, err := t.Get(k.Path(id))
	return ok, err
}

// Create writes the new entity id. It fails with an error wrapping
// backend.ErrCollision if it exists, and writes nothing if v is invalid
// (ErrInvalidEntity). opts may attach it to a lease (txn.WithLease).
func (k *Kind[T]) Create(t *Txn, id string, v T, opts ...txn.WriteOption) error {
	path := k.Path(id)
	s, err := encode(path, v)
	if err != nil {
		return err
	}
	return t.Create(path, s, opts...)
}

// Update overwrites the existing entity id, keeping its lease. It fails
// with an error wrapping backend.ErrVanished if it does not exist, and
// writes nothing if v is invalid (ErrInvalidEntity).
func (k *Kind[T]) Update(t *Txn, id string, v T) error {
	path := k.Path(id)
	s, err := encode(path, v)
	if err != nil {
		return err
	}
	return t.Update(path, s)
}

// CreateOrUpdate updates the entity id if it exists (keeping its lease;
// opts are ignored then) and creates it otherwise (attached to the lease
// opts give, if any). It writes nothing if v is invalid (ErrInvalidEntity).
func (k *Kind[T]) CreateOrUpdate(t *Txn, id string, v T, opts ...txn.WriteOption) error {
	path := k.Path(id)
	s, err := encode(path, v)
	if err != nil {
		return err
	}
	_, ok, err := t.Get(path)
	if err != nil {
		return err
	}
	if ok {
		return t.Update(path, s)
	}
	return t.Create(path, s, opts...)
}

// Delete deletes the entity id and every key below it (its state and owner
// keys, for an entity). It fails with an error wrapping
// backend.ErrVanished, deleting nothing, if the key does not exist.
func (k *Kind[T]) Delete(t *Txn, id string) error {
	path := k.Path(id)
	_, ok, err := t.Get(path)
	if err != nil {
		return err
	}
	if !ok {
		return backend.WrapPath("delete", path, backend.ErrVanished)
	}
	return t.Delete(path, txn.DeleteOptions{Recursive: true})
}

// List returns the ids of the collection's entities (for a SubKind: of the
// entities that have the sub-key), in the order of their keys. The
// transaction depends on the list: an entity created or deleted by someone
// else before it commits makes it retry. That costs one commit compare per
// listed key; to scan a large collection in a transaction that writes, list
// Prefix()+"/" with txn.ListOptions{Untracked: true} and map paths with ID.
// Every key another program stored under the prefix is listed: its
// segment reads back as an id (see backend.UnescapeSegment).
func (k *Kind[T]) List(t *Txn) ([]string, error) {
	opts := txn.ListOptions{}
	if k.sub != "" {
		opts.Depths = []int{1}
	}
	paths, err := t.List(k.prefix+"/", opts)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(paths))
	for _, p := range paths {
		if k.sub != "" && !strings.HasSuffix(p, "/"+k.sub) {
			continue
		}
		id, ok := k.ID(p)
		if !ok {
			return nil, backend.WrapPath("list", p, fmt.Errorf("%w: not an escaped id", backend.ErrInvalidPath))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// encode validates v and returns its stored form, or an error naming path.
func encode[T any](path string, v T) (string, error) {
	s, err := Marshal(v)
	if err != nil {
		return "", &backend.PathError{Op: "encode", Path: path, Err: err}
	}
	if s == "null" {
		return "", &backend.PathError{Op: "validate", Path: path, Err: fmt.Errorf("%w: the value is null (a nil pointer, map or slice)", ErrInvalidEntity)}
	}
	if err := validate(v); err != nil {
		return "", &backend.PathError{Op: "validate", Path: path, Err: fmt.Errorf("%w: %w", ErrInvalidEntity, err)}
	}
	return s, nil
}

// validator is implemented by entity types that check their values.
type validator interface{ Validate() error }

// validate calls v's Validate method, on T or *T, if it has one.
func validate[T any](v T) error {
	if val, ok := any(v).(validator); ok {
		return val.Validate()
	}
	if val, ok := any(&v).(validator); ok {
		return val.Validate()
	}
	return nil
}

// decode decodes the stored value s of path into a T, numbers kept exact.
func decode[T any](path, s string) (T, error) {
	var v T
	fail := func(err error) (T, error) {
		var zero T
		return zero, &backend.PathError{Op: "decode", Path: path, Err: fmt.Errorf("%w: %w", ErrDecode, err)}
	}
	if isNull(s) {
		return fail(errors.New("the value is null"))
	}
	if err := unmarshalPy(s, &v); err != nil {
		return fail(err)
	}
	return v, nil
}

// Check reports whether path is a key of the kind (an entity's path) and,
// if so, whether value decodes as a T and passes its Validate method: the
// check every typed write makes, for tools that write raw values (the web
// console) to make first.
func (k *Kind[T]) Check(path, value string) (bool, error) {
	if _, ok := k.ID(path); !ok {
		return false, nil
	}
	v, err := decode[T](path, value)
	if err != nil {
		return true, err
	}
	if err := validate(v); err != nil {
		return true, backend.WrapPath("validate", path, err)
	}
	return true, nil
}
