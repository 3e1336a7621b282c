// Package memory is an in-memory MVCC store that behaves like etcd v3 as
// seen through the backend SPI. It is sdpconfig's reference backend and the
// test double for services' integration tests: it passes the same
// conformance suite (testing/backendtest) as the etcd backend.
//
// # Basics
//
//	b := memory.New()
//	defer b.Close()
//	rev, err := b.Create(ctx, "/pb/x", `{"a": 1}`, backend.NoLease)
//
// Paths are stored as they are given (no global prefix, no "<depth>" tag):
// the depth rule is applied by the per-depth index, so List, prefix ranges
// and watches select exactly the keys etcd would.
//
// # What it copies from etcd
//
//   - One global revision. A new store is at revision 1; every write that
//     changes something moves it by exactly one; a commit or delete that
//     changes nothing does not.
//   - Per key: create revision, mod revision, version (1 after create, +1 per
//     put, also of the same value) and lease.
//   - History: Get and List read at old revisions and Watch replays from
//     one, until Compact(rev) drops the history before rev. Reads below the
//     compact revision fail with ErrCompacted, reads at it work; reads above
//     the current revision fail with ErrFutureRevision. Like etcd, the
//     revision Get and List return is the store's current one (the response
//     header's), also for a read at an older revision.
//   - Commit: etcd's compare rules (a missing key and an empty range compare
//     as zeros; a range holds when every key in it holds), etcd's checks
//     (more than MaxTxnOps compares or ops per branch, or more than
//     MaxRequestBytes of keys and values: ErrTxnTooLarge; a key put twice,
//     or put inside a range deleted in the same branch, in either branch:
//     ErrInvalidTxn), and a put with an unknown lease fails the commit with
//     ErrLeaseExpired.
//   - Leases: the TTL is rounded up to whole seconds (at least one). A lease
//     whose handle is open is kept alive and never expires. When it expires,
//     is revoked or is expired with ExpireLease, its keys are deleted at one
//     revision, with a delete event each.
//   - Watch: events in revision order, each once, with previous values (nil
//     for a create, or when the revision before the event is compacted, as
//     in etcd); delete events carry the path and the delete's revision. A
//     replay from an old revision comes in batches of up to 1000 revisions,
//     as in etcd; live events come one response per revision.
//
// # Testing with it
//
// Inject a FakeClock with WithClock to control lease expiry: a lease whose
// handle was closed expires when the clock has advanced by its TTL, inside
// the FakeClock.Advance call. ExpireLease expires a lease at once, and
// DropWatches cuts every watch stream with ErrUnavailable, as a network
// failure would, so that resume logic can be tested.
//
// # Caveats
//
//   - Everything is in memory and history grows until Compact is called; no
//     automatic compaction is done.
//   - The byte limit counts the stored keys (a prefix range twice, for its
//     range end) and values, not etcd's exact protobuf encoding.
//   - A watch stream queues without bound: a consumer that never reads
//     makes the queue grow, never the writers wait.
//   - A final watch response (an error) replaces a response the consumer has
//     not received yet; resuming from the last revision received is always
//     gap-free.
//   - Lease.Close ends the handle at once (Done closed, Err ErrClosed); the
//     lease itself lives on in the store until its TTL runs out.
package memory
