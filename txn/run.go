package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
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
// with no round trip. On a conflict Run waits and tries again with a fresh
// snapshot: for its turn, when other transactions of this process wait on
// the key its commit compared first (they take turns in order of arrival,
// and a new transaction that would commit on such a key queues behind
// them, so none starves), else for the back-off (see WithBackOff); up to WithMaxAttempts attempts, after which it
// fails with an error wrapping ErrTooManyRetries and the last
// *ConflictError.
//
// When b implements backend.CommitReader (and no WithReader is given), the
// commit also asks for the current state of the keys the attempt read one
// by one (Get, Create, Update, Delete with MustExist; not lists), which the
// store returns with a failed commit in the same round trip. If that state
// shows that exactly one write to those keys came between the snapshot and
// the commit (a one-off conflict, not a hot key), the next attempt, after
// the back-off as usual, starts from that state instead of reading those
// keys again: its snapshot is the failed commit's revision, and its reads
// of those keys are answered from that state (other reads go to the store
// at that revision, as usual). If the keys have changed again meanwhile,
// that attempt conflicts like any other.
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
	if o.reader == nil {
		cr, _ = b.(backend.CommitReader)
	}

	var bo backoff.BackOff
	var last *ConflictError
	var next *seed   // the state the next attempt starts from, if any
	var turn *ticket // this transaction's place in a key's queue (see fair.go)
	defer func() {
		if turn != nil {
			turn.leave()
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
		st.Attempts++
		t := newTxn(ctx, reader, o.hook, snapshot)
		t.seed, next = next, nil
		if turn == nil {
			t.queuedAhead = func(path string) bool { return queued(b, path) }
		}
		rev, conflict, s, err := t.attempt(b, cr, fn, limit)
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
		if turn == nil && conflict.queueKey != "" {
			// Wait for this key's turn: no back-off while others of this
			// process go first, in order.
			turn = join(b, conflict.queueKey)
			if !turn.head() {
				next = nil // the state will be stale by then
				if err := turn.wait(ctx); err != nil {
					return err
				}
				continue
			}
		}
		if conflict.deferred {
			continue // nothing was sent: try at once
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
	if t.queuedAhead != nil && len(c.If) > 0 && t.queuedAhead(c.If[0].Range.Path) {
		// Others of this process wait for their turn on this key: queue
		// behind them instead of committing ahead.
		return 0, &ConflictError{Path: c.If[0].Range.Path, Revision: t.rev, commit: &c, queueKey: c.If[0].Range.Path, deferred: true}, nil, nil
	}
	var res backend.TxnResult
	var s *seed
	var reads []string
	if cr != nil {
		reads = t.gotKeys()
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
	if err != nil {
		return 0, nil, nil, err
	}
	if !res.Succeeded {
		ce := &ConflictError{Revision: t.rev, commit: &c}
		if len(c.If) == 1 && !c.If[0].Range.Prefix {
			ce.Path = c.If[0].Range.Path
		}
		if len(c.If) > 0 {
			ce.queueKey = c.If[0].Range.Path
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
