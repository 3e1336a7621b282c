package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
)

var getCommand = &command{
	name:  "get",
	args:  "PATH",
	short: "print the value of a key",
	long: `
Prints the value of the key PATH as stored. With -o json or -o yaml it
prints the key's metadata as well: its revisions, version and lease.

Examples:
  sdpcfg get /pb/pb-1
  sdpcfg get --rev 12 -o json /pb/pb-1/state`,
	newRunner: func(g *globalOptions) runner { return &getOptions{g: g} },
}

// getOptions are the options of get.
type getOptions struct {
	g    *globalOptions
	rev  int64
	path string
}

func (o *getOptions) addFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.rev, "rev", 0, "read the key as it was at this revision (0: now)")
}

func (o *getOptions) complete(args []string) error {
	if err := wantArgs("get", args, 1, 1, "PATH"); err != nil {
		return err
	}
	var err error
	o.path, err = cleanPath("get", args[0], false)
	return err
}

func (o *getOptions) validate() error {
	if o.rev < 0 {
		return usagef("get: --rev %d: must not be negative", o.rev)
	}
	return nil
}

func (o *getOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	kv, _, err := c.Backend().Get(cctx, o.path, o.rev)
	if err != nil {
		if errors.Is(err, backend.ErrNotFound) {
			return fmt.Errorf("get %s: %w (see what exists with 'sdpcfg ls %s')", o.path, backend.ErrNotFound, path.Dir(o.path))
		}
		return opError("get", o.path, err)
	}
	p := newPrinter(o.g.output, o.g.env.out, shapeOne)
	p.print(newKVItem(kv, true), func(w io.Writer) {
		io.WriteString(w, kv.Value)
		if !strings.HasSuffix(kv.Value, "\n") {
			io.WriteString(w, "\n")
		}
	})
	return p.end()
}
