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
// with no round trip. On a conflict Run waits (see WithBackOff) and tries
// again with a fresh snapshot, up to WithMaxAttempts attempts, after which it
// fails with an error wrapping ErrTooManyRetries and the last
// *ConflictError.
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

	var bo backoff.BackOff
	var last *ConflictError
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
		rev, conflict, err := t.attempt(b, fn, limit)
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

// attempt runs fn once and commits its writes. It returns the commit
// revision (the snapshot revision for a read-only attempt), or the conflict
// that makes Run retry, or the error that ends Run.
func (t *Txn) attempt(b backend.Backend, fn func(*Txn) error, limit int) (int64, *ConflictError, error) {
	err := t.call(fn)
	if t.fail != nil {
		// A read failed: whatever fn made of it, the attempt saw an
		// incomplete snapshot and must not commit.
		var ce *ConflictError
		if errors.As(t.fail, &ce) {
			return 0, ce, nil
		}
		if err == nil {
			err = t.fail
		}
		return 0, nil, err
	}
	if err != nil {
		return 0, nil, err
	}
	if err := t.ctx.Err(); err != nil {
		return 0, nil, err
	}
	c, ok, err := t.plan(limit)
	if err != nil {
		var ce *ConflictError
		if errors.As(t.fail, &ce) {
			return 0, ce, nil
		}
		return 0, nil, err
	}
	if !ok {
		return t.rev, nil, nil
	}
	res, err := b.Commit(t.ctx, c)
	if err != nil {
		return 0, nil, err
	}
	if !res.Succeeded {
		ce := &ConflictError{Revision: t.rev, commit: &c}
		if len(c.If) == 1 && !c.If[0].Range.Prefix {
			ce.Path = c.If[0].Range.Path
		}
		return 0, ce, nil
	}
	return res.Revision, nil, nil
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
