package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
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
// order: a watch from the oldest retained revision, drained up to the
// store's current revision (a progress request marks the end).
func keyHistory(ctx context.Context, g *globalOptions, b backend.Backend, path string) ([]backend.Event, error) {
	cctx, cancel := g.rpc(ctx)
	now, err := b.Revision(cctx)
	cancel()
	if err != nil {
		return nil, err
	}
	from := int64(1)
	for range 3 { // a compaction between two tries moves the start again
		evs, err := drainHistory(ctx, g, b, path, from, now)
		var ce *compactedFrom
		switch {
		case err == nil:
			return evs, nil
		case errors.As(err, &ce) && ce.rev > from:
			from = ce.rev
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("the store kept compacting while its history was read")
}

// drainHistory watches path from revision from and returns its events up
// to revision now.
func drainHistory(ctx context.Context, g *globalOptions, b backend.Backend, path string, from, now int64) ([]backend.Event, error) {
	wctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	ws, err := b.Watch(wctx, []backend.Range{backend.Key(path)}, from)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	// A stream that failed at once (its start compacted) refuses the
	// request: its last response says why.
	progressErr := ws.RequestProgress(wctx)
	var evs []backend.Event
	for resp := range ws.Responses() {
		if resp.Err != nil {
			if resp.CompactRevision > 0 {
				return nil, &compactedFrom{rev: resp.CompactRevision, err: resp.Err}
			}
			return nil, resp.Err
		}
		for _, ev := range resp.Events {
			if ev.KV.ModRevision <= now {
				evs = append(evs, ev)
			}
		}
		// A progress notification at now or later comes once every event
		// up to it was delivered; an event at now is the last one wanted.
		if n := len(resp.Events); (n == 0 && resp.Revision >= now) || (n > 0 && resp.Events[n-1].KV.ModRevision >= now) {
			return evs, nil
		}
	}
	if err := wctx.Err(); err != nil {
		return nil, fmt.Errorf("reading the history within --timeout %v: %w", g.timeout, err)
	}
	if progressErr != nil {
		return nil, progressErr
	}
	return nil, errors.New("the watch of the history ended early")
}

// compactedFrom is a watch that failed because its start was compacted:
// rev is the first revision a watch may start from.
type compactedFrom struct {
	rev int64
	err error
}

func (e *compactedFrom) Error() string { return e.err.Error() }
func (e *compactedFrom) Unwrap() error { return e.err }
