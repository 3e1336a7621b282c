package watcher

import (
	"context"
	"sync"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/txn"
)

// Iteration is one run of the loop body. Transactions started with its
// Txn method read through the watcher's cache, and what they read decides
// when the next iteration runs. Its methods are safe for concurrent use,
// but only while the body runs.
type Iteration struct {
	w         *Watcher
	c         *cache
	n         int
	reason    Reason
	triggered bool
	rev       int64

	mu    sync.Mutex
	over  bool
	items map[backend.Range]watchItem // what to wait on: the oldest read of each
}

func newIteration(w *Watcher, c *cache, n int, reason Reason, triggered bool) *Iteration {
	return &Iteration{w: w, c: c, n: n, reason: reason, triggered: triggered,
		rev: c.revision(), items: make(map[backend.Range]watchItem)}
}

// N returns the iteration's number: 1 for the first.
func (it *Iteration) N() int { return it.n }

// Reason returns why the iteration runs. When several causes hold at once,
// only the first in the order of the Reason constants is reported; use
// Triggered to learn whether Trigger was also called.
func (it *Iteration) Reason() Reason { return it.reason }

// Triggered reports whether Trigger was called since the previous iteration
// began, whatever Reason reports: a trigger that comes together with a
// change is served by this iteration, and never lost.
func (it *Iteration) Triggered() bool { return it.triggered }

// Revision returns the cache's revision when the iteration started: every
// change of the store up to it had been applied.
func (it *Iteration) Revision() int64 { return it.rev }

// Watched returns the number of keys and ranges read so far by the
// iteration's transactions: what the loop will wait on.
func (it *Iteration) Watched() int {
	it.mu.Lock()
	defer it.mu.Unlock()
	return len(it.items)
}

// Txn runs fn in a transaction, as txn.Run does (fn may run several times
// and must be idempotent apart from its calls on the *txn.Txn), with two
// differences: its reads are served by the watcher's cache at one
// consistent revision (the cache's when the attempt starts, at least the
// revision of the last commit of a watcher transaction and, on a retry, the
// revision the failed commit reported), and the keys and ranges it reads
// are watched: a change to one of them after that revision wakes the loop
// after this iteration. Untracked lists are read from the cache but not
// watched. Writes commit to the store in one commit, as in txn.Run.
//
// The options apply after Options.TxnOptions; txn.WithReader and
// txn.WithReadHook are the watcher's own and must not be given. Txn fails
// with ErrIterationOver once the body of the iteration has returned.
func (it *Iteration) Txn(ctx context.Context, fn func(*txn.Txn) error, opts ...txn.Option) error {
	it.mu.Lock()
	over := it.over
	it.mu.Unlock()
	if over {
		return ErrIterationOver
	}
	r := &txnReader{c: it.c, w: it.w}
	defer r.release()
	all := make([]txn.Option, 0, len(it.w.opts.TxnOptions)+len(opts)+2)
	all = append(all, it.w.opts.TxnOptions...)
	all = append(all, opts...)
	all = append(all, txn.WithReader(r), txn.WithReadHook(r.hook))
	err := txn.Run(ctx, &txnBackend{Backend: it.w.b, r: r}, fn, all...)
	it.record(r.items)
	return err
}

// WaitRevision waits until the watcher's cache has applied every change of
// the store up to rev, so that later transactions of the iteration see
// writes committed outside the watcher (by Config.Txn, or backend calls):
// read-your-writes across them.
func (it *Iteration) WaitRevision(ctx context.Context, rev int64) error {
	return it.c.waitRev(ctx, rev)
}

// record adds what the last attempt of a transaction read to what the
// loop waits on.
func (it *Iteration) record(items []watchItem) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.over {
		return
	}
	for _, wi := range items {
		if old, ok := it.items[wi.r]; !ok || wi.gen < old.gen || (wi.gen == old.gen && wi.rev < old.rev) {
			it.items[wi.r] = wi
		}
	}
}

// end marks the iteration over and returns what the loop waits on.
func (it *Iteration) end() []watchItem {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.over = true
	items := make([]watchItem, 0, len(it.items))
	for _, wi := range it.items {
		items = append(items, wi)
	}
	return items
}

// txnReader is the txn.Reader of one watcher transaction: it serves reads
// from the cache at the snapshot of the current attempt, which it pins,
// and records what the attempt reads (through the read hook).
type txnReader struct {
	c *cache
	w *Watcher

	// minRev is the revision the next attempt must read at least at: the
	// revision a failed commit reported.
	minRev int64

	pinned bool   // rev is pinned in the cache
	rev    int64  // the current attempt's snapshot; 0 before its first read
	gen    uint64 // the cache generation of the snapshot
	items  []watchItem
}

