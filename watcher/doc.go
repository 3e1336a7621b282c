// Package watcher is the caching watcher loop: a body that runs again
// whenever something it read in the store changes.
//
// # The caching watcher loop
//
// A Watcher runs a loop body again whenever something it read changes,
// like ska-sdp-config's watcher:
//
//	w := watcher.New(b, watcher.Options{Timeout: time.Minute})
//	defer w.Close()
//	err := w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
//		return it.Txn(ctx, func(t *txn.Txn) error {
//			v, ok, err := t.Get("/pb/pb-1")
//			... // act on v; write status with t.Put
//		})
//	})
//
// Transactions started through the Iteration record the keys and ranges
// they read. When the body returns, the loop blocks until one of those
// changes after the snapshot revision of the transaction that read it,
// Trigger is called from any goroutine, Options.Timeout passes, or the
// context ends; Iteration.Reason says which. A change that lands between a
// read and the start of waiting still wakes the loop: nothing is missed.
//
// The loop holds one backend watch stream, whatever the number of keys it
// reads, kept across iterations. The stream feeds a local cache from which
// watcher transactions read, each at one consistent revision; reads of keys
// nobody changed are at most Options.RequeryProgress stale. Writes in
// watcher transactions commit like any transaction (txn.Run), and a later
// watcher transaction reads its own writes. A cut stream resumes with no
// gap; a compaction relists (Reason Relisted), never a silent gap.
//
// Use the loop for level-triggered controllers: read desired and observed
// state, act, write status only when it differs.
//
// The cache keeps at most Options.CacheKeys keys (default
// DefaultCacheKeys), evicting what was read least recently, never what the
// loop waits on or what the current iteration read; Stats reports its size.
//
// To keep a whole prefix in memory and be told of every change, use
// package mirror instead.
package watcher
