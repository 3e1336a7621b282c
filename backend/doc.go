// Package backend defines the driver SPI of sdpconfig: the small set of
// interfaces, value types and sentinel errors that a storage backend
// implements. It plays the role database/sql/driver plays for database/sql:
// users program against package config; backends (backend/etcd3,
// backend/memory) implement this package.
//
// # Paths
//
// A path is "/seg/seg/...": it starts with "/", has no trailing "/", no empty
// segment, and only printable characters. Its depth is its number of "/".
// Backends store a path as "<depth><path>" ("/pb/x" is stored as "2/pb/x"),
// exactly as ska-sdp-config does, so that one level of a tree is one range
// scan and Go and Python services can share a store. Invalid paths are
// rejected with ErrInvalidPath before any I/O.
//
// # Revisions
//
// Every successful write moves the single store revision forward by one, as in
// etcd. Each key carries its create revision, mod revision and version. A read
// at revision 0 reads the newest state; a read at an older revision sees the
// store as it was then, until that revision is compacted (ErrCompacted).
//
// # The contract, call by call
//
// Each method's doc comment says what it does; these are the rules that
// hold across them, the same on every backend and every etcd server from
// 3.4 to 3.7:
//
//   - Reads at a revision (Get, List): a revision below the compact
//     revision fails with ErrCompacted, the compact revision itself is
//     readable, one above the store's fails with ErrFutureRevision: for
//     every request shape, also a List that selects no depth.
//   - Revisions returned with an error: the store's current revision when
//     the store answered no (ErrNotFound, ErrCollision, ErrVanished), 0
//     when the request failed (a future or compacted revision, bad input,
//     an unreachable store).
//   - Input checks (Commit and CommitRead): before any I/O, in one order:
//     CommitRead's reads; each compare; each op of Then, then of Else
//     (paths, values, kinds); each branch's keys written twice or put in a
//     range it deletes (ErrInvalidTxn); and only then the size
//     (ErrTxnTooLarge). The first fault found is the error.
//   - Revision is linearizable: it is never behind a write acknowledged
//     before it was called, whichever member served either.
//   - Watch history starts after the compact revision: a watch from it or
//     before ends with ErrCompacted and CompactRevision set to the
//     revision after it. etcd itself replays the compact revision, but a
//     server before 3.4.34 or 3.5.15 has lost the deletes made at it.
//   - Watch events come in revision order, each once; how they are
//     batched into responses is the store's and is not part of the
//     contract. A stream is caught up to revision R exactly when it has
//     delivered a progress notification at R or later: there is no other
//     notion of "synced".
//   - Event.Prev is absent for a create, and when the revision before the
//     event has been compacted by the time the event is sent: etcd reads
//     it then, so a compaction may take it from a live event too. Memory
//     sends it whenever it can; a consumer may not count on it across a
//     compaction.
//   - Lease TTLs: Lease.TTL is what the store granted, which a server
//     raises to its minimum (see memory.WithMinLeaseTTL to match one).
//
// Where servers differ, the etcd3 backend makes up for the older: on etcd
// before 3.4.25 and 3.5.8 it proves each progress notification against
// the store before delivering it (etcd issue 15220), and it resumes a
// watch such a server cancels for a compaction it had in fact caught up
// with.
//
// # Conformance
//
// Every backend must pass testing/backendtest.Run, which checks the cases
// written down, and should agree with the memory backend under
// testing/backendtest.Diff, random sequences of every call with every
// outcome compared. The memory backend is the reference implementation and
// copies etcd's behaviour wherever the two could differ.
//
// # Optional interfaces
//
// Capabilities beyond Backend are optional interfaces (Limiter, CommitReader) found by
// type assertion, never new methods on Backend.
package backend
