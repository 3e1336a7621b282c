package ui

import (
	"net/http"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/datasync"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/entities/topology"
)

// syncRow is one data synchronisation's last status.
type syncRow struct {
	Name   string          `json:"name"`
	Active bool            `json:"active"`
	Status datasync.Status `json:"status"`
}

// netobjRow is one network object of a target.
type netobjRow struct {
	Target    string `json:"target"`
	Alive     bool   `json:"alive"`
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	State     string `json:"state"`
	AppliedAt string `json:"appliedAt,omitempty"`
	LastError string `json:"lastError,omitempty"`
}

// controllers answers the state of the three controllers, read with the
// same public API as sdpcfg topology|sync|netobj status.
func (s *Server) controllers(r *http.Request) (any, error) {
	ctx := r.Context()
	c := s.opts.Config
	agents, err := topology.Status(ctx, c)
	if err != nil {
		return nil, err
	}
	var syncs []syncRow
	var objs []netobjRow
	paths := netobj.Paths{}
	err = c.Txn(ctx, func(t *config.Txn) error {
		syncs, objs = []syncRow{}, []netobjRow{}
		names, err := datasync.Statuses.List(t)
		if err != nil {
			return err
		}
		for _, n := range names {
			st, err := datasync.Statuses.Get(t, n)
			if err != nil {
				return err
			}
			alive, err := datasync.Leaders.IsAlive(t, n)
			if err != nil {
				return err
			}
			syncs = append(syncs, syncRow{Name: n, Active: alive, Status: st})
		}
		targets, err := paths.Targets(t.Txn)
		if err != nil {
			return err
		}
		for _, target := range targets {
			_, alive, err := paths.GetAlive(t.Txn, target)
			if err != nil {
				return err
			}
			desired, err := paths.ListDesired(t.Txn, target)
			if err != nil {
				return err
			}
			observed, err := paths.ListObserved(t.Txn, target)
			if err != nil {
				return err
			}
			for ref := range desired {
				st := observed[ref]
				state := string(st.State)
				if state == "" {
					state = "pending"
				}
				objs = append(objs, netobjRow{Target: target, Alive: alive, Kind: string(ref.Kind), ID: ref.ID, State: state,
					AppliedAt: st.AppliedAt, LastError: st.LastError})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if agents == nil {
		agents = []topology.AgentStatus{}
	}
	return map[string]any{"topology": agents, "datasync": syncs, "netobj": objs}, nil
}
