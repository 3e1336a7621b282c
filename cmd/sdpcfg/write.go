package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
)

// writeOptions are the options of create, update and put, which differ
// only in what they require of the key.
type writeOptions struct {
	g      *globalOptions
	name   string // "create", "update" or "put"
	flags  valueFlags
	path   string
	arg    string // VALUE or "-"
	value  string // what to store, once validated
	create bool
}

func (o *writeOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.flags.json, "json", false, "the value must be JSON; store it as ska-sdp-config writes JSON (sorted keys, 2-space indent)")
	fs.BoolVar(&o.flags.yaml, "yaml", false, "the value is YAML, as edit shows JSON (a file edit kept, for instance); store it as JSON")
	fs.BoolVar(&o.flags.raw, "raw", false, "store the value as given, even on a typed path such as /pb/ID")
}

func (o *writeOptions) complete(args []string) error {
	if err := wantArgs(o.name, args, 2, 2, "PATH and VALUE (or - to read it from stdin)"); err != nil {
		return err
	}
	var err error
	if o.path, err = cleanPath(o.name, args[0], false); err != nil {
		return err
	}
	o.arg = args[1]
	return nil
}

func (o *writeOptions) validate() error {
	if n := btoi(o.flags.json) + btoi(o.flags.yaml) + btoi(o.flags.raw); n > 1 {
		return usagef("%s: --json, --yaml and --raw exclude each other", o.name)
	}
	v, err := readValue(o.g.env.in, o.arg)
	if err != nil {
		return err
	}
	o.value, err = o.flags.prepare(o.path, v)
	return err
}

func (o *writeOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	var rev int64
	if o.name == "put" {
		res, err := c.Backend().Commit(cctx, backend.Txn{Then: []backend.Op{backend.Put(o.path, o.value, backend.NoLease)}})
		if err != nil {
			return opError("put", o.path, err)
		}
		return printWrite(o.g, "put", o.path, res.Revision)
	}
	if o.create {
		rev, err = c.Backend().Create(cctx, o.path, o.value, backend.NoLease)
		if err != nil {
			err = opError("create", o.path, err)
			if errors.Is(err, backend.ErrCollision) {
				err = fmt.Errorf("%w (change it with 'sdpcfg update' or 'sdpcfg edit')", err)
			}
			return err
		}
	} else {
		rev, err = c.Backend().Update(cctx, o.path, o.value)
		if err != nil {
			err = opError("update", o.path, err)
			if errors.Is(err, backend.ErrVanished) {
				err = fmt.Errorf("%w (create it with 'sdpcfg create')", err)
			}
			return err
		}
	}
	return printWrite(o.g, o.name+"d", o.path, rev)
}

// writeItem is the result of a write as the json and yaml outputs show it.
type writeItem struct {
	Action   string `json:"action"` // "created", "updated", "deleted", ...
	Path     string `json:"path"`
	Revision int64  `json:"revision"`
	Keys     int64  `json:"keys,omitempty"` // for deletes and imports
}

// printWrite reports a write: "created /pb/x at revision 5".
func printWrite(g *globalOptions, action, path string, rev int64) error {
	return g.confirm(writeItem{Action: action, Path: path, Revision: rev}, func(w io.Writer) {
		fmt.Fprintf(w, "%s %s at revision %d\n", action, path, rev)
	})
}

// confirm prints the outcome of a write, item in -o json or yaml and table
// otherwise; nothing with -q.
func (g *globalOptions) confirm(item any, table func(io.Writer)) error {
	if g.quiet {
		return nil
	}
	p := newPrinter(g.output, g.env.out, shapeOne)
	p.print(item, table)
	return p.end()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
