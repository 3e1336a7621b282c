package etcd3

import (
	"context"
	"time"
)

// EndpointStatus is what one member answers about itself.
type EndpointStatus struct {
	Endpoint string        // as in Config.Endpoints
	Version  string        // the server's etcd version
	DBSize   int64         // the size of its database file, in bytes
	Leader   bool          // whether it is the raft leader
	RaftTerm uint64        // its raft term
	Revision int64         // the store revision it has applied
	Took     time.Duration // how long it took to answer
	Err      error         // why it did not answer; the other fields are then zero
}

// Status asks every endpoint of the backend's configuration for its
// status, each within ctx, and returns their answers in the order of
// Config.Endpoints.
func (b *Backend) Status(ctx context.Context) []EndpointStatus {
	out := make([]EndpointStatus, len(b.cfg.Endpoints))
	done := make(chan struct{})
	for i, ep := range b.cfg.Endpoints {
		go func() {
			defer func() { done <- struct{}{} }()
			start := time.Now()
			resp, err := b.cli.Status(ctx, ep)
			s := EndpointStatus{Endpoint: ep, Took: time.Since(start)}
			if err != nil {
				s.Err = b.mapErr(ctx, err)
			} else {
				s.Version, s.DBSize, s.RaftTerm = resp.Version, resp.DbSize, resp.RaftTerm
				s.Leader = resp.Leader == resp.Header.MemberId
				s.Revision = resp.Header.Revision
			}
			out[i] = s
		}()
	}
	for range b.cfg.Endpoints {
		<-done
	}
	return out
}
