package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/entities/topology"
)

// status prints the status of every agent, or of one.
func (o *topologyOptions) status(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	all, err := topology.Status(cctx, c)
	if err != nil {
		return err
	}
	var sts []topology.AgentStatus
	for _, s := range all {
		if len(o.args) == 0 || s.Agent == o.args[0] {
			sts = append(sts, s)
		}
	}
	if len(o.args) == 1 && len(sts) == 0 {
		return fmt.Errorf("agent %q: %w: no key of it under %s (push one with 'sdpcfg topology push')", o.args[0], backend.ErrNotFound, topology.Prefix)
	}
	p := newPrinter(o.g.output, o.g.env.out, shapeList)
	tw := tabwriter.NewWriter(o.g.env.out, 0, 4, 2, ' ', 0)
	if o.g.output == outTable {
		fmt.Fprintln(tw, "AGENT\tTOPOLOGY\tGEN\tDESIRED\tAPPLIED\tHEARTBEAT\tDRIFT\tERROR")
	}
	for _, s := range sts {
		p.print(s, func(io.Writer) { fmt.Fprintln(tw, statusRow(s)) })
	}
	if o.g.output == outTable {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return p.end()
}

// statusRow is one line of the status table, tab-separated.
func statusRow(s topology.AgentStatus) string {
	id, gen, want, applied, hb, drift, lastErr := "-", "-", "-", "-", "none", "-", ""
	if d := s.Desired; d != nil {
		id, gen, want = d.TopologyID, fmt.Sprint(d.Generation), short(d.Hash)
	}
	if r := s.Applied; r != nil {
		applied = short(r.AppliedVersionHash)
		if r.IsMarker() {
			applied = "(marker)"
		}
		if s.Desired == nil || r.TopologyID != s.Desired.TopologyID {
			applied = r.TopologyID + ":" + applied
		}
		lastErr = r.LastError
	}
	if h := s.Heartbeat; h != nil {
		hb = fmt.Sprintf("gen %d", h.Generation)
		if e, ok := h.Observed["error"]; ok {
			hb += fmt.Sprintf(" (observe: %v)", e)
		}
	}
	if f := s.Drift; f != nil {
		drift = f.Reason
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", s.Agent, id, gen, want, applied, hb, drift, lastErr)
}

// short abbreviates a hash for the table.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "-"
	}
	return h
}
