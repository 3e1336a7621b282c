package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.opentelemetry.io/otel/trace"

	"github.com/sdpconfig/sdpconfig/backend"
)

// Run runs fn in a transaction and commits it, retrying on conflict. fn may
// run several times and must be idempotent apart from its calls on the *Txn:
// it must not change state outside the transaction except through OnCommit
// callbacks, which run only for the attempt that committed.
//
// Each attempt calls fn with a fresh *Txn. If fn returns an error, Run
// returns it as is and commits nothing. Otherwise Run commits the attempt's
// writes in one backend commit that succeeds only if nothing the attempt
// read changed since its snapshot; a transaction that wrote nothing commits
// with no round trip. On a conflict Run tries again with a fresh snapshot,
// after taking turns (see fair.go): the transaction queues on every key its
// commit compares, behind the transactions of this process that wait
// there, and a new transaction that would commit on a queued key queues
// behind them too, so none starves. Holding its turns while others of
// this process run on the backend (b, or the backend b wraps: Unwrapper),
// it tries again at once, up to a few times; otherwise, and after those,
// it waits for the back-off (see WithBackOff). Run makes up to
// WithMaxAttempts attempts, after which it fails with an error wrapping
// ErrTooManyRetries and the last *ConflictError.
//
// When b implements backend.CommitReader (and no WithReader is given), the
// commit also asks for the current state of the keys the attempt read one
// by one (Get, Create, Update, Delete with MustExist; not lists), which the
// store returns with a failed commit in the same round trip. If that state
// shows that exactly one write to those keys came between the snapshot and
// the commit (a one-off conflict, not a hot key), and the retry did not
// wait for its turn, the next attempt starts from that state instead of
// reading those keys again: its snapshot is the failed commit's revision,
// and its reads of those keys are answered from that state (other reads go
// to the store at that revision, as usual). If the keys have changed again
// meanwhile, that attempt conflicts like any other. Otherwise, when b
// implements backend.MultiGetter, the next attempt starts from those keys
// read again in one round trip, as WithPrefetch reads them.
//
// Run returns ctx.Err() as soon as ctx ends between attempts or during a
// back-off. A commit that fails with backend.ErrIndeterminate (it may or may
// not have been applied) is never retried: Run returns that error. A commit
// larger than the backend allows (backend.Limiter, else DefaultMaxTxnOps)
// fails with backend.ErrTxnTooLarge before anything is sent. A panic in fn
// propagates to Run's caller, with nothing committed.
func Run(ctx context.Context, b backend.Backend, fn func(*Txn) error, opts ...Option) (err error) {
	o := buildOptions(opts)
	var st Stats
	var obs run
	if o.obs != nil {
		ctx, obs = o.obs.begin(ctx)
		defer func() { obs.end(&st, err) }()
	}
	if o.stats != nil {
		defer func() {
			if err != nil {
				st.Revision = 0
			}
			*o.stats = st
		}()
	}
	reader := o.reader
	if reader == nil {
		reader = b
	}
	limit := DefaultMaxTxnOps
	if l, ok := b.(backend.Limiter); ok && l.MaxTxnOps() > 0 {
		limit = l.MaxTxnOps()
	}
	// A reader of its own (a cache) may not serve the revision of a failed
	// commit yet: seed retries only when reading from the backend itself.
	var cr backend.CommitReader
	var mg backend.MultiGetter
	if o.reader == nil {
		cr, _ = b.(backend.CommitReader)
		mg, _ = b.(backend.MultiGetter)
	}
	refetch := o.prefetch // keys to read in one round trip before the next attempt
	if o.snapshot != 0 {
		refetch = nil
	}
	for _, p := range refetch {
		if err := validPath(p); err != nil {
			return fmt.Errorf("txn: prefetch: %w", err)
		}
	}

	var bo backoff.BackOff
	var last *ConflictError
	var next *seed      // the state the next attempt starts from, if any
	turnsOn := store(b) // nil: no turns (see store)
	if turnsOn != nil {
		enter(turnsOn)
		defer leave(turnsOn)
	}
	var turn *hold // this transaction's places in its keys' queues (see fair.go)
	quick := 0     // conflicts retried at once while holding the turn
	defer func() {
		if turn != nil {
			turn.release()
		}
	}()
	for st.Attempts < o.maxAttempts {
		if err := ctx.Err(); err != nil {
			return err
		}
		snapshot := int64(0)
		if st.Attempts == 0 {
			snapshot = o.snapshot
		}
		if next == nil && mg != nil && len(refetch) > 0 && len(refetch) <= limit {
			next = fetchSeed(ctx, mg, refetch)
		}
		refetch = nil
		st.Attempts++
		actx, span := ctx, trace.Span(nil)
		if o.obs != nil {
			actx, span = obs.attempt(ctx, st.Attempts)
		}
		t := newTxn(actx, reader, o.hook, snapshot)
		t.seed, next, t.obs = next, nil, o.obs
		if turn == nil && turnsOn != nil {
			t.queuedAhead = func(cmps []backend.Compare) bool { return queued(turnsOn, cmps) }
		}
		rev, conflict, s, err := t.attempt(b, cr, fn, limit)
		if o.obs != nil {
			endAttempt(span, conflict, err)
			if conflict != nil {
				o.obs.conflict(conflict)
			}
		}
		if err != nil {
			return err
		}
		if conflict == nil {
			st.Revision = rev
			for _, f := range t.onCommit {
				f()
			}
			return nil
		}
		st.Conflicts++
		last = conflict
		if st.Attempts >= o.maxAttempts {
			break
		}
		next = s
		if s == nil {
			refetch = conflict.reads // no state to start from: read it at once
		}
		if turn == nil && turnsOn != nil && conflict.commit != nil && len(conflict.commit.If) > 0 {
			// Wait for the turns of the keys the commit compares: no
			// back-off while others of this process go first, in order.
			var waited bool
			turn, waited, err = take(ctx, turnsOn, conflict.commit)
			if err != nil {
				return err
			}
			if waited {
				// The state is stale by now: read it again at once.
				next, refetch = nil, conflict.reads
				continue
			}
		}
		if conflict.deferred {
			continue // nothing was sent: try at once
		}
		if turn != nil && quick < quickRetries && others(turnsOn) {
			// This transaction has its keys' turns while others of this
			// process run: those that conflict on its keys wait behind
			// it, so sleeping would only idle them too. Try again at
			// once, from the state the failed commit brought back, as
			// STM does.
			quick++
			continue
		}
		if bo == nil {
			bo = o.newBackOff()
			bo.Reset()
		}
		d := bo.NextBackOff()
		if d == backoff.Stop {
			break
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	if last.Path == "" && last.commit != nil {
		last.Path = blame(ctx, b, last.commit)
	}
	return fmt.Errorf("%w after %d attempts: %w", ErrTooManyRetries, st.Attempts, last)
}

// attempt runs fn once and commits its writes, through cr if not nil. It
// returns the commit revision (the snapshot revision for a read-only
// attempt), or the conflict that makes Run retry, with the state to retry
// from if cr brought it back, or the error that ends Run.
func (t *Txn) attempt(b backend.Backend, cr backend.CommitReader, fn func(*Txn) error, limit int) (int64, *ConflictError, *seed, error) {
	err := t.call(fn)
	if t.fail != nil {
		// A read failed: whatever fn made of it, the attempt saw an
		// incomplete snapshot and must not commit.
		var ce *ConflictError
		if errors.As(t.fail, &ce) {
			return 0, ce, nil, nil
		}
		if err == nil {
			err = t.fail
		}
		return 0, nil, nil, err
	}
	if err != nil {
		return 0, nil, nil, err
	}
	if err := t.ctx.Err(); err != nil {
		return 0, nil, nil, err
	}
	c, ok, err := t.plan(limit)
	if err != nil {
		var ce *ConflictError
		if errors.As(t.fail, &ce) {
			return 0, ce, nil, nil
		}
		return 0, nil, nil, err
	}
	if !ok {
		return t.rev, nil, nil, nil
	}
	var reads []string
	if cr != nil {
		reads = t.gotKeys()
	}
	if t.queuedAhead != nil && t.queuedAhead(c.If) {
		// Others of this process wait for their turn on a key this
		// commit compares: queue behind them instead of committing ahead.
		return 0, &ConflictError{Revision: t.rev, commit: &c, reads: reads, deferred: true}, nil, nil
	}
	var res backend.TxnResult
	var s *seed
	var timer commitTimer
	if t.obs != nil {
		timer = t.obs.startCommit(t.ctx, len(c.If), len(c.Then), len(reads))
	}
	if len(reads) > 0 && len(reads) <= limit {
		var rr backend.CommitReadResult
		rr, err = cr.CommitRead(t.ctx, c, reads)
		res = rr.TxnResult
		if err == nil && !rr.Succeeded && rr.Read {
			s = &seed{rev: rr.Revision, reads: reads, kvs: rr.KVs}
			if t.writesSince(s) != 1 {
				// Not one write that came between: the keys are hot,
				// and will have changed again after the back-off.
				s = nil
			}
		}
	} else {
		res, err = b.Commit(t.ctx, c)
	}
	if t.obs != nil {
		timer.end(err)
	}
	if err != nil {
		return 0, nil, nil, err
	}
	if !res.Succeeded {
		ce := &ConflictError{Revision: t.rev, commit: &c, reads: reads}
		if len(c.If) == 1 && !c.If[0].Range.Prefix {
			ce.Path = c.If[0].Range.Path
		}
		return 0, ce, s, nil
	}
	return res.Revision, nil, nil, nil
}

// call runs fn, marking the attempt ended however fn returns.
func (t *Txn) call(fn func(*Txn) error) error {
	defer func() { t.done = true }()
	return fn(t)
}

// sleep waits for d, or returns ctx.Err() as soon as ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
