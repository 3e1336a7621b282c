package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/internal/keyhistory"
)

var historyCommand = &command{
	name:  "history",
	args:  "PATH",
	short: "list every retained revision of a key",
	long: `
Lists every change to the key PATH that the store still holds, oldest
first: revision, PUT or DELETE, version, lease and value. The store keeps
changes back to its last compaction; older ones are gone. etcd keeps no
time with a change, so none is shown. -o json and -o yaml print a list of
the changes as watch prints them.

Examples:
  sdpcfg history /pb/pb-1/state
  sdpcfg history -o json /pb/pb-1`,
	newRunner: func(g *globalOptions) runner { return &historyOptions{g: g} },
}

// historyOptions are the options of history.
type historyOptions struct {
	g    *globalOptions
	path string
}

func (o *historyOptions) addFlags(*pflag.FlagSet) {}

func (o *historyOptions) complete(args []string) error {
	if err := wantArgs("history", args, 1, 1, "PATH"); err != nil {
		return err
	}
	var err error
	o.path, err = cleanPath("history", args[0], false)
	return err
}

func (o *historyOptions) validate() error { return nil }

func (o *historyOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	evs, err := keyHistory(ctx, o.g, c.Backend(), o.path)
	if err != nil {
		return opError("history", o.path, err)
	}
	if len(evs) == 0 {
		return fmt.Errorf("history %s: no retained revision of the key: %w", o.path, backend.ErrNotFound)
	}
	p := newPrinter(o.g.output, o.g.env.out, shapeList)
	if o.g.output == outTable {
		fmt.Fprintf(o.g.env.out, "%-9s %-7s %-8s %-6s %s\n", "REVISION", "TYPE", "VERSION", "LEASE", "VALUE")
	}
	for _, ev := range evs {
		p.print(newEventItem(ev), func(w io.Writer) {
			version, lease, value := "-", "-", "-"
			if ev.Type == backend.EventPut {
				version, value = strconv.FormatInt(ev.KV.Version, 10), oneLine(ev.KV.Value)
				if ev.KV.Lease != backend.NoLease {
					lease = hexID(ev.KV.Lease)
				}
			}
			fmt.Fprintf(w, "%-9d %-7s %-8s %-6s %s\n", ev.KV.ModRevision, ev.Type, version, lease, value)
		})
	}
	return p.end()
}

// keyHistory returns the changes to the key path that b still holds, in
// order, each request bounded by --timeout.
func keyHistory(ctx context.Context, g *globalOptions, b backend.Backend, path string) ([]backend.Event, error) {
	evs, _, err := keyhistory.Read(ctx, b, path, g.timeout)
	if errors.Is(err, keyhistory.ErrTimeout) {
		return nil, fmt.Errorf("reading the history within --timeout %v: %w", g.timeout, err)
	}
	return evs, err
}
