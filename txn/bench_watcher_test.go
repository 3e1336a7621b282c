package txn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// The transactions of a caching watcher's loop, reading its cache, against
// STM with the same workload (issue 15, item 3):
//
//	go test -run '^$' -bench Watcher -benchtime 2000x -v ./txn/

// BenchmarkWatcherLowContention: BenchmarkLowContention's workload, the
// txn side in a watcher's loop.
func BenchmarkWatcherLowContention(b *testing.B) {
	readModifyWrite(b, benchWorkers, benchKeys, viaWatcher)
}

// BenchmarkWatcherMediumContention: BenchmarkMediumContention's workload,
// the txn side in a watcher's loop.
func BenchmarkWatcherMediumContention(b *testing.B) { readModifyWrite(b, 8, 10, viaWatcher) }

var errBenchOver = errors.New("benchmark over")

// watcherTxns runs a watcher over be for the rest of the benchmark, its
// body blocked in its first iteration (a long-running service's loop), and
// returns a function that runs a transaction of that iteration: the
// workers of every round share one cache, kept current by one stream.
func watcherTxns(b *testing.B, be backend.Backend) func(fn func(*txn.Txn) error, opts ...txn.Option) error {
	b.Helper()
	ctx := context.Background()
	w := watcher.New(be, watcher.Options{})
	its := make(chan *watcher.Iteration)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(_ context.Context, it *watcher.Iteration) error {
			its <- it
			<-release
			return errBenchOver
		})
	}()
	var it *watcher.Iteration
	select {
	case it = <-its:
	case err := <-done:
		b.Fatalf("the watcher's loop ended before its first iteration: %v", err)
	}
	b.Cleanup(func() {
		close(release)
		if err := <-done; !errors.Is(err, errBenchOver) {
			b.Errorf("the watcher's loop: %v", err)
		}
		w.Close()
	})
	return func(fn func(*txn.Txn) error, opts ...txn.Option) error { return it.Txn(ctx, fn, opts...) }
}
