package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
)

var exportCommand = &command{
	name:  "export",
	args:  "PATH",
	short: "write a whole tree as JSON or YAML",
	long: `
Writes the key PATH and every key below it (PATH "/" for everything) to
stdout as one JSON object of paths to values, or a YAML mapping with
-o yaml: the format import reads (see 'sdpcfg import --help'). The tree is
read at one revision, in pages, and written as it comes: memory does not
grow with the tree. When stderr is a terminal and stdout is not, a
progress bar is shown for large trees (the keys are counted first).

In JSON, a value that is ska-sdp-config JSON (an object, array, number,
boolean or null written with sorted keys and a 2-space indent) is written
as JSON, every other value as a string. In YAML every value is a string.
A value that is not UTF-8 (etcdctl can write any bytes) is written as
{"$base64": "..."}, its bytes in base64, which import turns back into
those bytes. Either way, export then import reproduces every value byte
for byte.

Examples:
  sdpcfg export /pb > pb.json
  sdpcfg export -o yaml / > everything.yaml`,
	newRunner: func(g *globalOptions) runner { return &exportOptions{g: g} },
}

// exportOptions are the options of export.
type exportOptions struct {
	g    *globalOptions
	rev  int64
	path string
}

func (o *exportOptions) addFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&o.rev, "rev", 0, "export the tree as it was at this revision (0: now)")
}

func (o *exportOptions) complete(args []string) error {
	if err := wantArgs("export", args, 1, 1, "PATH"); err != nil {
		return err
	}
	var err error
	o.path, err = cleanPath("export", args[0], true)
	return err
}

func (o *exportOptions) validate() error {
	if o.rev < 0 {
		return usagef("export: --rev %d: must not be negative", o.rev)
	}
	return nil
}

func (o *exportOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	w := walk{b: c.Backend(), g: o.g, path: o.path, self: true, values: true, rev: o.rev}
	bar, err := o.progress(ctx, &w)
	if err != nil {
		return opError("export", o.path, err)
	}
	tw := newTreeWriter(o.g.env.out, o.g.output)
	done := 0
	_, n, err := w.run(ctx, func(kv backend.KeyValue, _ bool) error {
		err := tw.add(kv.Path, kv.Value)
		done++
		bar.set(done)
		return err
	})
	bar.done()
	if err == nil && n == 0 && o.path != "/" {
		return opError("export", o.path, fmt.Errorf("nothing at or below it: %w (see what exists with 'sdpcfg ls /')", backend.ErrNotFound))
	}
	if err != nil {
		tw.w.Flush()
		return fmt.Errorf("%w (the output is incomplete)", opError("export", o.path, err))
	}
	return tw.end()
}

// progress returns the progress bar of an export. As curl does, it draws
// one only when stderr is a terminal and stdout is not (the tree goes to a
// file): it then counts the keys first, with a keys-only walk, and pins w
// to the revision it counted at so that the bar's total is exact.
func (o *exportOptions) progress(ctx context.Context, w *walk) (*progress, error) {
	e := o.g.env
	if !e.isTerminal(e.errOut) || e.isTerminal(e.out) {
		return newProgress(e, 0), nil
	}
	count := *w
	count.values = false
	rev, n, err := count.run(ctx, func(backend.KeyValue, bool) error { return nil })
	if err != nil {
		return nil, err
	}
	w.rev = rev
	return newProgress(e, n), nil
}
