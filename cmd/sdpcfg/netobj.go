package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/pflag"
)

var netobjCommand = &command{
	name:  "netobj",
	args:  "ls TARGET | apply TARGET FILE|- | status [TARGET] | run TARGET",
	short: "inspect and edit the desired network objects of target hosts",
	long: `
Inspects and edits the network objects (interfaces, addresses, routes) that
the network-object controller of each target host applies (package
entities/netobj, keys under /netobj; see docs/netobj.md):

  ls TARGET              prints TARGET's desired objects: kind, id and
                         fields
  apply TARGET FILE|-    writes the objects of FILE (or stdin) as TARGET's
                         desired objects, each checked first; with --prune
                         it also deletes TARGET's desired objects the file
                         does not name, which the controller then removes
                         from the system
  status [TARGET]        prints what the controller of TARGET (or of every
                         target) observed: each object's state (system or
                         error), when it was applied and its last error,
                         and whether the controller is alive
  run TARGET             runs TARGET's controller until Ctrl-C: it applies
                         the desired objects to this host's network
                         (--driver netlink, needs CAP_NET_ADMIN) or to an
                         in-memory system (--driver memory, for trials);
                         --metrics-listen serves its metrics, /healthz and
                         /readyz

FILE is JSON or YAML: a list of objects, each with a kind (interface,
address or route), its fields and optionally an id (by default the
object's key fields, such as "br0,10.1.0.1/24"):

  - kind: interface
    fields: {name: br0, type: bridge, state: up}
  - kind: address
    fields: {interface: br0, cidr: 10.1.0.1/24}
  - kind: route
    fields: {dst: 10.2.0.0/16, gateway: 10.1.0.254}

Examples:
  sdpcfg netobj apply host-1 objects.yaml
  sdpcfg netobj ls host-1 -o json
  sdpcfg netobj status
  sdpcfg netobj run host-1 --driver memory --metrics-listen 127.0.0.1:9466`,
	newRunner: func(g *globalOptions) runner { return &netobjOptions{g: g} },
}

// netobjSubcommands are the subcommands of netobj, with their argument
// counts.
var netobjSubcommands = map[string]struct {
	min, max int
	synopsis string
	run      func(o *netobjOptions, ctx context.Context) error
}{
	"ls":     {1, 1, "ls TARGET", (*netobjOptions).ls},
	"apply":  {2, 2, "apply TARGET FILE|-", (*netobjOptions).apply},
	"status": {0, 1, "status [TARGET]", (*netobjOptions).status},
	"run":    {1, 1, "run TARGET", (*netobjOptions).runController},
}

// netobjOptions are the options of netobj.
type netobjOptions struct {
	g      *globalOptions
	prune  bool
	driver string       // run
	obs    observeFlags // run
	sub    string
	args   []string
}

func (o *netobjOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.prune, "prune", false, "apply: also delete the target's desired objects the file does not name")
	fs.StringVar(&o.driver, "driver", "netlink", "run: netlink (this host's network) or memory (an in-memory system)")
	o.obs.addFlags(fs)
}

func (o *netobjOptions) complete(args []string) error {
	if len(args) == 0 {
		return usagef("netobj: want a subcommand: ls, apply, status or run (see 'sdpcfg netobj --help')")
	}
	o.sub, o.args = args[0], args[1:]
	s, ok := netobjSubcommands[o.sub]
	if !ok {
		return usagef("netobj: unknown subcommand %q: use ls, apply, status or run", o.sub)
	}
	return wantArgs("netobj "+o.sub, o.args, s.min, s.max, s.synopsis)
}

func (o *netobjOptions) validate() error {
	if slices.Contains(o.args, "") {
		return usagef("netobj %s: an empty argument; target names and files must not be empty", o.sub)
	}
	if o.prune && o.sub != "apply" {
		return usagef("netobj %s: --prune only goes with apply", o.sub)
	}
	if o.driver != "netlink" && o.driver != "memory" {
		return usagef("netobj %s: --driver %q: want netlink or memory", o.sub, o.driver)
	}
	return o.obs.validate("netobj " + o.sub)
}

func (o *netobjOptions) run(ctx context.Context) error {
	if err := netobjSubcommands[o.sub].run(o, ctx); err != nil {
		return fmt.Errorf("netobj %s: %w", o.sub, err)
	}
	return nil
}
