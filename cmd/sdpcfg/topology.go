package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/pflag"
)

var topologyCommand = &command{
	name:  "topology",
	args:  "status [AGENT] | push AGENT TOPOLOGY-ID SPEC|- | resync AGENT | master",
	short: "inspect and drive the topology controller",
	long: `
Inspects and drives the topology controller (package entities/topology,
keys under /topology; see docs/topology.md):

  status [AGENT]                    prints each agent's desired topology
                                    and generation, the hash it applied,
                                    whether it heartbeats, its drift flag
                                    and last error
  push AGENT TOPOLOGY-ID SPEC|-     writes the desired topology of AGENT:
                                    SPEC is a JSON object (or - to read it
                                    from stdin); its version hash is
                                    computed and the generation bumped
  resync AGENT                      bumps AGENT's generation so that it
                                    applies its desired topology again, and
                                    clears its drift flag
  master                            runs the topology master until
                                    Ctrl-C: it flags agents that drift
                                    from their desired topology and
                                    re-pushes (--metrics-listen serves its
                                    metrics, /healthz and /readyz)

Examples:
  sdpcfg topology push host-1 lab '{"lans": [{"name": "lan0"}]}'
  sdpcfg topology status -o json
  sdpcfg topology resync host-1
  sdpcfg topology master --metrics-listen 127.0.0.1:9465`,
	newRunner: func(g *globalOptions) runner { return &topologyOptions{g: g} },
}

// topologySubcommands are the subcommands of topology, with their argument
// counts.
var topologySubcommands = map[string]struct {
	min, max int
	synopsis string
	run      func(o *topologyOptions, ctx context.Context) error
}{
	"status": {0, 1, "status [AGENT]", (*topologyOptions).status},
	"push":   {3, 3, "push AGENT TOPOLOGY-ID SPEC|-", (*topologyOptions).push},
	"resync": {1, 1, "resync AGENT", (*topologyOptions).resync},
	"master": {0, 0, "master", (*topologyOptions).master},
}

// topologyOptions are the options of topology.
type topologyOptions struct {
	g    *globalOptions
	sub  string
	args []string
	obs  observeFlags // master
}

func (o *topologyOptions) addFlags(fs *pflag.FlagSet) { o.obs.addFlags(fs) }

func (o *topologyOptions) complete(args []string) error {
	if len(args) == 0 {
		return usagef("topology: want a subcommand: status, push, resync or master (see 'sdpcfg topology --help')")
	}
	o.sub, o.args = args[0], args[1:]
	s, ok := topologySubcommands[o.sub]
	if !ok {
		return usagef("topology: unknown subcommand %q: use status, push, resync or master", o.sub)
	}
	return wantArgs("topology", o.args, s.min, s.max, s.synopsis)
}

func (o *topologyOptions) validate() error {
	if slices.Contains(o.args, "") {
		return usagef("topology %s: an empty argument; agent and topology names must not be empty", o.sub)
	}
	return o.obs.validate("topology " + o.sub)
}

func (o *topologyOptions) run(ctx context.Context) error {
	if err := topologySubcommands[o.sub].run(o, ctx); err != nil {
		return fmt.Errorf("topology %s: %w", o.sub, err)
	}
	return nil
}
