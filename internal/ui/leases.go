package ui

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
)

// leaseInspector is what an etcd3 backend tells of leases.
type leaseInspector interface {
	Leases(ctx context.Context) ([]backend.LeaseID, error)
	LeaseInfo(ctx context.Context, id backend.LeaseID) (etcd3.LeaseInfo, error)
}

type leaseResult struct {
	ID      string   `json:"id"`
	Granted int64    `json:"granted"` // seconds
	TTL     int64    `json:"ttl"`     // seconds left
	Keys    []string `json:"keys"`
}

// leases lists every lease of the store with its TTL and keys.
func (s *Server) leases(r *http.Request) (any, error) {
	li, ok := s.b.(leaseInspector)
	if !ok {
		return nil, &httpError{http.StatusNotImplemented, "this backend does not list leases (only etcd does)"}
	}
	ids, err := li.Leases(r.Context())
	if err != nil {
		return nil, err
	}
	out := []leaseResult{}
	for _, id := range ids {
		info, err := li.LeaseInfo(r.Context(), id)
		if errors.Is(err, backend.ErrLeaseExpired) {
			continue // expired since listed
		}
		if err != nil {
			return nil, err
		}
		keys := info.Keys
		if keys == nil {
			keys = []string{}
		}
		out = append(out, leaseResult{ID: strconv.FormatInt(int64(id), 16), Granted: int64(info.Granted.Seconds()),
			TTL: int64(info.Remaining.Seconds()), Keys: keys})
	}
	return out, nil
}

// cluster answers the status of every endpoint, as 'sdpcfg endpoint
// status' prints it.
func (s *Server) cluster(r *http.Request) (any, error) {
	st, ok := s.b.(interface {
		Status(ctx context.Context) []etcd3.EndpointStatus
	})
	if !ok {
		rev, err := s.b.Revision(r.Context())
		if err != nil {
			return nil, err
		}
		return map[string]any{"backend": "memory", "revision": rev, "endpoints": []any{}}, nil
	}
	type endpoint struct {
		Endpoint string `json:"endpoint"`
		Version  string `json:"version"`
		DBSize   int64  `json:"dbSize"`
		Leader   bool   `json:"leader"`
		RaftTerm uint64 `json:"raftTerm"`
		Revision int64  `json:"revision"`
		TookMS   int64  `json:"tookMs"`
		Error    string `json:"error,omitempty"`
	}
	var eps []endpoint
	var rev int64
	for _, e := range st.Status(r.Context()) {
		ep := endpoint{Endpoint: e.Endpoint, Version: e.Version, DBSize: e.DBSize, Leader: e.Leader, RaftTerm: e.RaftTerm,
			Revision: e.Revision, TookMS: e.Took.Milliseconds()}
		if e.Err != nil {
			ep.Error = e.Err.Error()
		}
		rev = max(rev, e.Revision)
		eps = append(eps, ep)
	}
	return map[string]any{"backend": "etcd3", "revision": rev, "endpoints": eps}, nil
}
