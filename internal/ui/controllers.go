package ui

import (
	"net/http"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/datasync"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/entities/topology"
	"github.com/sdpconfig/sdpconfig/txn"
)

// controllers answers the state of the three controllers, read with the
// same public API as sdpcfg topology|sync|netobj status.
func (s *Server) controllers(r *http.Request) (any, error) {
	ctx := r.Context()
	c := s.opts.Config
	agents, err := topology.Status(ctx, c)
	if err != nil {
		return nil, err
	}
	var syncs []datasync.SyncStatus
	var objs []netobj.StatusRow
	err = c.Txn(ctx, func(t *config.Txn) error {
		var err error
		if syncs, err = datasync.ReadStatuses(t, ""); err != nil {
			return err
		}
		objs, err = netobj.Paths{}.StatusRows(t.Txn, nil)
		return err
	}, txn.WithMaxAttempts(8))
	if err != nil {
		return nil, err
	}
	if agents == nil {
		agents = []topology.AgentStatus{}
	}
	if syncs == nil {
		syncs = []datasync.SyncStatus{}
	}
	if objs == nil {
		objs = []netobj.StatusRow{}
	}
	return map[string]any{"topology": agents, "datasync": syncs, "netobj": objs}, nil
}
