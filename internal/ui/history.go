package ui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/internal/keyhistory"
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
	Compact  int64     `json:"compactRevision"` // history before it is gone (0: none known)
	Versions []version `json:"versions"`
}

// history answers every change to a key the store still holds, oldest
// first.
func (s *Server) history(r *http.Request) (any, error) {
	path, err := pathParam(r, false)
	if err != nil {
		return nil, err
	}
	evs, from, err := keyhistory.Read(r.Context(), s.b, path, historyTimeout)
	if err != nil {
		return nil, backend.WrapPath("history", path, err)
	}
	out := historyResult{Path: path, Compact: from - 1, Versions: []version{}}
	for _, ev := range evs {
		v := version{Type: ev.Type.String(), ModRevision: ev.KV.ModRevision, Version: ev.KV.Version, Value: ev.KV.Value}
		if ev.KV.Lease != backend.NoLease {
			v.Lease = strconv.FormatInt(int64(ev.KV.Lease), 16)
		}
		out.Versions = append(out.Versions, v)
	}
	return out, nil
}
