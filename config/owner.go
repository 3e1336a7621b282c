package config

import (
	"fmt"
	"os"
	"slices"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
)

// OwnerInfo identifies the process that owns an entity, as ska-sdp-config
// writes it into an owner key: {"command": [...], "hostname": ..., "pid": ...}.
type OwnerInfo struct {
	PID      int      `json:"pid"`
	Hostname string   `json:"hostname"`
	Command  []string `json:"command"`
}

// DefaultOwner returns this process's OwnerInfo: its pid, host name and
// command line (os.Args), as ska-sdp-config fills it.
func DefaultOwner() OwnerInfo {
	host, _ := os.Hostname()
	return OwnerInfo{PID: os.Getpid(), Hostname: host, Command: slices.Clone(os.Args)}
}

func (o OwnerInfo) clone() OwnerInfo {
	o.Command = slices.Clone(o.Command)
	return o
}

func (o OwnerInfo) isZero() bool {
	return o.PID == 0 && o.Hostname == "" && len(o.Command) == 0
}

// ownerKey is the name of the sub-key of an entity that records its owner.
const ownerKey = "owner"

// OwnerPath returns the key recording the owner of entity id:
// <prefix>/<id>/owner (the parent entity's, for a SubKind).
func (k *Kind[T]) OwnerPath(id string) string { return k.entityPath(id) + "/" + ownerKey }

// TakeOwnership records owner as the owner of entity id, in an owner key
// bound to the Config's client lease (granted on first use): the key, and
// so the ownership, vanishes when the lease ends, that is when the Config
// closes, its process dies or loses the store for longer than the lease's
// TTL. A zero owner means the Config's Owner(). It fails with an error
// wrapping backend.ErrCollision if the entity is owned already (by anyone,
// this Config included). It does not require the entity to exist.
func (k *Kind[T]) TakeOwnership(t *Txn, id string, owner OwnerInfo) error {
	if owner.isZero() {
		owner = t.c.owner
	}
	path := k.OwnerPath(id)
	s, err := Marshal(owner)
	if err != nil {
		return backend.WrapPath("encode", path, err)
	}
	l, err := t.c.ClientLease(t.Context())
	if err != nil {
		return backend.WrapPath("create", path, err)
	}
	return t.Create(path, s, txn.WithLease(l.ID()))
}

// IsAlive reports whether entity id has an owner: true while its owner
// key exists, which is as long as the owner's lease lives.
func (k *Kind[T]) IsAlive(t *Txn, id string) (bool, error) {
	_, ok, err := t.Get(k.OwnerPath(id))
	return ok, err
}

// Owner returns the owner of entity id. It fails with an error wrapping
// backend.ErrNotFound when the entity has no owner, and with one wrapping
// ErrDecode when the owner key does not hold an owner.
func (k *Kind[T]) Owner(t *Txn, id string) (OwnerInfo, error) {
	path := k.OwnerPath(id)
	s, ok, err := t.Get(path)
	if err != nil {
		return OwnerInfo{}, err
	}
	if !ok {
		return OwnerInfo{}, backend.WrapPath("get", path, backend.ErrNotFound)
	}
	return decode[OwnerInfo](path, s)
}

// IsOwner reports whether this Config owns entity id: its owner key exists
// and is bound to the Config's current client lease.
func (k *Kind[T]) IsOwner(t *Txn, id string) (bool, error) {
	kv, ok, err := t.GetKV(k.OwnerPath(id))
	if err != nil || !ok {
		return false, err
	}
	mine := t.c.currentClientLease()
	return mine != backend.NoLease && kv.Lease == mine, nil
}

// ReleaseOwnership deletes the owner key of entity id if this Config owns
// it (see IsOwner). It fails with an error wrapping ErrNotOwner, deleting
// nothing, if the entity has no owner or another one.
func (k *Kind[T]) ReleaseOwnership(t *Txn, id string) error {
	path := k.OwnerPath(id)
	kv, ok, err := t.GetKV(path)
	if err != nil {
		return err
	}
	if !ok {
		return backend.WrapPath("release", path, fmt.Errorf("%w: the entity has no owner", ErrNotOwner))
	}
	if mine := t.c.currentClientLease(); mine == backend.NoLease || kv.Lease != mine {
		return backend.WrapPath("release", path, fmt.Errorf("%w: owned through lease %d", ErrNotOwner, kv.Lease))
	}
	return t.Delete(path, txn.DeleteOptions{})
}
