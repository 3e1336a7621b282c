// Package keyhistory reads every retained revision of one key: the
// history sdpcfg history prints and the web console shows.
package keyhistory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// ErrTimeout wraps a read that did not end within its bound.
var ErrTimeout = errors.New("keyhistory: the history was not read in time")

// Read returns the changes to the key path that b still holds, oldest
// first: a watch from the oldest retained revision, drained up to the
// store's current revision (a progress request marks the end). from is
// the revision the history starts at: 1, or the first after the last
// compaction. Each request is bounded by each (0: only by ctx); one that
// runs out fails with an error wrapping ErrTimeout.
func Read(ctx context.Context, b backend.Backend, path string, each time.Duration) (evs []backend.Event, from int64, err error) {
	cctx, cancel := bound(ctx, each)
	now, err := b.Revision(cctx)
	cancel()
	if err != nil {
		return nil, 0, err
	}
	from = 1
	for range 3 { // a compaction between two tries moves the start again
		evs, next, err := drain(ctx, b, path, from, now, each)
		switch {
		case err == nil:
			return evs, from, nil
		case next > from:
			from = next
		default:
			return nil, 0, err
		}
	}
	return nil, 0, errors.New("the store kept compacting while the history was read")
}

func bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// drain watches path from revision from and returns its events up to
// revision now; when from is compacted, it returns the revision to start
// from instead, with the error.
func drain(ctx context.Context, b backend.Backend, path string, from, now int64, each time.Duration) ([]backend.Event, int64, error) {
	wctx, cancel := bound(ctx, each)
	defer cancel()
	ws, err := b.Watch(wctx, []backend.Range{backend.Key(path)}, from)
	if err != nil {
		return nil, 0, err
	}
	defer ws.Close()
	// A stream that failed at once (its start compacted) refuses the
	// request: its last response says why.
	progressErr := ws.RequestProgress(wctx)
	var evs []backend.Event
	for resp := range ws.Responses() {
		if resp.Err != nil {
			return nil, resp.CompactRevision, resp.Err
		}
		for _, ev := range resp.Events {
			if ev.KV.ModRevision <= now {
				evs = append(evs, ev)
			}
		}
		// A progress notification at now or later comes once every event
		// up to it was delivered; an event at now is the last one wanted.
		if n := len(resp.Events); (n == 0 && resp.Revision >= now) || (n > 0 && resp.Events[n-1].KV.ModRevision >= now) {
			return evs, 0, nil
		}
	}
	if err := wctx.Err(); err != nil && ctx.Err() == nil {
		return nil, 0, fmt.Errorf("%w within %v: %w", ErrTimeout, each, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if progressErr != nil {
		return nil, 0, progressErr
	}
	return nil, 0, errors.New("the watch of the history ended early")
}
