// Package netobj is the network-object controller: desired interfaces,
// addresses and routes of target hosts kept in the config store, applied
// to each host's system through a Driver, with what was observed written
// back. It follows pyroute2's NDB objects.
//
// # Objects
//
// An Object is a Kind (interface, address, route) and a flat dict of
// Fields. Each kind has key fields (an interface's name; an address's
// interface and cidr; a route's dst, table and metric) that name the
// system object, and other fields that can be set. Normalize checks an
// object and writes it canonically.
//
// # Commit
//
// Commit applies a set of changes as one unit with NDB's state machine:
// an object absent from the system (invalid) is added, one present
// (system) gets only its changed fields set, a removed one is deleted by
// its key fields, a route whose key changed is replaced (add the new one,
// then delete the old one) while any other key change is ErrKeyChanged; an
// object already as desired costs no mutating call. Objects go in
// dependency order, are read back with a bounded number of rounds (the
// errno fallbacks ErrExists/ErrNotExist tolerated only after the first
// call), and on a failure everything already done is rolled back to the
// snapshot taken before the commit (*CommitError).
//
// # Drivers
//
// MemoryDriver is a Driver in memory, for tests and demos. Package
// netlinkdriver is the Linux driver over rtnetlink, bound to one network
// namespace.
//
// # Store and controller
//
// Paths lays out, per target: desired objects (written by users), observed
// Status per object (written by the target's Controller only) and a
// liveness key bound to the controller's lease. Controller.Run is a
// caching watcher loop that commits the desired objects, records errors on
// the objects that failed, writes statuses only when they change, and
// re-reads the system every ObserveInterval to repair drift. See
// docs/netobj.md.
package netobj
