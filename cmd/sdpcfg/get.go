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
--print-value-only prints the value alone whatever -o says, and
--keys-only the path alone: a check that the key exists.

Examples:
  sdpcfg get /pb/pb-1
  sdpcfg get --rev 12 -o json /pb/pb-1/state`,
	newRunner: func(g *globalOptions) runner { return &getOptions{g: g} },
}

// getOptions are the options of get.
type getOptions struct {
	g         *globalOptions
	rev       int64
	keysOnly  bool
	valueOnly bool
	path      string
}

func (o *getOptions) addFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.rev, "rev", 0, "read the key as it was at this revision (0: now)")
	fs.BoolVar(&o.keysOnly, "keys-only", false, "print the path only")
	fs.BoolVar(&o.valueOnly, "print-value-only", false, "print the value only, as stored, whatever -o says")
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
	if o.keysOnly && o.valueOnly {
		return usagef("get: --keys-only and --print-value-only: choose one")
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
	switch {
	case o.valueOnly:
		writeValue(o.g.env.out, kv.Value)
		return nil
	case o.keysOnly:
		_, err := fmt.Fprintln(o.g.env.out, kv.Path)
		return err
	}
	p := newPrinter(o.g.output, o.g.env.out, shapeOne)
	p.print(newKVItem(kv, true), func(w io.Writer) { writeValue(w, kv.Value) })
	return p.end()
}

// writeValue writes a value as stored, ending with a newline.
func writeValue(w io.Writer, v string) {
	io.WriteString(w, v)
	if !strings.HasSuffix(v, "\n") {
		io.WriteString(w, "\n")
	}
}
