// Package etcd3 is the production backend of sdpconfig: backend.Backend
// (and backend.Limiter) over an etcd v3 cluster, through etcd's Go client
// (go.etcd.io/etcd/client/v3). It is the only production package that
// imports the etcd client.
//
// # Storage layout
//
// A path is stored depth-first, exactly as ska-sdp-config stores it: "/pb/x"
// is the etcd key "2/pb/x", so that Go and Python services share one store
// and one level of a tree is one etcd range. An optional global prefix
// (Config.Prefix, "/app") is part of the stored path ("3/app/pb/x") and is
// removed from every result. Values are stored as they are given (UTF-8).
//
// # Consistency
//
// Reads are linearizable. A List reads one range per depth, all at the
// revision of the first. A Commit is one etcd transaction; compares on a
// prefix range are etcd range compares (every key of the range must hold;
// an empty range compares as a missing key). Watch uses one etcd watch per
// stream, over the smallest key interval covering its ranges, so the events
// of all its ranges come in one revision order.
//
// # Errors and retries
//
// etcd's errors map to the backend sentinels: compacted → ErrCompacted,
// future revision → ErrFutureRevision, refused credentials or permission →
// ErrPermissionDenied, too many operations or a request too large →
// ErrTxnTooLarge, unknown lease → ErrLeaseExpired, duplicate key →
// ErrInvalidTxn, anything that says the store cannot be reached →
// ErrUnavailable. Every error also wraps etcd's own.
//
// Reads (Get, List, Revision) and lease grants are retried on transient
// errors with jittered exponential backoff (Config.Retry), always within
// their context. A Commit (and Create, Update, Delete) is sent once: when it
// may have reached the server but no answer came back, its error wraps
// ErrIndeterminate, and the caller decides whether to read and retry.
// Requests whose context has no deadline get Config.RequestTimeout.
//
// # Leases and Close
//
// A lease is kept alive by a goroutine of its own until it is revoked or
// closed. Close ends every watch stream (ErrClosed) and every keep-alive
// (the leases then expire on their own), and returns once their goroutines
// have ended; it closes the client only if the backend made it (New, not
// NewFromClient).
//
// # Testing
//
// testing/sdptest starts real embedded etcd servers and returns backends on
// them (sdptest.NewBackend). This package passes testing/backendtest on
// such a server.
package etcd3
