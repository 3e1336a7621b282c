// Package txn runs optimistic, serializable transactions over a
// backend.Backend: software transactional memory in the style of etcd's
// concurrency.STM, with the checks that one leaves out (listed ranges,
// deletions, compaction) and a bounded, backed-off retry loop.
//
// # Basics
//
// Run calls a function with a *Txn, then commits what it wrote:
//
//	err := txn.Run(ctx, b, func(t *txn.Txn) error {
//		v, ok, err := t.Get("/counter")
//		if err != nil {
//			return err
//		}
//		n := 0
//		if ok {
//			n, _ = strconv.Atoi(v)
//		}
//		return t.Put("/counter", strconv.Itoa(n+1))
//	})
//
// The first read pins a snapshot: the store revision that read was served
// at. Every later read of the attempt is at that revision, overlaid with the
// attempt's own writes (puts, deletes and recursive deletes, in order), so
// the function sees one consistent state. Writes are buffered; nothing
// reaches the store until the function returns nil.
//
// The commit is one atomic backend commit. It succeeds only if everything
// the attempt observed is as it was at the snapshot: every key read is
// unchanged (or still absent), no key was created in a listed range, every
// listed key still exists, and no one else wrote a key the attempt writes.
// If anything changed, the attempt conflicts: Run waits a little (jittered
// exponential back-off) and calls the function again with a fresh snapshot,
// up to 64 attempts by default (WithMaxAttempts), then fails with
// ErrTooManyRetries. On a backend that returns the current state of the
// keys read with a failed commit (backend.CommitReader, as etcd and memory
// do), the retry of a conflict caused by one write to those keys starts
// from that state, at that commit's revision, instead of reading those
// keys again (as concurrency.STM does); after a conflict on a hot key, it
// reads afresh. A transaction that wrote nothing needs no commit and costs
// no round trip beyond its reads; one that read nothing (only blind
// writes: Put, Delete) has no snapshot, and its commit is unconditional.
//
// If the function returns an error, Run returns that error and commits
// nothing. Stats (WithStats) reports attempts and conflicts, for metrics.
//
// # Caveats
//
// The function may be called several times: once per attempt. It must be
// idempotent apart from its calls on the *Txn: no side effects outside the
// transaction (sends on channels, writes to shared variables, other I/O)
// unless they are harmless to repeat. Register work that must happen once,
// after the commit, with Txn.OnCommit.
//
// A tracked read costs a compare in the commit: one per key read or listed
// and one per listed depth. A commit may hold at most the backend's limit
// (backend.Limiter, 128 in etcd by default) of compares and of ops; a larger
// one fails at once with backend.ErrTxnTooLarge, before anything is written.
// For scans the transaction does not depend on for correctness, use
// ListOptions.Untracked, which is not checked at commit at all.
//
// Reads of a snapshot that was compacted away make the attempt conflict and
// start again. Any other failed read ends Run with that error, even if the
// function ignored it: an attempt that did not see its whole snapshot never
// commits. A commit whose outcome is unknown (backend.ErrIndeterminate) is
// returned, never retried blindly: the caller must check the store.
//
// A *Txn is not safe for concurrent use and is valid only during its
// function call. A panic in the function propagates to Run's caller, with
// nothing committed.
package txn
