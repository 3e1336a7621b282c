package etcd3

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

	"github.com/sdpconfig/sdpconfig/backend"
)

// etcdWatchBatchMaxRevs is the most revisions etcd puts in one response to
// a watch that catches up on history (watchBatchMaxRevs in etcd's mvcc). A
// response that full may be followed by more history, although its header
// revision is the store's: see watchStream.response.
const etcdWatchBatchMaxRevs = 1000

// watchIDKey is the gRPC metadata key that gives each stream a gRPC watch
// stream of its own, so that a progress request concerns only that stream
// (etcd answers one only when every watch of its gRPC stream is synced).
const watchIDKey = "sdpconfig-watch-id"

// Watch streams the changes to ranges from fromRev on (0: from the next
// write) over ONE etcd watch: the smallest key interval covering every
// range, with previous values and requiring a leader. Events outside the
// ranges (and keys outside the global prefix) are filtered out here, so
// the events of every range come in one revision order, the events of one
// revision together. Watch returns once etcd has created the watch; it
// blocks while no member is reachable, until ctx ends.
//
// The stream ends with a last response whose Err is: ErrCompacted when
// fromRev is at or before the compact revision, with CompactRevision the
// revision after it, the first a watch may start from (etcd itself
// replays the compact revision too, but servers before 3.4.34 and 3.5.15
// have lost its deletes; see isCompactRevision); ErrUnavailable when etcd
// cancels the watch or the connection is lost for good (no leader, member
// gone): resume from the last revision seen plus one; ctx's error when ctx
// ends; ErrClosed when the backend closes. Close ends it with no last
// response. A dropped connection that the client can re-establish is
// resumed by the etcd client, without gap nor duplicate.
//
// The Revision of a response is etcd's header revision: the store revision
// when etcd sent it. One exception keeps it truthful: a catch-up response
// of a full batch of history (1000 revisions) may be followed by more, so
// its Revision is its last event's.
func (b *Backend) Watch(ctx context.Context, ranges []backend.Range, fromRev int64) (backend.WatchStream, error) {
	for _, r := range ranges {
		if err := r.Validate(); err != nil {
			return nil, backend.WrapPath("watch", r.Path, err)
		}
	}
	label := ""
	if len(ranges) > 0 {
		label = ranges[0].Path
	}
	if err := ctx.Err(); err != nil {
		return nil, backend.WrapPath("watch", label, err)
	}
	start, end := b.cover(ranges)
	atCompaction, err := b.isCompactRevision(ctx, start, fromRev)
	if err != nil {
		return nil, backend.WrapPath("watch", label, b.mapErr(ctx, err))
	}
	var counts rangeCount
	startCompacted := false
	if !b.progressTrusted(ctx) {
		// A server whose progress notifications must be checked: the
		// check needs the revision the stream starts after, and is
		// cheaper with the ranges' counts there.
		if fromRev <= 0 {
			rev, err := b.currentRevision(ctx)
			if err != nil {
				return nil, backend.WrapPath("watch", label, b.mapErr(ctx, err))
			}
			fromRev = rev + 1
		}
		var err error
		if counts, startCompacted, err = b.baseCounts(ctx, ranges, fromRev-1); err != nil {
			return nil, backend.WrapPath("watch", label, b.mapErr(ctx, err))
		}
	}

	wctx, cancel := context.WithCancel(ctx)
	s := &watchStream{
		b:              b,
		ranges:         append([]backend.Range(nil), ranges...),
		label:          label,
		userCtx:        ctx,
		cancel:         cancel,
		out:            make(chan backend.WatchResponse, 1),
		progressc:      make(chan struct{}, 1),
		startRev:       max(fromRev, 0),
		counts:         counts,
		startCompacted: startCompacted,
		stopCh:         make(chan struct{}),
		done:           make(chan struct{}),
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		cancel()
		return nil, backend.WrapPath("watch", label, backend.ErrClosed)
	}
	b.watchSeq++
	id := b.watchSeq
	b.streams[s] = struct{}{}
	b.wg.Add(1)
	b.mu.Unlock()
	b.m.streams.Inc()
	stopAfter := context.AfterFunc(b.ctx, cancel)

	wctx = clientv3.WithRequireLeader(wctx)
	s.wctx = metadata.AppendToOutgoingContext(wctx, watchIDKey, strconv.FormatUint(id, 10))
	opts := []clientv3.OpOption{clientv3.WithPrevKV()}
	if end == "\x00" {
		opts = append(opts, clientv3.WithFromKey())
	} else {
		opts = append(opts, clientv3.WithRange(end))
	}
	s.key, s.opts = start, opts
	// On a server that answers progress ahead of its events, a watch from
	// a past revision catches up on a watch of its own (see catchUp).
	s.replayFrom = 0
	if counts.rev != 0 && fromRev > 0 && !atCompaction {
		s.replayFrom = fromRev
	}
	var wch clientv3.WatchChan
	if atCompaction {
		// What etcd would answer a watch from before the compaction.
		c := make(chan clientv3.WatchResponse, 1)
		c <- clientv3.WatchResponse{CompactRevision: fromRev, Canceled: true}
		close(c)
		wch = c
	} else {
		wopts := opts
		switch {
		case s.replayFrom > 0:
			wopts = append(opts[:len(opts):len(opts)], clientv3.WithCreatedNotify())
		case fromRev > 0:
			wopts = append(opts[:len(opts):len(opts)], clientv3.WithRev(fromRev))
		}
		wch = b.watcher.Watch(s.wctx, start, wopts...)
	}
	go func() {
		defer b.wg.Done()
		defer stopAfter()
		s.run(wch)
	}()
	return s, nil
}

