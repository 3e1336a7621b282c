package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/demo"
	"github.com/sdpconfig/sdpconfig/internal/etcdserver"
)

var demoCommand = &command{
	name:      "demo",
	args:      "",
	short:     "a short tour of sdpconfig on an embedded etcd",
	long:      demoHelp(),
	newRunner: func(g *globalOptions) runner { return &demoOptions{g: g} },
}

// demoOptions are the options of demo.
type demoOptions struct {
	g      *globalOptions
	blocks int
	keep   bool
}

func (o *demoOptions) addFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.blocks, "blocks", 3, "number of sample processing blocks")
	fs.BoolVar(&o.keep, "keep", false, "keep the sample keys on a configured store")
}

func (o *demoOptions) complete(args []string) error {
	return wantArgs("demo", args, 0, 0, "no arguments")
}

func (o *demoOptions) validate() error {
	if o.blocks < 1 || o.blocks > 50 {
		return usagef("demo: --blocks %d: use 1 to 50", o.blocks)
	}
	return nil
}

// demoHelp is the help of demo, listing its steps as demo.Steps has them.
func demoHelp() string {
	var b strings.Builder
	steps := demo.Steps()
	fmt.Fprintf(&b, "\nRuns a tour of sdpconfig in %d steps, in a few seconds, then exits by\nitself:\n\n", len(steps))
	for i, s := range steps {
		fmt.Fprintf(&b, "  %d. %-9s %s\n", i+1, s.Name, demo.Wrap(s.Shows, 60, "               "))
	}
	b.WriteString(`
Nothing needs to be set up: 'go run ./cmd/sdpcfg demo' works on a fresh
machine. The first 'go run' compiles etcd into sdpcfg, which takes minutes
on a small machine; 'go install ./cmd/sdpcfg' once, then 'sdpcfg demo',
starts in a second.`)
	return b.String()
}

func (o *demoOptions) run(ctx context.Context) error {
	return demo.Run(ctx, demo.Options{
		Out: o.g.env.out, Blocks: o.blocks, Keep: o.keep, Pace: o.g.env.demoPace,
		Open: o.openStore, RPC: o.g.rpc,
	})
}

// openStore opens the demo's store: an embedded etcd in a temporary
// directory, unless a store is configured.
func (o *demoOptions) openStore(ctx context.Context) (demo.Store, error) {
	g := o.g
	s, err := g.settings(ctx)
	if err != nil {
		return demo.Store{}, err
	}
	var st demo.Store
	switch {
	case s.Backend == config.BackendMemory:
		st.Owned = true
		st.Describe = "Using an in-memory store (--backend memory): it lives and dies with this process."
	case s.Source(config.SettingEndpoints) == config.SourceDefault:
		dir, err := os.MkdirTemp("", "sdpcfg-demo-")
		if err != nil {
			return st, err
		}
		srv, err := g.env.startEtcd(ctx, etcdserver.Config{DataDir: dir, NoFsync: true, FastTicks: true})
		if err != nil {
			os.RemoveAll(dir)
			return st, err
		}
		st.Close = func() {
			srv.Close()
			os.RemoveAll(dir)
		}
		st.Owned, st.Embedded = true, true
		// The embedded server has no users: only the prefix carries over.
		if s, err = config.ResolveSettings(config.Options{Endpoints: []string{srv.Endpoint()}, Prefix: s.Prefix}, nil); err != nil {
			st.Close()
			return demo.Store{}, err
		}
		st.Describe = fmt.Sprintf("No store configured, so the demo started an embedded etcd at %s\n(data in %s, removed at the end).", srv.ClientURL(), dir)
	default:
		st.Describe = fmt.Sprintf("Using the etcd at %s, as configured. The sample keys are deleted at the end%s.",
			strings.Join(s.URLs(), ","), map[bool]string{true: " (no: --keep)", false: " unless --keep is given"}[o.keep])
	}
	if st.Config, err = g.openSettings(ctx, s); err != nil {
		if st.Close != nil {
			st.Close()
		}
		return demo.Store{}, err
	}
	return st, nil
}
