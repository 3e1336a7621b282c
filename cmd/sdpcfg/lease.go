package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
)

var leaseCommand = &command{
	name:  "lease",
	args:  "grant TTL | ls | revoke ID | timetolive ID | keep-alive ID",
	short: "grant, list, inspect, revoke and keep alive etcd leases",
	long: `
Handles etcd leases as etcdctl lease does; IDs are hexadecimal, as etcdctl
prints them.

  grant TTL        grants a lease of TTL (such as 60s) and prints its ID;
                   nothing keeps it alive after sdpcfg exits
  ls               lists the leases alive in the store
  timetolive ID    prints a lease's granted and remaining TTL and the
                   paths of the keys attached to it
  revoke ID        revokes a lease: the store deletes its keys at once
  keep-alive ID    keeps a lease alive until interrupted (Ctrl-C),
                   printing each renewal

Examples:
  sdpcfg lease grant 60s
  sdpcfg lease timetolive 694d77aa9e38260f`,
	newRunner: func(g *globalOptions) runner { return &leaseOptions{g: g} },
}

// leaseOptions are the options of lease.
type leaseOptions struct {
	g   *globalOptions
	sub string
	ttl time.Duration
	id  backend.LeaseID
}

func (o *leaseOptions) addFlags(*pflag.FlagSet) {}

func (o *leaseOptions) complete(args []string) error {
	if len(args) == 0 {
		return usagef("lease: want grant, ls, revoke, timetolive or keep-alive (see 'sdpcfg lease --help')")
	}
	o.sub = args[0]
	switch o.sub {
	case "ls":
		return wantArgs("lease ls", args[1:], 0, 0, "no arguments")
	case "grant":
		if err := wantArgs("lease grant", args[1:], 1, 1, "TTL"); err != nil {
			return err
		}
		ttl, err := time.ParseDuration(args[1])
		if err != nil || ttl < time.Second {
			return usagef("lease grant: TTL %q: want a duration of at least 1s, such as 60s", args[1])
		}
		o.ttl = ttl
		return nil
	case "revoke", "timetolive", "keep-alive":
		if err := wantArgs("lease "+o.sub, args[1:], 1, 1, "ID"); err != nil {
			return err
		}
		id, err := etcd3.ParseLeaseID(args[1])
		if err != nil {
			return usagef("lease %s: %v", o.sub, err)
		}
		o.id = id
		return nil
	}
	return usagef("lease: unknown subcommand %q: want grant, ls, revoke, timetolive or keep-alive", o.sub)
}

func (o *leaseOptions) validate() error { return nil }

// leaser is a backend that handles leases by ID (etcd3).
type leaser interface {
	LeaseInfo(ctx context.Context, id backend.LeaseID) (etcd3.LeaseInfo, error)
	Leases(ctx context.Context) ([]backend.LeaseID, error)
	RevokeLease(ctx context.Context, id backend.LeaseID) error
	KeepLeaseAlive(ctx context.Context, id backend.LeaseID, f func(ttl time.Duration)) error
}

// leaseItem is a lease as -o json and yaml show it.
type leaseItem struct {
	ID           string   `json:"id"`
	GrantedTTL   int64    `json:"granted_ttl,omitempty"`
	RemainingTTL int64    `json:"remaining_ttl,omitempty"`
	Keys         []string `json:"keys,omitempty"`
}

func (o *leaseOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	b := c.Backend()
	if o.sub == "grant" {
		cctx, cancel := o.g.rpc(ctx)
		defer cancel()
		l, err := b.Lease(cctx, o.ttl)
		if err != nil {
			return fmt.Errorf("lease grant: %w", err)
		}
		l.Close() // no keep-alive: the lease lives its TTL
		return o.g.confirm(leaseItem{ID: hexID(l.ID()), GrantedTTL: int64(l.TTL().Seconds())}, func(w io.Writer) {
			fmt.Fprintf(w, "lease %s granted with TTL %v\n", hexID(l.ID()), l.TTL())
		})
	}
	ls, ok := b.(leaser)
	if !ok {
		return usagef("lease %s: this store has no leases to handle by ID (the memory backend?)", o.sub)
	}
	if o.sub == "keep-alive" {
		err := ls.KeepLeaseAlive(ctx, o.id, func(ttl time.Duration) {
			fmt.Fprintf(o.g.env.out, "lease %s kept alive with TTL %v\n", hexID(o.id), ttl)
		})
		if ctx.Err() != nil {
			return nil // interrupted
		}
		return fmt.Errorf("lease keep-alive: %w", err)
	}
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	switch o.sub {
	case "ls":
		ids, err := ls.Leases(cctx)
		if err != nil {
			return fmt.Errorf("lease ls: %w", err)
		}
		p := newPrinter(o.g.output, o.g.env.out, shapeList)
		for _, id := range ids {
			p.print(leaseItem{ID: hexID(id)}, func(w io.Writer) { fmt.Fprintln(w, hexID(id)) })
		}
		return p.end()
	case "revoke":
		if err := ls.RevokeLease(cctx, o.id); err != nil {
			return fmt.Errorf("lease revoke: %w", err)
		}
		return o.g.confirm(leaseItem{ID: hexID(o.id)}, func(w io.Writer) { fmt.Fprintf(w, "lease %s revoked\n", hexID(o.id)) })
	}
	info, err := ls.LeaseInfo(cctx, o.id)
	if err != nil {
		return fmt.Errorf("lease timetolive: %w", err)
	}
	p := newPrinter(o.g.output, o.g.env.out, shapeOne)
	p.print(leaseItem{ID: hexID(o.id), GrantedTTL: int64(info.Granted.Seconds()), RemainingTTL: int64(info.Remaining.Seconds()), Keys: info.Keys}, func(w io.Writer) {
		keys := "no keys"
		if len(info.Keys) > 0 {
			keys = "keys " + strings.Join(info.Keys, ", ")
		}
		fmt.Fprintf(w, "lease %s granted with TTL %v, remaining %v; %s\n", hexID(o.id), info.Granted, info.Remaining, keys)
	})
	return p.end()
}

// hexID is a lease ID as etcdctl prints it.
func hexID(id backend.LeaseID) string { return fmt.Sprintf("%016x", int64(id)) }
