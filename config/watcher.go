package config

import (
	"context"
	"iter"

	"github.com/sdpconfig/sdpconfig/txn"
	"github.com/sdpconfig/sdpconfig/watcher"
)

// Watcher is a caching watcher loop over a Config (see watcher.Watcher for
// its semantics): its body runs again when what its transactions read
// changes, on Trigger, or on the timeout. Its transactions are Config
// transactions, so typed entities and ownership work in them. It is safe
// for concurrent use; it runs one loop at a time.
type Watcher struct {
	c *Config
	w *watcher.Watcher
}

// Watcher returns a caching watcher loop over the Config's backend (the
// global-prefix view when the Config has a prefix: paths are the same as in
// Config.Txn). Options.TxnOptions of the Config apply to its transactions,
// before opts.TxnOptions, and its Registerer, TracerProvider and Logger
// are the Watcher's unless opts sets them. It does no I/O until Run or
// Loop.
//
// Closing the Config does not stop a running loop (unless the Config owns
// its backend, whose closing ends the loop with an error wrapping
// backend.ErrClosed): close the Watcher, or end the loop's context, first.
func (c *Config) Watcher(opts watcher.Options) *Watcher {
	if opts.Registerer == nil {
		opts.Registerer = c.tel.Registerer
	}
	if opts.TracerProvider == nil {
		opts.TracerProvider = c.tel.TracerProvider
	}
	if opts.Logger == nil {
		opts.Logger = c.tel.Logger
	}
	if len(c.txnOp) > 0 {
		opts.TxnOptions = append(append(make([]txn.Option, 0, len(c.txnOp)+len(opts.TxnOptions)), c.txnOp...), opts.TxnOptions...)
	}
	return &Watcher{c: c, w: watcher.New(c.b, opts)}
}

// Iteration is one run of a Watcher's body: a watcher.Iteration whose Txn
// hands out Config transactions.
type Iteration struct {
	*watcher.Iteration
	c *Config
}

// Txn runs fn in a watcher transaction (see watcher.Iteration.Txn): reads
// come from the watcher's cache at one consistent revision and are watched;
// writes commit as in Config.Txn. fn may run several times and must be
// idempotent apart from its calls on the Txn. It fails with an error
// wrapping backend.ErrClosed once the Config is closed.
func (it *Iteration) Txn(ctx context.Context, fn func(*Txn) error, opts ...txn.Option) error {
	if err := it.c.checkOpen(); err != nil {
		return err
	}
	return it.Iteration.Txn(ctx, func(t *txn.Txn) error {
		return fn(it.c.WrapTxn(t))
	}, opts...)
}

// Config returns the Config the iteration's transactions run on.
func (it *Iteration) Config() *Config { return it.c }

// Run runs the loop, as watcher.Watcher.Run does, calling body with
// Config iterations. It fails at once with an error wrapping
// backend.ErrClosed if the Config is closed, and returns such an error
// before an iteration that would start after the Config closed.
func (w *Watcher) Run(ctx context.Context, body func(ctx context.Context, it *Iteration) error) error {
	if err := w.c.checkOpen(); err != nil {
		return err
	}
	return w.w.Run(ctx, func(ctx context.Context, it *watcher.Iteration) error {
		if err := w.c.checkOpen(); err != nil {
			return err
		}
		return body(ctx, &Iteration{Iteration: it, c: w.c})
	})
}

// Loop is Run as an iterator, as watcher.Watcher.Loop is.
func (w *Watcher) Loop(ctx context.Context) iter.Seq2[*Iteration, error] {
	return func(yield func(*Iteration, error) bool) {
		if err := w.c.checkOpen(); err != nil {
			yield(nil, err)
			return
		}
		for it, err := range w.w.Loop(ctx) {
			if err == nil {
				err = w.c.checkOpen()
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(&Iteration{Iteration: it, c: w.c}, nil) {
				return
			}
		}
	}
}

// Trigger makes the loop run its body again (see watcher.Watcher.Trigger).
func (w *Watcher) Trigger() { w.w.Trigger() }

// Close stops the running loop and makes later runs fail (see
// watcher.Watcher.Close).
func (w *Watcher) Close() error { return w.w.Close() }

// Stats returns the watcher's counters.
func (w *Watcher) Stats() watcher.Stats { return w.w.Stats() }
