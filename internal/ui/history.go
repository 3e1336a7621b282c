package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// historyTimeout bounds reading a key's history.
const historyTimeout = 30 * time.Second

// version is one retained revision of a key.
type version struct {
	Type        string `json:"type"` // PUT or DELETE
	ModRevision int64  `json:"modRevision"`
	Version     int64  `json:"version"`
	Value       string `json:"value"`
	Lease       string `json:"lease,omitempty"`
}

type historyResult struct {
	Path     string    `json:"path"`
	Revision int64     `json:"revision"`
	Compact  int64     `json:"compactRevision"` // history before it is gone (0: none known)
	Versions []version `json:"versions"`
}

// history answers every change to a key the store still holds, oldest
// first: a watch from the oldest retained revision, drained up to the
// current one.
func (s *Server) history(r *http.Request) (any, error) {
	path, err := pathParam(r, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), historyTimeout)
	defer cancel()
	now, err := s.b.Revision(ctx)
	if err != nil {
		return nil, err
	}
	from := int64(1)
	for range 3 { // a compaction between two tries moves the start again
		evs, compact, err := s.drain(ctx, path, from, now)
		if err == nil {
			out := historyResult{Path: path, Revision: now, Compact: from - 1, Versions: []version{}}
			for _, ev := range evs {
				v := version{Type: ev.Type.String(), ModRevision: ev.KV.ModRevision, Version: ev.KV.Version, Value: ev.KV.Value}
				if ev.KV.Lease != backend.NoLease {
					v.Lease = strconv.FormatInt(int64(ev.KV.Lease), 16)
				}
				out.Versions = append(out.Versions, v)
			}
			return out, nil
		}
		if compact <= from {
			return nil, backend.WrapPath("history", path, err)
		}
		from = compact
	}
	return nil, fmt.Errorf("history of %s: the store kept compacting while it was read", path)
}

// drain returns the events of path from revision from up to now; on a
// compacted start it returns the revision to start from instead.
func (s *Server) drain(ctx context.Context, path string, from, now int64) ([]backend.Event, int64, error) {
	ws, err := s.b.Watch(ctx, []backend.Range{backend.Key(path)}, from)
	if err != nil {
		return nil, 0, err
	}
	defer ws.Close()
	progressErr := ws.RequestProgress(ctx)
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
		if n := len(resp.Events); (n == 0 && resp.Revision >= now) || (n > 0 && resp.Events[n-1].KV.ModRevision >= now) {
			return evs, 0, nil
		}
	}
	return nil, 0, errors.Join(errors.New("watch ended before the history was read"), progressErr)
}
