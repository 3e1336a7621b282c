package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// progressEvery is how often the event stream asks for a progress
// response, so that the page's revision moves on when nothing under it
// changes.
const progressEvery = 2 * time.Second

// change is one event of the stream as the page reads it.
type change struct {
	Type        string `json:"type"` // PUT or DELETE
	Path        string `json:"path"`
	ModRevision int64  `json:"modRevision"`
	Version     int64  `json:"version"`
	Lease       string `json:"lease,omitempty"`
}

// events streams every change of the store, from revision from+1 (from:
// the page's revision), as Server-Sent Events: "change" events (a batch
// of changes, JSON) and "revision" events (the store's revision, after
// each response). One watch stream covers every depth. The stream ends
// with an "error" event when the watch fails (a compacted start: the page
// reloads).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	from, err := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	if err != nil || from < 0 {
		writeError(w, badRequest("from %q: want the revision the page is at", r.URL.Query().Get("from")))
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, &httpError{http.StatusInternalServerError, "streaming not supported"})
		return
	}
	if !s.stream() {
		writeError(w, &httpError{http.StatusServiceUnavailable, "the console is shutting down"})
		return
	}
	defer s.wg.Done()
	// The stream ends with the request, or when the Server closes.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	ws, err := s.b.Watch(ctx, backend.Subtree("/"), from+1)
	if err != nil {
		writeError(w, err)
		return
	}
	defer ws.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		flusher.Flush()
	}
	send("revision", from)
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = ws.RequestProgress(ctx)
		case resp, ok := <-ws.Responses():
			if !ok {
				return
			}
			if resp.Err != nil {
				send("error", map[string]any{"error": resp.Err.Error(), "compactRevision": resp.CompactRevision})
				return
			}
			if len(resp.Events) > 0 {
				batch := make([]change, 0, len(resp.Events))
				for _, ev := range resp.Events {
					c := change{Type: ev.Type.String(), Path: ev.KV.Path, ModRevision: ev.KV.ModRevision, Version: ev.KV.Version}
					if ev.KV.Lease != backend.NoLease {
						c.Lease = strconv.FormatInt(int64(ev.KV.Lease), 16)
					}
					batch = append(batch, c)
				}
				send("change", batch)
			}
			rev := resp.Revision
			if n := len(resp.Events); n > 0 {
				rev = max(rev, resp.Events[n-1].KV.ModRevision)
			}
			send("revision", rev)
		}
	}
}
