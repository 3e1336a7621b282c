package netobj

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/txn"
)

// DefaultRoot is the path under which network objects live by default.
const DefaultRoot = "/netobj"

// Store layout, per target host (segments escaped with
// backend.EscapeSegment, so an id such as "eth0,10.0.0.1/24" is one
// segment):
//
//	<root>/<target>/desired/<kind>/<id>   Object, written by users (sdpcfg netobj apply)
//	<root>/<target>/observed/<kind>/<id>  Status, written by the target's controller only
//	<root>/<target>/intent/<kind>/<id>    Object the controller is about to apply (no lease)
//	<root>/<target>/alive                 Alive, bound to the controller's lease
type Paths struct {
	// Root is the prefix of every key; "" means DefaultRoot.
	Root string
}

func (p Paths) root() string {
	if p.Root == "" {
		return DefaultRoot
	}
	return strings.TrimSuffix(p.Root, "/")
}

// Target returns the path of target's subtree.
func (p Paths) Target(target string) string {
	return p.root() + "/" + backend.EscapeSegment(target)
}

// Desired returns the path of target's desired object k/id.
func (p Paths) Desired(target string, k Kind, id string) string {
	return p.Target(target) + "/desired/" + string(k) + "/" + backend.EscapeSegment(id)
}

// Observed returns the path of target's observed status of object k/id.
func (p Paths) Observed(target string, k Kind, id string) string {
	return p.Target(target) + "/observed/" + string(k) + "/" + backend.EscapeSegment(id)
}

// Intent returns the path of target's intent record of object k/id: the
// object as the controller is about to apply it, written before it touches
// the system and deleted once the status is written, so that a controller
// killed in between knows on its next start what it may have applied.
func (p Paths) Intent(target string, k Kind, id string) string {
	return p.Target(target) + "/intent/" + string(k) + "/" + backend.EscapeSegment(id)
}

// Alive returns the path of target's leased liveness key.
func (p Paths) Alive(target string) string { return p.Target(target) + "/alive" }

// Ref names one object of a target: its kind and id.
type Ref struct {
	Kind Kind
	ID   string
}

// String returns "kind/id".
func (r Ref) String() string { return string(r.Kind) + "/" + r.ID }

// States of an observed object (Status.State).
const (
	// StateSystem: the object is on the system as desired.
	StateSystem = "system"
	// StateError: the last apply of the object failed (Status.LastError).
	StateError = "error"
)

// Status is the observed state of one object, written by the target's
// controller only.
type Status struct {
	State string `json:"state"`
	// Object is the object as last applied to the system (normalised);
	// its key tells what a later change of key replaces or removes.
	Object *Object `json:"object,omitempty"`
	// LastError is the error of the last failed apply, "" after success.
	LastError string `json:"last_error,omitempty"`
	// AppliedAt is when the object was last changed on the system (RFC 3339).
	AppliedAt string `json:"applied_at,omitempty"`
}

// Alive is the value of a target's liveness key.
type Alive struct {
	Target    string `json:"target"`
	Hostname  string `json:"hostname"`
	PID       int    `json:"pid"`
	Driver    string `json:"driver"`
	StartedAt string `json:"started_at"`
}

// PutDesired stores o as target's desired object id (o.DefaultID() when
// id is ""), after checking it (ErrInvalidObject), and returns the id.
func (p Paths) PutDesired(t *config.Txn, target, id string, o Object) (string, error) {
	n, err := o.Normalize()
	if err != nil {
		return "", err
	}
	if id == "" {
		id = n.DefaultID()
	}
	v, err := config.Marshal(n)
	if err != nil {
		return "", err
	}
	return id, t.Put(p.Desired(target, n.Kind, id), v)
}

// DeleteDesired removes target's desired object k/id: its controller
// then deletes it from the system. It reports whether there was one.
func (p Paths) DeleteDesired(t *config.Txn, target string, k Kind, id string) (bool, error) {
	path := p.Desired(target, k, id)
	_, ok, err := t.Get(path)
	if err != nil || !ok {
		return false, err
	}
	return true, t.Delete(path, txn.DeleteOptions{})
}

// ListDesired returns target's desired objects.
func (p Paths) ListDesired(t *txn.Txn, target string) (map[Ref]Object, error) {
	return list[Object](t, p.Target(target)+"/desired/")
}

// ListObserved returns target's observed statuses.
func (p Paths) ListObserved(t *txn.Txn, target string) (map[Ref]Status, error) {
	return list[Status](t, p.Target(target)+"/observed/")
}

// ListIntents returns target's intent records. They are read untracked:
// only the target's controller writes them, and its own writes need not
// wake it.
func (p Paths) ListIntents(t *txn.Txn, target string) (map[Ref]Object, error) {
	return listWith[Object](t, p.Target(target)+"/intent/", txn.ListOptions{Depths: []int{1}, Untracked: true})
}

// GetAlive returns target's liveness record and whether the target's
// controller is alive.
func (p Paths) GetAlive(t *txn.Txn, target string) (Alive, bool, error) {
	var a Alive
	v, ok, err := t.Get(p.Alive(target))
	if err != nil || !ok {
		return a, false, err
	}
	if err := json.Unmarshal([]byte(v), &a); err != nil {
		return a, true, fmt.Errorf("netobj: %q: %w", p.Alive(target), err)
	}
	return a, true, nil
}

// Targets lists the targets that have a subtree under the root.
func (p Paths) Targets(t *txn.Txn) ([]string, error) {
	kvs, err := t.List(p.root()+"/", txn.ListOptions{Depths: []int{1, 2, 3}, Untracked: true})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range kvs {
		seg := strings.SplitN(strings.TrimPrefix(k, p.root()+"/"), "/", 2)[0]
		name, err := backend.UnescapeSegment(seg)
		if err == nil && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

func list[T any](t *txn.Txn, prefix string) (map[Ref]T, error) {
	return listWith[T](t, prefix, txn.ListOptions{Depths: []int{1}})
}

func listWith[T any](t *txn.Txn, prefix string, opts txn.ListOptions) (map[Ref]T, error) {
	kvs, err := t.ListValues(prefix, opts)
	if err != nil {
		return nil, err
	}
	out := make(map[Ref]T, len(kvs))
	for _, kv := range kvs {
		rest := strings.TrimPrefix(kv.Path, prefix)
		kind, seg, ok := strings.Cut(rest, "/")
		if !ok {
			continue
		}
		id, err := backend.UnescapeSegment(seg)
		if err != nil {
			return nil, fmt.Errorf("netobj: %q: %w", kv.Path, err)
		}
		var v T
		if err := json.Unmarshal([]byte(kv.Value), &v); err != nil {
			return nil, fmt.Errorf("netobj: %q: %w", kv.Path, err)
		}
		out[Ref{Kind: Kind(kind), ID: id}] = v
	}
	return out, nil
}
