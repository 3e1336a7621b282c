package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
)

var txnCommand = &command{
	name:  "txn",
	args:  "[FILE]",
	short: "commit compares and writes from a file, atomically",
	long: `
Reads a transaction from FILE (or stdin, for - or no FILE) and commits it
at once, as etcdctl txn does: when every "if" line holds, the "then" lines
run, otherwise the "else" lines, all at one new revision. One compare or
op per line; blank lines and lines starting with # are skipped:

  if mod /pb/pb-1 = 12         the key's last write was at revision 12
  if version /pb/pb-2 = 0      the key does not exist
  if mod -R /pb < 13           no key at or below /pb changed after 12
  then put /pb/pb-1 {"a": 1}   the value is the rest of the line
  then delete /pb/pb-2
  else delete -R /tmp/x        the key and its whole subtree

The fields are mod, create and version, the relations =, !=, < and >. A
missing key compares as 0. A -R compare holds when it holds for PATH and
for every key below it, and a level below with no key compares as a
missing key (etcd's rule): so -R suits "nothing changed since" (mod -R
PATH < R) and "nothing there" (version -R PATH = 0). Values are checked as put checks them (JSON on
typed paths such as /pb/ID, unless --raw).

It prints which branch ran and the revision. When the compares fail it
exits 4, after running the else lines, so that scripts can tell.

Examples:
  sdpcfg txn update.txn
  printf 'if version /lock = 0\nthen put /lock me\n' | sdpcfg txn`,
	newRunner: func(g *globalOptions) runner { return &txnOptions{g: g} },
}

// txnOptions are the options of txn.
type txnOptions struct {
	g     *globalOptions
	file  string
	flags valueFlags
	t     txnFile
}

func (o *txnOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.flags.raw, "raw", false, "store values as given, even on typed paths such as /pb/ID")
}

func (o *txnOptions) complete(args []string) error {
	if err := wantArgs("txn", args, 0, 1, "[FILE]"); err != nil {
		return err
	}
	o.file = "-"
	if len(args) == 1 {
		o.file = args[0]
	}
	return nil
}

func (o *txnOptions) validate() error {
	in, name := o.g.env.in, "stdin"
	if o.file != "-" {
		f, err := os.Open(o.file)
		if err != nil {
			return usagef("txn: %v", err)
		}
		defer f.Close()
		in, name = f, o.file
	}
	var err error
	o.t, err = parseTxn(in, name, o.flags)
	return err
}

func (o *txnOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	res, err := c.Backend().Commit(cctx, o.t.Txn)
	if err != nil {
		return fmt.Errorf("txn: %w", err)
	}
	branch, ops := "then", o.t.thenLines
	if !res.Succeeded {
		branch, ops = "else", o.t.elseLines
	}
	item := txnItem{Succeeded: res.Succeeded, Branch: branch, Ops: ops, Revision: res.Revision, Deleted: res.Deleted}
	if err := o.g.confirm(item, func(w io.Writer) {
		fmt.Fprintf(w, "%s: ran %d %s op(s) at revision %d", outcome(res.Succeeded), ops, branch, res.Revision)
		if res.Deleted > 0 {
			fmt.Fprintf(w, ", deleting %d key(s)", res.Deleted)
		}
		fmt.Fprintln(w)
	}); err != nil {
		return err
	}
	if !res.Succeeded {
		return errCompareFailed
	}
	return nil
}

// outcome names the branch a commit took.
func outcome(succeeded bool) string {
	if succeeded {
		return "compares held"
	}
	return "compares failed"
}

// txnItem is the outcome of txn as the json and yaml outputs show it.
type txnItem struct {
	Succeeded bool   `json:"succeeded"`
	Branch    string `json:"branch"` // "then" or "else"
	Ops       int    `json:"ops"`
	Revision  int64  `json:"revision"`
	Deleted   int64  `json:"deleted,omitempty"`
}

// errCompareFailed is the error of a txn whose compares failed: the else
// ops ran, and sdpcfg exits 4.
var errCompareFailed = errors.New("txn: the compares failed; the else ops ran")
