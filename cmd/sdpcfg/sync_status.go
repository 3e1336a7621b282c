package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/datasync"
	"github.com/sdpconfig/sdpconfig/txn"
)

// status prints the status of every synchronisation, or of one.
func (o *syncOptions) status(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	name := ""
	if len(o.args) == 1 {
		name = o.args[0]
	}
	var rows []datasync.SyncStatus
	err = c.Txn(cctx, func(t *config.Txn) error {
		var err error
		rows, err = datasync.ReadStatuses(t, name)
		return err
	}, txn.WithMaxAttempts(8))
	if err != nil {
		return err
	}
	if len(o.args) == 1 && len(rows) == 0 {
		return fmt.Errorf("no status of %q under %s (run it with 'sdpcfg sync run %s')", o.args[0], datasync.Statuses.Prefix(), o.args[0])
	}
	p := newPrinter(o.g.output, o.g.env.out, shapeList)
	tw := tabwriter.NewWriter(o.g.env.out, 0, 4, 2, ' ', 0)
	if o.g.output == outTable {
		fmt.Fprintln(tw, "NAME\tACTIVE\tBY\tFINISHED\tRUNS\tCHANGES\tCONVERGED\tERROR")
	}
	for _, r := range rows {
		s := r.Status
		p.print(r, func(io.Writer) {
			fmt.Fprintf(tw, "%s\t%v\t%s/%d\t%s\t%d\t%d\t%v\t%s\n", r.Name, r.Active, s.Leader.Hostname, s.Leader.PID, s.Finished.UTC().Format(time.RFC3339), s.Runs, s.Changes, s.Converged, s.Error)
		})
	}
	if o.g.output == outTable {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return p.end()
}
