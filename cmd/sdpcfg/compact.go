package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/pflag"
)

var compactCommand = &command{
	name:  "compact",
	args:  "REVISION",
	short: "discard the history before a revision",
	long: `
Compacts the store at REVISION, as etcdctl compact does: the values keys
had before it are discarded, so reads, history and watches from an earlier
revision fail from then on. The current value of every key stays. Find
the current revision with 'sdpcfg get -o json PATH' or 'sdpcfg history'.

Examples:
  sdpcfg compact 1200`,
	newRunner: func(g *globalOptions) runner { return &compactOptions{g: g} },
}

// compactOptions are the options of compact.
type compactOptions struct {
	g   *globalOptions
	rev int64
}

func (o *compactOptions) addFlags(*pflag.FlagSet) {}

func (o *compactOptions) complete(args []string) error {
	if err := wantArgs("compact", args, 1, 1, "REVISION"); err != nil {
		return err
	}
	rev, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || rev <= 0 {
		return usagef("compact: revision %q: want a positive number", args[0])
	}
	o.rev = rev
	return nil
}

func (o *compactOptions) validate() error { return nil }

func (o *compactOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	if err := c.Backend().Compact(cctx, o.rev); err != nil {
		return fmt.Errorf("compact %d: %w", o.rev, err)
	}
	return o.g.confirm(writeItem{Action: "compacted", Path: "/", Revision: o.rev}, func(w io.Writer) {
		fmt.Fprintf(w, "compacted at revision %d\n", o.rev)
	})
}