// cover returns the smallest key interval [start, end) holding every range
// ("\x00" as end: to the end of the key space). With no range it is a key
// no path is stored at.
func (b *Backend) cover(ranges []backend.Range) (start, end string) {
	if len(ranges) == 0 {
		k := b.ks.key("/")
		return k, k + "\x00"
	}
	for i, r := range ranges {
		k, prefix := b.ks.of(r)
		e := k + "\x00"
		if prefix {
			e = clientv3.GetPrefixRangeEnd(k)
		}
		if i == 0 || k < start {
			start = k
		}
		if i == 0 || end != "\x00" && (e == "\x00" || e > end) {
			end = e
		}
	}
	return start, end
}

// watchStream is one open watch.
type watchStream struct {
	b       *Backend
	ranges  []backend.Range
	label   string          // the first range's path, for errors
	userCtx context.Context // the caller's context
	wctx    context.Context // the etcd watch's context
	cancel  context.CancelFunc

	out            chan backend.WatchResponse // capacity 1: room for a last response
	progressc      chan struct{}              // capacity 1: a progress request
	stopCh         chan struct{}              // closed by stop
	done           chan struct{}              // closed when run has returned
	startRev       int64                      // fromRev of a watch from a given revision, else 0
	counts         rangeCount                 // for verifyProgress, owned by run's goroutine
	startCompacted bool                       // fromRev-1 was compacted when the watch began
	replayFrom     int64                      // fromRev when catchUp replays the history (see catchUp)
	key            string                     // etcd's watch: its key,
	opts           []clientv3.OpOption        // and its options but the revision

	mu      sync.Mutex
	stopped bool
	stopErr error // the last response's error when stopped; nil for Close
}

// Responses delivers the stream's responses in order; it is closed after a
// response with Err, or after Close.
func (s *watchStream) Responses() <-chan backend.WatchResponse { return s.out }

