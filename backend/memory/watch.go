package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/sdpconfig/sdpconfig/backend"
)

// catchUpMaxRevs bounds the revisions of one catch-up response, as etcd's
// watchBatchMaxRevs does.
const catchUpMaxRevs = 1000

// Watch streams the changes to ranges from revision fromRev on, over one
// stream. fromRev 0 (or less) starts at the next write; a fromRev in the
// future starts there. A past fromRev first delivers the history from it,
// as etcd does: in responses of up to 1000 revisions, the last one with
// Revision set to the store revision at the time of the call. Every later
// write that changes a watched key is one response, with Revision set to
// that write's revision. A fromRev at or below the compact revision yields
// one response with Err ErrCompacted and CompactRevision the revision after
// it (the first a watch may start from), then the channel closes, as the
// etcd backend does on every server (see backend.Backend.Watch).
//
// Events never block writers: each stream queues its responses without
// bound and one goroutine hands them to the channel. Cancelling ctx ends
// the stream with a final response carrying ctx's error; Close ends it with
// no final response; the backend's Close ends it with ErrClosed, and
// DropWatches with ErrUnavailable. A final response replaces any response
// not yet received.
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
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, backend.WrapPath("watch", label, backend.ErrClosed)
	}
	s := &watchStream{
		b:      b,
		ranges: append([]backend.Range(nil), ranges...),
		out:    make(chan backend.WatchResponse, 1),
		wake:   make(chan struct{}, 1),
		stopCh: make(chan struct{}),
		done:   make(chan struct{}),
	}
	switch {
	case fromRev <= 0 || fromRev > b.rev:
		s.minRev = max(fromRev, b.rev+1)
	case fromRev <= b.compactRev:
		s.stopped = true
		s.stopErr = backend.WrapPath("watch", label, fmt.Errorf("%w: watch from revision %d, history is kept from %d on", backend.ErrCompacted, fromRev, b.compactRev+1))
		s.stopRev = b.compactRev + 1
		close(s.stopCh)
	default:
		s.minRev = b.rev + 1
		s.queue = b.history(s.ranges, fromRev)
	}
	if !s.stopped {
		b.streams[s] = struct{}{}
	}
	b.wg.Add(1)
	go s.run(ctx)
	return s, nil
}

// history returns the responses that replay the changes to ranges from
// revision from up to the current one. The caller holds b.mu.
func (b *Backend) history(ranges []backend.Range, from int64) []backend.WatchResponse {
	type item struct {
		rev int64
		sub int
		ev  backend.Event
	}
	var items []item
	seen := make(map[*record]bool)
	collect := func(rec *record) {
		if rec == nil || seen[rec] {
			return
		}
		seen[rec] = true
		h := rec.hist
		i := sort.Search(len(h), func(i int) bool { return h[i].mod >= from })
		for ; i < len(h); i++ {
			v := h[i]
			ev := backend.Event{Type: backend.EventPut, KV: v.keyValue(rec.path, true)}
			if v.tombstone() {
				ev = backend.Event{Type: backend.EventDelete, KV: backend.KeyValue{Path: rec.path, ModRevision: v.mod}}
			}
			// etcd reads the previous value at mod-1: nothing for a
			// create, nor when mod-1 is compacted.
			if i > 0 && !h[i-1].tombstone() && v.ver != 1 && v.mod-1 >= b.compactRev {
				p := h[i-1].keyValue(rec.path, true)
				ev.Prev = &p
			}
			items = append(items, item{rev: v.mod, sub: v.sub, ev: ev})
		}
	}
	for _, r := range ranges {
		if !r.Prefix {
			collect(b.keys[r.Path])
			continue
		}
		b.index.ascend(r.KeyDepth(), r.Path, "", func(p string) bool {
			collect(b.keys[p])
			return true
		})
	}
	if len(items) == 0 {
		return nil
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].rev != items[j].rev {
			return items[i].rev < items[j].rev
		}
		return items[i].sub < items[j].sub
	})
	var out []backend.WatchResponse
	var cur backend.WatchResponse
	revs := 0
	for _, it := range items {
		if len(cur.Events) > 0 && it.rev != cur.Revision {
			if revs == catchUpMaxRevs {
				out = append(out, cur)
				cur, revs = backend.WatchResponse{}, 0
			}
		}
		if len(cur.Events) == 0 || it.rev != cur.Revision {
			revs++
		}
		cur.Events = append(cur.Events, it.ev)
		cur.Revision = it.rev
	}
	cur.Revision = b.rev
	return append(out, cur)
}

