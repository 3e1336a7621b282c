// Package backendtest is the conformance suite of the backend SPI: every
// backend.Backend must pass it, as every fs.FS must pass
// testing/fstest.TestFS and every slog.Handler testing/slogtest.Run.
//
// # Running it
//
// Call Run from a test of your backend's package, with a function that
// returns a fresh, empty backend for each subtest:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend {
//			b := mybackend.New(...)
//			t.Cleanup(func() { b.Close() })
//			return b
//		})
//	}
//
// Subtests are named "<Area>/<Case>" (go test -run 'Conformance/Watch/Resume')
// and run one after the other. A backend may be a fresh prefix on a shared
// store: the suite never assumes absolute revisions nor an empty store, only
// that no key exists under its own paths and that nothing else writes to the
// store while a subtest runs (it checks that each write moves the revision
// by exactly one). It compacts the store's history in a few subtests, at
// revisions it wrote itself, and revokes the leases it granted when each
// subtest ends, so that no lease expiry writes into the next one.
//
// # What it checks
//
// The expectations are etcd v3's behaviour as the SPI documents it:
//
//   - Paths: invalid paths, prefixes and ranges on every method fail with
//     ErrInvalidPath, non-UTF-8 values with ErrInvalidValue, naming the path
//     and writing nothing; unusual valid paths and values round-trip.
//   - Get: ErrNotFound with the store revision; CreateRevision, ModRevision
//     and Version through create, put, put of the same value, delete and
//     re-create; reads at older and future revisions.
//   - List: the depth rule ("/pb/" lists "/pb/a" but not "/pb/a/b" nor
//     "/pbx"), Recurse, Depths, order by path across depths, keys only or
//     with values, older revisions, paging with After, Limit and More at one
//     revision.
//   - Commit: compares on every target and relation, of present and missing
//     keys and of prefix ranges (every key must hold, an empty range is a
//     missing key), including the CreateRevision < snapshot+1 pattern that
//     detects a key created in a listed range; Then and Else; one revision
//     per writing commit and none otherwise; Deleted; leases on puts;
//     ErrInvalidTxn; ErrTxnTooLarge above backend.Limiter's MaxTxnOps; the
//     order of the input checks.
//   - CommitRead (skipped unless the backend implements the optional
//     backend.CommitReader): reads only when the compares fail, present keys
//     in the order asked, after the Else branch, as Get has them; a plain
//     commit over the op limit; errors as Commit's.
//   - Write: Create (ErrCollision), Update (ErrVanished, keeps the lease),
//     Delete with MustExist, Recursive, MaxDepth and Prefix.
//   - Lease: TTL, attached keys, Revoke, keep-alive, expiry after
//     Lease.Close (this takes real time: a few seconds), Done and Err, and
//     writes with revoked or unknown leases.
//   - Watch: event types, KV and Prev; several and overlapping ranges on one
//     stream; the events of one commit at one revision; resume from an old
//     revision, also over a key created and deleted since; a future
//     fromRev; ErrCompacted with CompactRevision the revision after the
//     compact one, also for a watch from the compact revision; Prev nil
//     when compacted away; progress across a compaction; RequestProgress;
//     cancel and Close.
//   - Compaction: ErrCompacted below the compact revision, reads at it,
//     ErrCompacted for compacting again at or below it, ErrFutureRevision.
//   - Concurrency: a counter incremented by concurrent compare-and-put
//     commits loses no update; racing creates; a watch over concurrent
//     writers is gap-free. Run with -race.
//   - Closed: ErrClosed from every method after Close; watches and leases
//     end with ErrClosed; Close is idempotent. A cancelled context fails
//     every method with the context's error and writes nothing.
//
// # The differential test
//
// Diff checks what no list of cases can: it applies seeded random
// sequences of every SPI call (creates, updates, deletes, commits with key
// and range compares, reads at old, current, future and compacted
// revisions, leases, compactions, watches from past, current and future
// revisions drained by progress requests) to two backends, and compares
// every outcome. A diverging sequence is shrunk and printed as a test that
// calls Replay:
//
//	func TestDiff(t *testing.T) {
//		backendtest.Diff(t, func(t *testing.T) backend.Backend { return memory.New() },
//			func(t *testing.T) backend.Backend { return mybackend.New(...) },
//			backendtest.DiffOptions{Seed: 1, Sequences: 300})
//	}
//
// The suite waits for events and conditions by polling with a deadline of
// a few seconds, never by sleeping. It cannot provoke ErrIndeterminate,
// ErrPermissionDenied or ErrUnavailable: test those in the backend's own
// package.
package backendtest