// RequestProgress asks for a progress notification: a response with no
// events whose Revision is the store's current revision, sent after every
// event up to it. It returns at once; the stream's goroutine does the work,
// because etcd alone does not keep that promise: it drops a progress
// request while the watch catches up on history, and ignores it while the
// store has not reached the watch's start revision; and a server before
// 3.4.25 or 3.5.8 answers before the events it covers (etcd issue 15220).
// So the goroutine asks etcd again every progressRetry until etcd answers,
// while the store is below the start revision (no event can be due) it
// answers itself with the store's revision, and on a server with the bug
// it checks each answer against the store first and asks again while
// events are still due (see verifyProgress). Requests made while one is
// pending are merged. It fails with ErrClosed once the stream or the
// backend has ended.
func (s *watchStream) RequestProgress(ctx context.Context) error {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped || s.b.isClosed() {
		return backend.WrapPath("watch progress", s.label, backend.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return backend.WrapPath("watch progress", s.label, err)
	}
	select {
	case s.progressc <- struct{}{}:
	default: // one is pending already
	}
	return nil
}

// Close ends the stream with no last response and returns once its
// goroutine has ended and its channel is closed. It is idempotent.
func (s *watchStream) Close() error {
	s.stop(nil)
	<-s.done
	return nil
}

// stop ends the stream, the first time only; err (if not nil) is the last
// response's error.
func (s *watchStream) stop(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.stopErr = err
	close(s.stopCh)
	s.cancel()
}

// run forwards etcd's responses until the stream ends, then delivers the
// last response and closes the channel.
func (s *watchStream) run(wch clientv3.WatchChan) {
	defer close(s.done)
	defer s.forget()
	var last backend.WatchResponse
	pre, delivered, ended := s.catchUp(wch)
	if ended != nil {
		last = *ended
	} else {
		last = s.pump(wch, pre, delivered)
	}
	s.cancel()
	// Make room for the last response: take back a response the consumer
	// has not received yet (it resumes from what it did receive). Only this
	// goroutine sends, so the send below cannot block.
	select {
	case <-s.out:
	default:
	}
	if last.Err != nil {
		last.Err = backend.WrapPath("watch", s.label, last.Err)
		s.out <- last
	}
	close(s.out)
}

// pump delivers responses until the stream ends and returns the last
// response (with a nil Err for none). It also serves progress requests
// (see RequestProgress). pre are responses of wch read already, and
// delivered the revision up to which every event has been delivered (see
// catchUp).
func (s *watchStream) pump(wch clientv3.WatchChan, pre []clientv3.WatchResponse, delivered int64) backend.WatchResponse {
	retry := time.NewTimer(progressRetry)
	retry.Stop()
	defer retry.Stop()
	pending := false // a progress request awaits etcd's answer
	for {
		var resp backend.WatchResponse
		var wr clientv3.WatchResponse
		got, open := false, true
		if len(pre) > 0 {
			wr, pre, got = pre[0], pre[1:], true
		}
		if !got {
			select {
			case wr, open = <-wch:
				got = true
			case <-s.progressc:
				if !pending {
					pending = true
					s.askProgress()
					retry.Reset(progressRetry)
				}
				continue
			case <-retry.C:
				if !pending {
					continue
				}
				rev, ok := s.idleProgress()
				if !ok || rev < delivered {
					s.askProgress()
					retry.Reset(progressRetry)
					continue
				}
				pending = false
				resp = backend.WatchResponse{Revision: rev}
			case <-s.stopCh:
				return s.end(nil)
			}
		}
		if got {
			if !open {
				return s.end(nil)
			}
			if since := max(delivered, s.startRev-1); wr.CompactRevision != 0 && since >= wr.CompactRevision && s.key != "" {
				// A server before 3.4.25 cancels a watch that is
				// catching up when the store compacts past its start,
				// though the stream has vouched for every event up to
				// since: go on from there.
				wch = s.b.watcher.Watch(s.wctx, s.key, append(s.opts, clientv3.WithRev(since+1))...)
				continue
			}
			if wr.CompactRevision != 0 {
				return compactedResponse(wr)
			}
			if err := wr.Err(); err != nil || wr.Canceled {
				return s.end(fmt.Errorf("watch canceled by etcd: %w", err))
			}
			if wr.IsProgressNotify() {
				since := max(delivered, s.startRev-1)
				ok := s.b.progressTrusted(s.wctx)
				if !ok {
					var err error
					if ok, err = s.verifyProgress(s.wctx, wr.Header.Revision, since); err != nil {
						return s.end(fmt.Errorf("progress from revision %d on cannot be checked: %w", since, err))
					}
				}
				if !ok {
					// Not true yet: the events it covers are still
					// to come. Ask again after them.
					if pending {
						retry.Reset(progressRetry)
					}
					continue
				}
				pending = false
				retry.Stop()
			}
			var ok bool
			if resp, ok = s.response(wr, delivered); !ok {
				continue
			}
		}
		select {
		case s.out <- resp:
			delivered = max(delivered, resp.Revision)
			s.counts.track(s, resp)
		case <-s.stopCh:
			return s.end(nil)
		case <-s.wctx.Done():
			return s.end(nil)
		}
	}
}

// compactedResponse is the last response of a watch etcd cancelled for a
// compaction: etcd names the compact revision; a watch may start only
// after it (see Backend.Watch).
func compactedResponse(wr clientv3.WatchResponse) backend.WatchResponse {
	return backend.WatchResponse{
		Err:             fmt.Errorf("%w: history is kept from revision %d on", backend.ErrCompacted, wr.CompactRevision+1),
		Revision:        wr.Header.GetRevision(),
		CompactRevision: wr.CompactRevision + 1,
	}
}

// progressRetry is how long a progress request waits for etcd's answer
// before it is asked again. etcd brings a watch that caught up on history
// in sync every 100 ms.
const progressRetry = 50 * time.Millisecond

// askProgress sends etcd a progress request for the stream's gRPC stream
// (found by the watch context's metadata). Errors are left to the retry:
// a stream that is gone ends the watch anyway.
func (s *watchStream) askProgress() {
	ctx, cancel := context.WithTimeout(s.wctx, s.b.cfg.RequestTimeout)
	defer cancel()
	s.b.m.progress.Inc()
	_ = s.b.watcher.RequestProgress(ctx)
}

// idleProgress returns the store's revision when it is below the start
// revision of the watch: etcd ignores progress requests then, but the
// promise holds trivially, no event being due before the start revision.
func (s *watchStream) idleProgress() (int64, bool) {
	if s.startRev == 0 {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(s.wctx, s.b.cfg.RequestTimeout)
	defer cancel()
	rev, err := s.b.currentRevision(ctx)
	if err != nil || rev >= s.startRev {
		return 0, false
	}
	return rev, true
}

// end returns the last response of a stream that etcd's client stopped
// serving, or that was stopped: ErrClosed or none after stop, ctx's error
// when it ended, ErrPermissionDenied when etcd refused the watch, otherwise
// ErrUnavailable (the stream was cut).
func (s *watchStream) end(cause error) backend.WatchResponse {
	s.mu.Lock()
	stopped, stopErr := s.stopped, s.stopErr
	s.mu.Unlock()
	switch {
	case stopped:
		return backend.WatchResponse{Err: stopErr}
	case s.b.isClosed():
		return backend.WatchResponse{Err: backend.ErrClosed}
	case s.userCtx.Err() != nil:
		return backend.WatchResponse{Err: s.userCtx.Err()}
	case cause != nil && isPermissionDenied(cause):
		return backend.WatchResponse{Err: fmt.Errorf("%w: %w", backend.ErrPermissionDenied, cause)}
	case cause != nil:
		return backend.WatchResponse{Err: fmt.Errorf("%w: %w", backend.ErrUnavailable, cause)}
	}
	return backend.WatchResponse{Err: fmt.Errorf("%w: watch stream cut", backend.ErrUnavailable)}
}

// isPermissionDenied reports whether etcd refused a watch to the user.
func isPermissionDenied(err error) bool {
	s, _ := sentinelOf(err)
	return errors.Is(s, backend.ErrPermissionDenied)
}

// response converts etcd's response: the events of the watched ranges, or
// a progress notification. Events not after delivered, the revision the
// stream has vouched for, are dropped, a guard that keeps revisions in
// order: verifyProgress vouches only for a gap with no event. ok is false
// when nothing is left to deliver.
func (s *watchStream) response(wr clientv3.WatchResponse, delivered int64) (resp backend.WatchResponse, ok bool) {
	if wr.IsProgressNotify() {
		return backend.WatchResponse{Revision: wr.Header.Revision}, true
	}
	if len(wr.Events) == 0 {
		return resp, false
	}
	resp.Revision = wr.Header.Revision
	s.b.m.events.Add(float64(len(wr.Events)))
	revs, prev := 0, int64(0)
	for _, ev := range wr.Events {
		if ev.Kv.ModRevision != prev {
			revs++
			prev = ev.Kv.ModRevision
		}
		kv, ok := s.b.ks.keyValue(ev.Kv)
		if !ok || !s.matches(kv.Path) || kv.ModRevision <= delivered || kv.ModRevision < s.startRev {
			continue
		}
		e := backend.Event{Type: backend.EventPut, KV: kv}
		if ev.Type == mvccpb.DELETE {
			e = backend.Event{Type: backend.EventDelete, KV: backend.KeyValue{Path: kv.Path, ModRevision: kv.ModRevision}}
		}
		if ev.PrevKv != nil {
			if p, ok := s.b.ks.keyValue(ev.PrevKv); ok {
				e.Prev = &p
			}
		}
		resp.Events = append(resp.Events, e)
	}
	if revs >= etcdWatchBatchMaxRevs {
		resp.Revision = prev
	}
	return resp, len(resp.Events) > 0
}

// matches reports whether path is in one of the stream's ranges.
func (s *watchStream) matches(path string) bool {
	for _, r := range s.ranges {
		if r.Contains(path) {
			return true
		}
	}
	return false
}

// forget unregisters the stream from its backend.
func (s *watchStream) forget() {
	s.b.mu.Lock()
	delete(s.b.streams, s)
	s.b.mu.Unlock()
	s.b.m.streams.Dec()
}

// isCompactRevision reports whether fromRev (> 0) is the store's compact
// revision, with a count at fromRev-1 (compacted) and, only then, at
// fromRev (not compacted). etcd watches from the compact revision, but
// servers before 3.4.34 and 3.5.15 drop the deletes at that revision from
// their history when they compact (etcd issue 18089), so such a watch
// would miss them: the backend refuses it on every server alike. key is
// any key; the counts are of it alone.
func (b *Backend) isCompactRevision(ctx context.Context, key string, fromRev int64) (bool, error) {
	if fromRev <= 1 {
		return false, nil
	}
	compacted := func(rev int64) (bool, error) {
		err := b.read(ctx, "get", func(rctx context.Context) error {
			_, err := b.cli.Get(rctx, key, clientv3.WithRev(rev), clientv3.WithCountOnly())
			return err
		})
		switch {
		case errors.Is(err, backend.ErrCompacted):
			return true, nil
		case errors.Is(err, backend.ErrFutureRevision):
			return false, nil
		}
		return false, err
	}
	before, err := compacted(fromRev - 1)
	if err != nil || !before {
		return false, err
	}
	at, err := compacted(fromRev)
	return !at, err
}
