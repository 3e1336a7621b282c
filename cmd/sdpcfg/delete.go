package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
)

var deleteCommand = &command{
	name:    "delete",
	aliases: []string{"del", "rm"},
	args:    "PATH",
	short:   "delete a key, or a whole subtree with -R",
	long: `
Deletes the key PATH; with -R, also every key below it (PATH "/" with -R
deletes everything). Fails with exit code 3 if there is nothing to delete.

A recursive delete asks for confirmation on the terminal first, saying how
many keys it would delete. Without a terminal on stdin it refuses (exit
code 2) unless --yes is given.

Examples:
  sdpcfg delete /pb/pb-1/state
  sdpcfg delete -R --yes /pb/pb-1`,
	newRunner: func(g *globalOptions) runner { return &deleteOptions{g: g} },
}

// deleteOptions are the options of delete.
type deleteOptions struct {
	g         *globalOptions
	recursive bool
	yes       bool
	path      string
}

func (o *deleteOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.recursive, "recursive", "R", false, "also delete every key below PATH")
	fs.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
}

func (o *deleteOptions) complete(args []string) error {
	if err := wantArgs("delete", args, 1, 1, "PATH"); err != nil {
		return err
	}
	var err error
	o.path, err = cleanPath("delete", args[0], o.recursive)
	return err
}

func (o *deleteOptions) validate() error {
	if o.recursive && !o.yes && !o.g.env.isTerminal(o.g.env.in) {
		return usagef("delete -R %s: stdin is not a terminal to confirm on: pass --yes to delete the subtree", o.path)
	}
	return nil
}

func (o *deleteOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	b := c.Backend()
	if o.recursive && !o.yes {
		n, err := o.count(ctx, b)
		if err != nil {
			return opError("delete", o.path, err)
		}
		if n == 0 {
			return opError("delete", o.path, backend.ErrVanished)
		}
		ok, err := o.confirm(n)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(o.g.env.errOut, "Nothing deleted.")
			return nil
		}
	}
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	opts := backend.DeleteOptions{MustExist: true, Recursive: o.recursive}
	target := o.path
	if o.path == "/" {
		opts.Prefix = true
	}
	res, err := b.Delete(cctx, target, opts)
	if err != nil {
		return opError("delete", o.path, err)
	}
	return o.g.confirm(writeItem{Action: "deleted", Path: o.path, Revision: res.Revision, Keys: res.Deleted}, func(w io.Writer) {
		fmt.Fprintf(w, "deleted %d key(s) at %s at revision %d\n", res.Deleted, o.path, res.Revision)
	})
}

// count returns the number of keys a recursive delete would delete.
func (o *deleteOptions) count(ctx context.Context, b backend.Backend) (int, error) {
	_, n, err := walk{b: b, g: o.g, path: o.path, self: true}.run(ctx, func(backend.KeyValue, bool) error { return nil })
	return n, err
}

// confirm asks on the terminal whether to delete n keys.
func (o *deleteOptions) confirm(n int) (bool, error) {
	fmt.Fprintf(o.g.env.errOut, "Delete %s and everything below it (%d key(s))? [y/N] ", o.path, n)
	line, err := bufio.NewReader(o.g.env.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("delete %s: reading the answer: %w", o.path, err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
