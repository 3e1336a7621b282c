package watcher

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/sdpconfig/sdpconfig/backend"
)

// Back-off between attempts to reopen the stream, or to read the store's
// revision, after a transient failure. It never gives up: the loop retries
// until its context ends.
const (
	reopenInitial = 10 * time.Millisecond
	reopenMax     = 2 * time.Second
)

// errStreamEnded is the error of a watch stream whose channel closed with
// no final error: it is resumed like a cut one.
var errStreamEnded = fmt.Errorf("watcher: watch stream ended: %w", backend.ErrUnavailable)

// Run runs the loop: it calls body, waits until a key or range that the
// body's transactions (Iteration.Txn) read changes after the snapshot they
// read it at, Trigger is called, or Options.Timeout passes, and calls body
// again, with an Iteration that says why. It opens one watch stream when it
// starts and closes it before it returns; no goroutine of the Watcher
// outlives Run.
//
// Run returns the error of body as soon as body returns one; the cause of
// ctx when ctx ends (context.Cause: ctx.Err() unless the context was
// cancelled with a cause); ErrWatcherClosed after Close; ErrWatcherRunning
// if the Watcher's loop is already running; and an error wrapping the
// backend's when the store fails for good (backend.ErrClosed when it
// closes). A stream cut by the store (backend.ErrUnavailable) is reopened
// from the revision after the last one applied, with no gap; a stream whose
// history was compacted away (backend.ErrCompacted) makes the watcher drop
// its cache and wake the loop with Relisted.
//
// body runs in the goroutine that called Run, with a context that ends
// when ctx ends or Close is called.
func (w *Watcher) Run(ctx context.Context, body func(ctx context.Context, it *Iteration) error) error {
	return w.loop(ctx, func(ctx context.Context, it *Iteration) (bool, error) {
		if err := body(ctx, it); err != nil {
			return false, err
		}
		return true, nil
	})
}

// Loop is Run as an iterator: each iteration of a range-over-func loop is
// an iteration of the watcher's loop, and the next one starts (after the
// wait) when the loop body ends.
//
//	for it, err := range w.Loop(ctx) {
//		if err != nil {
//			return err
//		}
//		err = it.Txn(ctx, func(t *txn.Txn) error { ... })
//		...
//	}
//
// The iterator yields a nil Iteration and the error for which Run would
// return, then stops. Breaking out of the range loop stops the watcher's
// loop and closes its stream.
func (w *Watcher) Loop(ctx context.Context) iter.Seq2[*Iteration, error] {
	return func(yield func(*Iteration, error) bool) {
		stopped := false
		err := w.loop(ctx, func(_ context.Context, it *Iteration) (bool, error) {
			if !yield(it, nil) {
				stopped = true
				return false, nil
			}
			return true, nil
		})
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// loop runs iterations while each returns true and no error.
func (w *Watcher) loop(ctx context.Context, each func(context.Context, *Iteration) (bool, error)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	budget := w.opts.CacheKeys
	if budget == 0 {
		budget = DefaultCacheKeys
	}
	c := newCache(w.b, &w.st, budget)
	f := newFeed(ctx, w, c)
	if err := w.begin(&running{cancel: cancel, cache: c, feed: f}); err != nil {
		f.cancel()
		return err
	}
	defer w.end()
	defer f.stop()

	if err := c.waitRev(ctx, 0); err != nil {
		return causeOr(ctx, err)
	}
	reason := FirstRun
	for n := 1; ; n++ {
		// A trigger pending now is served by this iteration.
		triggered := reason == Triggered
		select {
		case <-w.trigger:
			triggered = true
		default:
		}
		it := newIteration(w, c, n, reason, triggered)
		w.st.iterations.Add(1)
		w.st.wakes[reason].Add(1)
		more, err := w.iterate(ctx, it, each)
		items := it.end()
		if err != nil || !more {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if reason, err = w.wait(ctx, c, items); err != nil {
			return err
		}
	}
}

// begin registers the running loop r and starts its feed, unless the
// Watcher is closed or running.
func (w *Watcher) begin(r *running) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return ErrWatcherClosed
	case w.run != nil:
		return ErrWatcherRunning
	}
	w.run = r
	go r.feed.run()
	return nil
}

// end unregisters the running loop.
func (w *Watcher) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.run = nil
}