// watchStream is one open watch.
type watchStream struct {
	b      *Backend
	ranges []backend.Range
	minRev int64 // the first revision of live events to deliver

	out    chan backend.WatchResponse // capacity 1: room for a final response
	wake   chan struct{}              // capacity 1: the queue has grown
	stopCh chan struct{}              // closed by stop
	done   chan struct{}              // closed when run has returned

	mu      sync.Mutex
	queue   []backend.WatchResponse
	stopped bool
	stopErr error // the final response's error; nil for Close
	stopRev int64 // the final response's CompactRevision
}

// Responses delivers the stream's responses in order; it is closed after a
// response with Err, or after Close.
func (s *watchStream) Responses() <-chan backend.WatchResponse { return s.out }

// RequestProgress queues a response with no events whose Revision is the
// store's current revision, after every event up to it. It fails with
// ErrClosed when the stream or the backend has ended.
func (s *watchStream) RequestProgress(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("watch progress: %w", err)
	}
	b := s.b
	// Writers queue events holding b.mu exclusively, so under the read lock
	// every event up to b.rev is already queued before this response.
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed || !s.enqueue(backend.WatchResponse{Revision: b.rev}) {
		return fmt.Errorf("watch progress: %w", backend.ErrClosed)
	}
	return nil
}

// Close ends the stream with no final response and returns once its
// channel is closed. It is idempotent.
func (s *watchStream) Close() error {
	s.stop(nil, 0)
	<-s.done
	return nil
}

// notify queues the events of revision rev that match the stream. The
// caller holds b.mu exclusively.
func (s *watchStream) notify(rev int64, events []backend.Event) {
	if rev < s.minRev {
		return
	}
	var mine []backend.Event
	for _, ev := range events {
		if !s.matches(ev.KV.Path) {
			continue
		}
		if ev.Prev != nil { // each stream gets its own copy
			p := *ev.Prev
			ev.Prev = &p
		}
		mine = append(mine, ev)
	}
	if len(mine) > 0 {
		s.enqueue(backend.WatchResponse{Events: mine, Revision: rev})
	}
}

func (s *watchStream) matches(path string) bool {
	for _, r := range s.ranges {
		if r.Contains(path) {
			return true
		}
	}
	return false
}

// enqueue adds resp to the queue and wakes the stream's goroutine. It
// reports false when the stream has stopped.
func (s *watchStream) enqueue(resp backend.WatchResponse) bool {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return false
	}
	s.queue = append(s.queue, resp)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

// stop ends the stream, the first time only: err (if not nil) is its final
// response's error, with compactRev as CompactRevision.
func (s *watchStream) stop(err error, compactRev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	s.stopErr = err
	s.stopRev = compactRev
	s.queue = nil
	close(s.stopCh)
}

// next pops the oldest queued response.
func (s *watchStream) next() (backend.WatchResponse, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || len(s.queue) == 0 {
		return backend.WatchResponse{}, false
	}
	resp := s.queue[0]
	s.queue[0] = backend.WatchResponse{}
	s.queue = s.queue[1:]
	if len(s.queue) == 0 {
		s.queue = nil // let the backing array go
	}
	return resp, true
}

// run hands queued responses to the channel until the stream stops, then
// delivers the final response and closes the channel.
func (s *watchStream) run(ctx context.Context) {
	defer s.b.wg.Done()
	defer close(s.done)
	s.pump(ctx)

	s.b.forget(s)
	s.mu.Lock()
	err, rev := s.stopErr, s.stopRev
	s.mu.Unlock()
	// Make room for the final response: take back a response the consumer
	// has not received yet. Only this goroutine sends, so the send below
	// cannot block.
	select {
	case <-s.out:
	default:
	}
	if err != nil {
		resp := backend.WatchResponse{Err: err, CompactRevision: rev}
		if rev != 0 {
			resp.Revision = s.b.currentRev()
		}
		s.out <- resp
	}
	close(s.out)
}

// pump delivers responses until the stream stops or ctx ends.
func (s *watchStream) pump(ctx context.Context) {
	for {
		resp, ok := s.next()
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-s.stopCh:
			case <-ctx.Done():
				s.stop(ctx.Err(), 0)
			}
			return
		}
		select {
		case s.out <- resp:
		case <-s.stopCh:
			return
		case <-ctx.Done():
			s.stop(ctx.Err(), 0)
			return
		}
	}
}

// forget unregisters s.
func (b *Backend) forget(s *watchStream) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.streams, s)
}

func (b *Backend) currentRev() int64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.rev
}
