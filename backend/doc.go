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
// # Conformance
//
// Every backend must pass testing/backendtest.Run. The memory backend is the
// reference implementation and copies etcd's behaviour wherever the two could
// differ.
//
// # Optional interfaces
//
// Capabilities beyond Backend are optional interfaces (Limiter, CommitReader) found by
// type assertion, never new methods on Backend.
package backend
