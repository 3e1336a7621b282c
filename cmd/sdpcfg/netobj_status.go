package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

// netobjStatusItem is one object in status output.
type netobjStatusItem struct {
	Target    string      `json:"target"`
	Alive     bool        `json:"alive"`
	Kind      netobj.Kind `json:"kind"`
	ID        string      `json:"id"`
	Desired   bool        `json:"desired"`
	State     string      `json:"state"`
	AppliedAt string      `json:"applied_at,omitempty"`
	LastError string      `json:"last_error,omitempty"`
}

// status prints what the controllers observed.
func (o *netobjOptions) status(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	paths := netobj.Paths{}
	var items []netobjStatusItem
	err = c.Txn(cctx, func(t *config.Txn) error {
		items = items[:0]
		targets := o.args
		if len(targets) == 0 {
			var err error
			if targets, err = paths.Targets(t.Txn); err != nil {
				return err
			}
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
			var rows []netobjStatusItem
			for r := range desired {
				st := observed[r]
				state := st.State
				if state == "" {
					state = "pending"
				}
				rows = append(rows, netobjStatusItem{Target: target, Alive: alive, Kind: r.Kind, ID: r.ID, Desired: true, State: state, AppliedAt: st.AppliedAt, LastError: st.LastError})
			}
			for r, st := range observed {
				if _, ok := desired[r]; !ok {
					rows = append(rows, netobjStatusItem{Target: target, Alive: alive, Kind: r.Kind, ID: r.ID, State: st.State + " (removing)", AppliedAt: st.AppliedAt, LastError: st.LastError})
				}
			}
			if len(rows) == 0 {
				rows = append(rows, netobjStatusItem{Target: target, Alive: alive, State: "-"})
			}
			rank := func(k netobj.Kind) int { return slices.Index(netobj.Kinds, k) }
			slices.SortFunc(rows, func(a, b netobjStatusItem) int {
				if d := rank(a.Kind) - rank(b.Kind); d != 0 {
					return d
				}
				if a.ID < b.ID {
					return -1
				}
				if a.ID > b.ID {
					return 1
				}
				return 0
			})
			items = append(items, rows...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(o.args) == 1 && len(items) == 1 && items[0].Kind == "" && !items[0].Alive {
		return fmt.Errorf("no key of target %q under %s (write objects with 'sdpcfg netobj apply')", o.args[0], netobj.DefaultRoot)
	}
	p := newPrinter(o.g.output, o.g.env.out, shapeList)
	tw := tabwriter.NewWriter(o.g.env.out, 0, 4, 2, ' ', 0)
	if o.g.output == outTable {
		fmt.Fprintln(tw, "TARGET\tALIVE\tKIND\tID\tSTATE\tAPPLIED AT\tERROR")
	}
	for _, it := range items {
		p.print(it, func(io.Writer) {
			alive := "no"
			if it.Alive {
				alive = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Target, alive, netobjDash(string(it.Kind)), netobjDash(it.ID), it.State, netobjDash(it.AppliedAt), it.LastError)
		})
	}
	if o.g.output == outTable {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return p.end()
}

// netobjDash returns s, or "-" for "".
func netobjDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
