package backendtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// stream wraps a WatchStream and checks every response it delivers: events
// in revision order, each (path, revision) once, and a response Revision no
// lower than its events.
type stream struct {
	h       *harness
	ws      backend.WatchStream
	lastRev int64
	seen    map[eventID]bool
}

type eventID struct {
	path string
	rev  int64
}

// watch opens a watch on ranges from fromRev and closes it when the test
// ends.
func (h *harness) watch(ranges []backend.Range, fromRev int64) *stream {
	h.Helper()
	ws, err := h.b.Watch(h.ctx, ranges, fromRev)
	if err != nil {
		h.Fatalf("Watch(%v, %d): %v", fmtRanges(ranges), fromRev, err)
	}
	h.Cleanup(func() { _ = ws.Close() })
	return &stream{h: h, ws: ws, seen: map[eventID]bool{}}
}

// recv returns the next response, failing if none comes within
// waitTimeout or the channel closes.
func (s *stream) recv(what string) backend.WatchResponse {
	s.h.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case r, ok := <-s.ws.Responses():
		if !ok {
			s.h.Fatalf("%s: watch channel closed unexpectedly", what)
		}
		s.check(what, r)
		return r
	case <-timer.C:
		s.h.Fatalf("%s: no watch response within %v", what, waitTimeout)
	}
	panic("unreachable")
}

// check applies the per-response rules.
func (s *stream) check(what string, r backend.WatchResponse) {
	s.h.Helper()
	if r.Err != nil && len(r.Events) > 0 {
		s.h.Errorf("%s: a response carries both events and Err %v", what, r.Err)
	}
	for _, e := range r.Events {
		rev := e.KV.ModRevision
		if rev < s.lastRev {
			s.h.Errorf("%s: event %s after an event at revision %d (out of order)", what, fmtEvent(e), s.lastRev)
		}
		id := eventID{e.KV.Path, rev}
		if s.seen[id] {
			s.h.Errorf("%s: event %s delivered twice", what, fmtEvent(e))
		}
		s.seen[id] = true
		s.lastRev = max(s.lastRev, rev)
		if r.Revision < rev {
			s.h.Errorf("%s: response Revision %d is below its event %s", what, r.Revision, fmtEvent(e))
		}
	}
}

// events collects events until n have arrived, failing on an Err response
// or if a response brings more than n in all.
func (s *stream) events(what string, n int) []backend.Event {
	s.h.Helper()
	var evs []backend.Event
	for len(evs) < n {
		r := s.recv(what)
		if r.Err != nil {
			s.h.Fatalf("%s: watch ended with %v after %d of %d events: %s", what, r.Err, len(evs), n, fmtEvents(evs))
		}
		evs = append(evs, r.Events...)
	}
	if len(evs) > n {
		s.h.Errorf("%s: got %d events, want %d: %s", what, len(evs), n, fmtEvents(evs))
	}
	return evs
}

// sync asks for progress and returns every event delivered before a
// progress notification (a response with no events and no error) whose
// Revision is at least rev. Because such a notification promises that every
// event up to its Revision has been delivered, the result is exactly what
// the stream delivered up to rev.
func (s *stream) sync(what string, rev int64) []backend.Event {
	s.h.Helper()
	if err := s.ws.RequestProgress(s.h.ctx); err != nil {
		s.h.Fatalf("%s: RequestProgress: %v", what, err)
	}
	var evs []backend.Event
	lastProgress := int64(-1)
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		r := s.recv(fmt.Sprintf("%s (waiting for progress ≥ %d, last progress %d, events so far %s)", what, rev, lastProgress, fmtEvents(evs)))
		if r.Err != nil {
			s.h.Fatalf("%s: watch ended with %v while waiting for progress ≥ %d; events so far %s", what, r.Err, rev, fmtEvents(evs))
		}
		if len(r.Events) == 0 {
			if r.Revision >= rev {
				return evs
			}
			// On a cluster the watch's member may not have applied rev
			// yet (Revision is linearizable, a progress notification is
			// the member's own revision): ask again.
			lastProgress = r.Revision
			if err := s.ws.RequestProgress(s.h.ctx); err != nil {
				s.h.Fatalf("%s: RequestProgress: %v", what, err)
			}
			continue
		}
		evs = append(evs, r.Events...)
	}
	s.h.Fatalf("%s: no progress notification with Revision ≥ %d within %v (last one: %d); events: %s", what, rev, waitTimeout, lastProgress, fmtEvents(evs))
	return nil
}

// end waits for the channel to close and returns the responses delivered
// until then. It fails if the channel stays open for waitTimeout.
func (s *stream) end(what string) []backend.WatchResponse {
	s.h.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	var rs []backend.WatchResponse
	for {
		select {
		case r, ok := <-s.ws.Responses():
			if !ok {
				return rs
			}
			s.check(what, r)
			rs = append(rs, r)
			if len(rs) > 1 && rs[len(rs)-2].Err != nil {
				s.h.Errorf("%s: response after the one with Err %v", what, rs[len(rs)-2].Err)
			}
		case <-timer.C:
			s.h.Fatalf("%s: watch channel not closed within %v (responses: %d)", what, waitTimeout, len(rs))
		}
	}
}

// finalErr returns the Err of the last response, or nil.
func finalErr(rs []backend.WatchResponse) error {
	if len(rs) == 0 {
		return nil
	}
	return rs[len(rs)-1].Err
}

// wantEvents fails unless got equals want, in order, field by field.
func (h *harness) wantEvents(what string, got, want []backend.Event) {
	h.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = eventEqual(got[i], want[i])
	}
	if !ok {
		h.Errorf("%s: events\n got  %s\n want %s", what, fmtEvents(got), fmtEvents(want))
	}
}

func eventEqual(a, b backend.Event) bool {
	if a.Type != b.Type || a.KV != b.KV || (a.Prev == nil) != (b.Prev == nil) {
		return false
	}
	return a.Prev == nil || *a.Prev == *b.Prev
}

// putEvent is the event of a put that left kv, over prev (nil on create).
func putEvent(kv backend.KeyValue, prev *backend.KeyValue) backend.Event {
	return backend.Event{Type: backend.EventPut, KV: kv, Prev: prev}
}

// deleteEvent is the event of deleting prev at rev.
func deleteEvent(prev backend.KeyValue, rev int64) backend.Event {
	p := prev
	return backend.Event{Type: backend.EventDelete, KV: backend.KeyValue{Path: prev.Path, ModRevision: rev}, Prev: &p}
}

// ptr returns a pointer to a copy of kv.
func ptr(kv backend.KeyValue) *backend.KeyValue { return &kv }

func fmtEvent(e backend.Event) string {
	prev := "nil"
	if e.Prev != nil {
		prev = fmtKV(*e.Prev)
	}
	return fmt.Sprintf("%v %s prev=%s", e.Type, fmtKV(e.KV), prev)
}

func fmtEvents(evs []backend.Event) string {
	if len(evs) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[")
	for _, e := range evs {
		b.WriteString("\n    ")
		b.WriteString(fmtEvent(e))
	}
	b.WriteString("]")
	return b.String()
}

func fmtRanges(rs []backend.Range) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r.Prefix {
			parts[i] = fmt.Sprintf("%q*@%d", r.Path, r.KeyDepth())
		} else {
			parts[i] = fmt.Sprintf("%q", r.Path)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
