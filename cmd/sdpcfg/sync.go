package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/pflag"
)

var syncCommand = &command{
	name:  "sync",
	args:  "run NAME | status [NAME] | serve NAME",
	short: "run and inspect data synchronisations",
	long: `
Runs and inspects the data-sync controller (package entities/datasync, keys
under /datasync; see docs/datasync.md). A synchronisation NAME is described
by its spec at /datasync/spec/NAME: two sources (config-store prefixes), a
links prefix and the mappings.

  run NAME        synchronises NAME until a run changes nothing: in this
                  process if no controller is active, else by asking the
                  active controller (a request at /datasync/request/NAME)
                  and waiting for its answer; prints the operations of the
                  last run that changed something
  status [NAME]   prints the status of each synchronisation, or of one: its
                  active syncer, last sync's time, runs, changes and error
  serve NAME      runs NAME's controller until Ctrl-C: it syncs while it
                  holds NAME's election key, at start, every --period, on
                  requests and on changes (--metrics-listen serves its
                  metrics, /healthz and /readyz)

Examples:
  sdpcfg sync run demo
  sdpcfg sync status -o json demo
  sdpcfg sync serve demo --metrics-listen 127.0.0.1:9467`,
	newRunner: func(g *globalOptions) runner { return &syncOptions{g: g} },
}

// syncSubcommands are the subcommands of sync, with their argument counts.
var syncSubcommands = map[string]struct {
	min, max int
	synopsis string
	run      func(o *syncOptions, ctx context.Context) error
}{
	"run":    {1, 1, "run NAME", (*syncOptions).runSync},
	"status": {0, 1, "status [NAME]", (*syncOptions).status},
	"serve":  {1, 1, "serve NAME", (*syncOptions).serve},
}

// syncOptions are the options of sync.
type syncOptions struct {
	g       *globalOptions
	sub     string
	args    []string
	maxRuns int
	wait    time.Duration
	period  time.Duration
	obs     observeFlags // serve
}

func (o *syncOptions) addFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.maxRuns, "max-runs", 10, "run: give up when this many runs still change something")
	fs.DurationVar(&o.wait, "wait", 30*time.Second, "run: how long to wait for an active controller's answer")
	fs.DurationVar(&o.period, "period", time.Minute, "serve: time between full syncs when nothing else happens")
	o.obs.addFlags(fs)
}

func (o *syncOptions) complete(args []string) error {
	if len(args) == 0 {
		return usagef("sync: want a subcommand: run, status or serve (see 'sdpcfg sync --help')")
	}
	o.sub, o.args = args[0], args[1:]
	s, ok := syncSubcommands[o.sub]
	if !ok {
		return usagef("sync: unknown subcommand %q: use run, status or serve", o.sub)
	}
	return wantArgs("sync", o.args, s.min, s.max, s.synopsis)
}

func (o *syncOptions) validate() error {
	if slices.Contains(o.args, "") {
		return usagef("sync %s: an empty argument; names must not be empty", o.sub)
	}
	if o.maxRuns < 1 {
		return usagef("sync: --max-runs %d: must be at least 1", o.maxRuns)
	}
	if o.wait <= 0 {
		return usagef("sync: --wait %v: must be positive", o.wait)
	}
	if o.period <= 0 {
		return usagef("sync: --period %v: must be positive", o.period)
	}
	return o.obs.validate("sync " + o.sub)
}

func (o *syncOptions) run(ctx context.Context) error {
	if err := syncSubcommands[o.sub].run(o, ctx); err != nil {
		return fmt.Errorf("sync %s: %w", o.sub, err)
	}
	return nil
}
