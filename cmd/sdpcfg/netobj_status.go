package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
)

// status prints what the controllers observed.
func (o *netobjOptions) status(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	var targets []string
	if len(o.args) > 0 {
		targets = o.args
	}
	var items []netobj.StatusRow
	err = c.Txn(cctx, func(t *config.Txn) error {
		var err error
		items, err = netobj.Paths{}.StatusRows(t.Txn, targets)
		return err
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