// wait blocks until one of items changes after the revision it was read
// at, the cache is relisted, Trigger is called, the timeout passes, or ctx
// ends, and says which (in that order of precedence when several hold).
func (w *Watcher) wait(ctx context.Context, c *cache, items []watchItem) (Reason, error) {
	ws := c.watch(items)
	defer c.unwatch(ws)
	var timeout <-chan time.Time
	if w.opts.Timeout > 0 {
		t := time.NewTimer(w.opts.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ws.fired:
	default:
		select {
		case <-ws.fired:
		case <-w.trigger:
			return Triggered, nil
		case <-timeout:
			return TimedOut, nil
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
	}
	if ws.err != nil {
		return 0, causeOr(ctx, ws.err)
	}
	return ws.reason, nil
}

// causeOr returns the cause of ctx if it has ended, else err.
func causeOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// feed is the goroutine that holds the Watcher's stream and applies it to
// the cache.
type feed struct {
	w      *Watcher
	c      *cache
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
}

func newFeed(ctx context.Context, w *Watcher, c *cache) *feed {
	ctx, cancel := context.WithCancel(ctx)
	return &feed{w: w, c: c, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// stop ends the feed and waits for its goroutine to return. It may be
// called several times, from several goroutines.
func (f *feed) stop() {
	f.cancel()
	<-f.done
}

// run follows the store until the feed's context ends or the store fails
// for good; the cache then fails with why.
func (f *feed) run() {
	defer close(f.done)
	err := f.follow(f.ctx)
	f.c.fail(causeOr(f.ctx, err))
}

func newReopenBackOff() backoff.BackOff {
	bo := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(reopenInitial),
		backoff.WithMaxInterval(reopenMax),
		backoff.WithMaxElapsedTime(0),
	)
	bo.Reset()
	return bo
}

// follow starts the cache at the store's revision and keeps it current
// from one watch stream, reopening it when the store cuts it. It returns
// when ctx ends or the store fails for good.
func (f *feed) follow(ctx context.Context) error {
	bo := newReopenBackOff()
	rev, err := f.revision(ctx, bo)
	if err != nil {
		return err
	}
	f.c.start(rev)
	var tick <-chan time.Time
	if f.w.opts.RequeryProgress > 0 {
		t := time.NewTicker(f.w.opts.RequeryProgress)
		defer t.Stop()
		tick = t.C
	}
	for {
		from := f.c.revision() + 1
		s, err := f.w.b.Watch(ctx, watchRanges(), from)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !transient(err) {
				return fmt.Errorf("watcher: watch from revision %d: %w", from, err)
			}
			if err := pause(ctx, bo.NextBackOff()); err != nil {
				return err
			}
			continue
		}
		f.w.st.streams.Add(1)
		got, err := f.consume(ctx, s, tick)
		s.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if got {
			bo.Reset()
		}
		switch {
		case errors.Is(err, backend.ErrCompacted):
			// The history after the cache's revision is gone: drop the
			// cache and start again at the store's current revision.
			rev, err := f.revision(ctx, bo)
			if err != nil {
				return err
			}
			f.w.st.relists.Add(1)
			f.w.log.Info("watcher relisted: the history it needed was compacted", "from", from, "revision", rev)
			f.c.relist(rev)
		case transient(err):
			f.w.st.resumes.Add(1)
			f.w.log.Debug("watcher stream cut, resuming", "revision", f.c.revision(), "err", err)
			if err := pause(ctx, bo.NextBackOff()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("watcher: watch stream: %w", err)
		}
	}
}

// consume applies the responses of s to the cache, asking for progress
// responses every RequeryProgress and when a reader waits for a revision,
// until the stream ends (its error) or ctx does. got tells whether a
// response came.
func (f *feed) consume(ctx context.Context, s backend.WatchStream, tick <-chan time.Time) (got bool, err error) {
	for {
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case resp, ok := <-s.Responses():
			if !ok {
				return got, errStreamEnded
			}
			if resp.Err != nil {
				return got, resp.Err
			}
			got = true
			f.w.st.noteStoreRevision(resp.Revision)
			f.c.apply(resp)
		case <-tick:
			// A failed request needs nothing: the stream's end says why.
			_ = s.RequestProgress(ctx)
		case <-f.c.kick:
			_ = s.RequestProgress(ctx)
		}
	}
}

// revision reads the store's current revision, retrying transient
// failures.
func (f *feed) revision(ctx context.Context, bo backoff.BackOff) (int64, error) {
	for {
		rev, err := f.w.b.Revision(ctx)
		if err == nil {
			f.w.st.noteStoreRevision(rev)
			return rev, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if !transient(err) {
			return 0, fmt.Errorf("watcher: read revision: %w", err)
		}
		if err := pause(ctx, bo.NextBackOff()); err != nil {
			return 0, err
		}
	}
}

// transient reports whether err (from a call whose context is still alive)
// is worth retrying: a store that cannot be reached, a stream it cut.
func transient(err error) bool {
	return errors.Is(err, backend.ErrUnavailable) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// pause waits for d, or returns ctx.Err() when ctx ends first.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
