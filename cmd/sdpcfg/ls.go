package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
)

var lsCommand = &command{
	name:  "ls",
	args:  "PATH",
	short: "list the keys below a path",
	long: `
Lists the keys below PATH in path order: its children by default, down to
N levels with --depth N, or the whole subtree with -R. PATH "/" lists from
the top. Keys further down are summed up by their ancestor at the last
level shown, ending with "/" ("/pb/pb-1/" when /pb/pb-1/state exists), as
ls shows directories. With --values each key is shown with its value (on
one line in the table output).

As etcdctl's get does, --keys-only prints paths only (in -o json a list of
strings), --print-value-only prints each key's value as stored, ending
with a newline, and no subtree entries; --limit N stops after N entries
and says on stderr when there were more.

Large trees are read in pages of 1000 keys, all at one revision, and
printed as they come: memory does not grow with the tree.

Examples:
  sdpcfg ls /pb
  sdpcfg ls -R --values /pb/pb-1
  sdpcfg ls -R -o json /
  sdpcfg ls -R --print-value-only --limit 10 /pb`,
	newRunner: func(g *globalOptions) runner { return &lsOptions{g: g} },
}

// lsOptions are the options of ls.
type lsOptions struct {
	g         *globalOptions
	recursive bool
	depth     int
	values    bool
	rev       int64
	keysOnly  bool
	valueOnly bool
	limit     int

	path string
}

func (o *lsOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.recursive, "recursive", "R", false, "list the whole subtree")
	fs.IntVar(&o.depth, "depth", 1, "list down to this many levels below PATH")
	fs.BoolVar(&o.values, "values", false, "show values too")
	fs.Int64Var(&o.rev, "rev", 0, "list the store as it was at this revision (0: now)")
	fs.BoolVar(&o.keysOnly, "keys-only", false, "print paths only")
	fs.BoolVar(&o.valueOnly, "print-value-only", false, "print values only, as stored")
	fs.IntVar(&o.limit, "limit", 0, "stop after this many entries (0: no limit)")
}

func (o *lsOptions) complete(args []string) error {
	if err := wantArgs("ls", args, 1, 1, "PATH"); err != nil {
		return err
	}
	var err error
	o.path, err = cleanPath("ls", args[0], true)
	if o.recursive {
		o.depth = backend.MaxDepth
	}
	return err
}

func (o *lsOptions) validate() error {
	if o.depth < 1 {
		return usagef("ls: --depth %d: must be at least 1", o.depth)
	}
	if o.rev < 0 {
		return usagef("ls: --rev %d: must not be negative", o.rev)
	}
	if o.limit < 0 {
		return usagef("ls: --limit %d: must not be negative (0: no limit)", o.limit)
	}
	return checkOutputFlags("ls", o.g, o.keysOnly, o.valueOnly, o.values)
}

func (o *lsOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	p := newPrinter(o.g.output, o.g.env.out, shapeList)
	values := o.values || o.valueOnly
	w := walk{b: c.Backend(), g: o.g, path: o.path, depth: o.depth, dirs: !o.valueOnly, values: values, rev: o.rev}
	shown := 0
	rev, n, err := w.run(ctx, func(kv backend.KeyValue, dir bool) error {
		if o.limit > 0 && shown == o.limit {
			return errLimit
		}
		shown++
		switch {
		case o.valueOnly:
			return p.print(nil, func(w io.Writer) { writeValue(w, kv.Value) })
		case o.keysOnly:
			return p.print(kv.Path, func(w io.Writer) { fmt.Fprintln(w, kv.Path) })
		}
		it := newKVItem(kv, values && !dir)
		it.Dir = dir
		return p.print(it, func(w io.Writer) {
			if values && !dir {
				fmt.Fprintf(w, "%s  %s\n", kv.Path, oneLine(kv.Value))
			} else {
				fmt.Fprintln(w, kv.Path)
			}
		})
	})
	if errors.Is(err, errLimit) {
		err = nil
		defer fmt.Fprintf(o.g.env.errOut, "ls %s: showing the first %d entries; there are more (raise --limit)\n", o.path, o.limit)
	}
	if err == nil && n == 0 {
		err = o.nothingThere(ctx, c.Backend(), rev)
	}
	if err != nil {
		return opError("ls", o.path, err)
	}
	return p.end()
}

// nothingThere returns an error wrapping backend.ErrNotFound when the path
// listed, which has no keys below it, is not a key either (the root is
// always there): ls of nothing fails as get and delete of nothing do.
func (o *lsOptions) nothingThere(ctx context.Context, b backend.Backend, rev int64) error {
	if o.path == "/" {
		return nil
	}
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	_, _, err := b.Get(cctx, o.path, rev)
	if errors.Is(err, backend.ErrNotFound) {
		return fmt.Errorf("nothing at or below it: %w (see what exists with 'sdpcfg ls /')", backend.ErrNotFound)
	}
	return err
}

// errLimit stops a walk at --limit entries.
var errLimit = errors.New("limit reached")

// checkOutputFlags refuses the combinations of --keys-only,
// --print-value-only and --values that ask for two things at once.
func checkOutputFlags(cmd string, g *globalOptions, keysOnly, valueOnly, values bool) error {
	switch {
	case keysOnly && values:
		return usagef("%s: --keys-only and --values: choose one", cmd)
	case keysOnly && valueOnly:
		return usagef("%s: --keys-only and --print-value-only: choose one", cmd)
	case valueOnly && g.output != outTable:
		return usagef("%s: --print-value-only prints raw values: drop -o %s", cmd, g.output)
	}
	return nil
}
