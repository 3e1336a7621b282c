package etcd3

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sdpconfig/sdpconfig/backend"
)

// read runs an idempotent request, retrying it on transient errors
// (unavailable members, lost leader, per-attempt timeout) with jittered
// exponential backoff, at most Retry.MaxAttempts times and never past ctx.
// Each attempt gets its own request context (see reqCtx). The error wraps a
// backend sentinel, ErrClosed, or ctx's error.
// op names the request in metrics and spans.
func (b *Backend) read(ctx context.Context, op string, attempt func(ctx context.Context) error) error {
	var bo *backoff.ExponentialBackOff
	for n := 1; ; n++ {
		rctx, done, err := b.reqCtx(ctx)
		if err != nil {
			return err
		}
		rctx, req := b.m.startRequest(rctx, op)
		err = attempt(rctx)
		req.end(err, false)
		done()
		if err == nil {
			return nil
		}
		err = b.mapErr(ctx, err)
		if !transient(err) {
			return err
		}
		if n >= b.cfg.Retry.MaxAttempts {
			return fmt.Errorf("%w (after %d attempts)", err, n)
		}
		b.m.retries.WithLabelValues(op).Inc()
		b.m.log.Debug("etcd request retried", "op", op, "attempt", n, "error", err)
		if bo == nil {
			bo = b.newBackOff()
		}
		if werr := b.sleep(ctx, bo.NextBackOff()); werr != nil {
			return fmt.Errorf("%w (retrying after: %w)", werr, err)
		}
	}
}

// newBackOff returns the wait schedule between attempts.
func (b *Backend) newBackOff() *backoff.ExponentialBackOff {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = b.cfg.Retry.InitialInterval
	bo.MaxInterval = b.cfg.Retry.MaxInterval
	bo.MaxElapsedTime = 0 // attempts and ctx bound the retries
	bo.Reset()
	return bo
}

// sleep waits d, and fails early with ctx's error or ErrClosed.
func (b *Backend) sleep(ctx context.Context, d time.Duration) error {
	if d == backoff.Stop {
		return errors.New("backoff stopped")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.ctx.Done():
		return backend.ErrClosed
	}
}