var _ txn.Reader = (*txnReader)(nil)

// snapshot returns the revision to read at for a read asking for rev,
// starting an attempt when rev is 0 (the first read of every attempt but a
// first one pinned with txn.WithSnapshot).
func (r *txnReader) snapshot(ctx context.Context, rev int64) (int64, error) {
	if rev != 0 && rev == r.rev {
		return rev, nil
	}
	r.release()
	r.items = r.items[:0]
	if rev == 0 {
		got, gen, err := r.c.pin(ctx, max(r.minRev, r.w.lastCommit.Load()))
		if err != nil {
			return 0, err
		}
		r.rev, r.gen, r.pinned = got, gen, true
		return got, nil
	}
	// A snapshot chosen by the caller: pinned if the cache can serve it,
	// else read from the store.
	r.pinned, r.gen = r.c.pinAt(rev)
	r.rev = rev
	return rev, nil
}

// release unpins the current attempt's snapshot.
func (r *txnReader) release() {
	if r.pinned {
		r.c.unpin(r.rev)
		r.pinned = false
	}
}

// Get reads the key at path at the attempt's snapshot.
func (r *txnReader) Get(ctx context.Context, path string, rev int64) (backend.KeyValue, int64, error) {
	rev, err := r.snapshot(ctx, rev)
	if err != nil {
		return backend.KeyValue{}, 0, backend.WrapPath("get", path, err)
	}
	kv, ok, err := r.c.get(ctx, path, rev)
	if err != nil {
		return backend.KeyValue{}, rev, backend.WrapPath("get", path, err)
	}
	if !ok {
		return backend.KeyValue{}, rev, backend.WrapPath("get", path, backend.ErrNotFound)
	}
	return kv, rev, nil
}

// List lists keys at the attempt's snapshot.
func (r *txnReader) List(ctx context.Context, prefix string, opts backend.ListOptions) (backend.ListResult, error) {
	if err := backend.ValidatePrefix(prefix); err != nil {
		return backend.ListResult{}, err
	}
	rev, err := r.snapshot(ctx, opts.Revision)
	if err != nil {
		return backend.ListResult{}, backend.WrapPath("list", prefix, err)
	}
	base := backend.Depth(prefix)
	var depths []int
	if opts.Depths != nil {
		for _, d := range opts.Depths {
			if d >= 0 {
				depths = append(depths, base+d)
			}
		}
	} else {
		for d := 0; d <= opts.Recurse; d++ {
			depths = append(depths, base+d)
		}
	}
	kvs, err := r.c.list(ctx, prefix, depths, rev)
	if err != nil {
		return backend.ListResult{}, backend.WrapPath("list", prefix, err)
	}
	res := backend.ListResult{Revision: rev}
	for _, kv := range kvs {
		if opts.After != "" && kv.Path <= opts.After {
			continue
		}
		if opts.Limit > 0 && len(res.KVs) == opts.Limit {
			res.More = true
			break
		}
		if !opts.WithValues {
			kv.Value = ""
		}
		res.KVs = append(res.KVs, kv)
	}
	return res, nil
}

// hook records a key or range the current attempt read.
func (r *txnReader) hook(rg backend.Range) {
	r.items = append(r.items, watchItem{r: rg, rev: r.rev, gen: r.gen})
}

// txnBackend is the backend a watcher transaction commits to: the
// watcher's, noting the revisions its commits report, for read-your-writes
// and for retries that read at least what made them conflict.
type txnBackend struct {
	backend.Backend
	r *txnReader
}

// Unwrap returns the watcher's backend: watcher transactions take turns
// with the other transactions on it (txn.Unwrapper).
func (b *txnBackend) Unwrap() backend.Backend { return b.Backend }

// Commit commits t to the store and notes the revision it reports.
func (b *txnBackend) Commit(ctx context.Context, t backend.Txn) (backend.TxnResult, error) {
	res, err := b.Backend.Commit(ctx, t)
	if err != nil {
		return res, err
	}
	b.r.minRev = max(b.r.minRev, res.Revision)
	if res.Succeeded && len(t.Then) > 0 {
		b.r.w.noteCommit(res.Revision)
	}
	return res, nil
}

// MaxTxnOps returns the store's commit size limit, as txn.Run would find
// it on the watcher's backend.
func (b *txnBackend) MaxTxnOps() int {
	if l, ok := b.Backend.(backend.Limiter); ok && l.MaxTxnOps() > 0 {
		return l.MaxTxnOps()
	}
	return txn.DefaultMaxTxnOps
}
