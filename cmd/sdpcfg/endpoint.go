package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
)

var endpointCommand = &command{
	name:  "endpoint",
	args:  "status|health",
	short: "show the status or health of each etcd endpoint",
	long: `
Asks every endpoint of the settings (--endpoints) about itself, as
etcdctl endpoint does. "status" prints, for each, its etcd version, the
size of its database, whether it is the raft leader, the revision it has
applied and its raft term. "health" prints whether each answered, and how
fast; it exits 1 if any did not.

Examples:
  sdpcfg endpoint status
  sdpcfg endpoint health --endpoints etcd-0:2379,etcd-1:2379,etcd-2:2379`,
	newRunner: func(g *globalOptions) runner { return &endpointOptions{g: g} },
}

// endpointOptions are the options of endpoint.
type endpointOptions struct {
	g    *globalOptions
	what string
}

func (o *endpointOptions) addFlags(*pflag.FlagSet) {}

func (o *endpointOptions) complete(args []string) error {
	if err := wantArgs("endpoint", args, 1, 1, "status or health"); err != nil {
		return err
	}
	o.what = args[0]
	return nil
}

func (o *endpointOptions) validate() error {
	if o.what != "status" && o.what != "health" {
		return usagef("endpoint: %q: want status or health", o.what)
	}
	return nil
}

// statuser is a backend whose members answer about themselves (etcd3).
type statuser interface {
	Status(ctx context.Context) []etcd3.EndpointStatus
}

// endpointItem is an endpoint's status as -o json and yaml show it.
type endpointItem struct {
	Endpoint string `json:"endpoint"`
	Healthy  bool   `json:"healthy"`
	Error    string `json:"error,omitempty"`
	Version  string `json:"version,omitempty"`
	DBSize   int64  `json:"db_size,omitempty"`
	Leader   bool   `json:"leader,omitempty"`
	Revision int64  `json:"revision,omitempty"`
	RaftTerm uint64 `json:"raft_term,omitempty"`
	TookMs   int64  `json:"took_ms"`
}

func (o *endpointOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	st, ok := c.Backend().(statuser)
	if !ok {
		return usagef("endpoint %s: this store has no etcd endpoints to ask (the memory backend?)", o.what)
	}
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	statuses := st.Status(cctx)
	p := newPrinter(o.g.output, o.g.env.out, shapeList)
	if o.g.output == outTable && o.what == "status" {
		fmt.Fprintf(o.g.env.out, "%-28s %-8s %-9s %-6s %-9s %s\n", "ENDPOINT", "VERSION", "DB SIZE", "LEADER", "REVISION", "RAFT TERM")
	}
	bad := 0
	for _, s := range statuses {
		it := endpointItem{Endpoint: s.Endpoint, Healthy: s.Err == nil, Version: s.Version, DBSize: s.DBSize,
			Leader: s.Leader, Revision: s.Revision, RaftTerm: s.RaftTerm, TookMs: s.Took.Milliseconds()}
		if s.Err != nil {
			bad++
			it.Error = s.Err.Error()
		}
		p.print(it, func(w io.Writer) {
			switch {
			case o.what == "health" && s.Err == nil:
				fmt.Fprintf(w, "%s is healthy: answered in %v\n", s.Endpoint, s.Took.Round(100_000))
			case s.Err != nil:
				fmt.Fprintf(w, "%s is unhealthy: %v\n", s.Endpoint, s.Err)
			default:
				fmt.Fprintf(w, "%-28s %-8s %-9s %-6t %-9d %d\n", s.Endpoint, s.Version, backend.FormatBytes(int(s.DBSize)), s.Leader, s.Revision, s.RaftTerm)
			}
		})
	}
	if err := p.end(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("endpoint %s: %d of %d endpoint(s) did not answer: %w", o.what, bad, len(statuses), backend.ErrUnavailable)
	}
	return nil
}
