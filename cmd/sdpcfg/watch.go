package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
)

var watchCommand = &command{
	name:  "watch",
	args:  "PATH",
	short: "print changes to a key or subtree as they happen",
	long: `
Prints every change to the key PATH (with --prefix, to PATH and every key
below it) as it happens, until interrupted (Ctrl-C) or, with --count N,
after N changes. With --rev N it starts from revision N, replaying the
changes made since. A cut connection is resumed where it stopped, so no
change is missed or repeated; while the connection is down, a notice on
stderr says so, and another when it is back. A revision to start or
resume from that was compacted away fails the command, unless --relist:
then it prints the current state of PATH (every key as a PUT at its
revision) and watches on from there.

The table output shows one line per change: revision, PUT or DELETE, path
and the new value on one line. -o json prints one JSON object per line,
-o yaml one YAML document per change.

Examples:
  sdpcfg watch --prefix /pb
  sdpcfg watch --rev 1 --count 10 -o json /pb/pb-1/state`,
	newRunner: func(g *globalOptions) runner { return &watchOptions{g: g} },
}

// watchOptions are the options of watch.
type watchOptions struct {
	g      *globalOptions
	prefix bool
	rev    int64
	count  int
	relist bool
	path   string

	seen atomic.Int64 // the revision the printed changes reach
}

func (o *watchOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.prefix, "prefix", false, "watch PATH and every key below it")
	fs.Int64Var(&o.rev, "rev", 0, "start from this revision, replaying later changes (0: from now)")
	fs.IntVar(&o.count, "count", 0, "exit after this many changes (0: run until interrupted)")
	fs.BoolVar(&o.relist, "relist", false, "when the revision to watch from was compacted, print the current state and watch on")
}

func (o *watchOptions) complete(args []string) error {
	if err := wantArgs("watch", args, 1, 1, "PATH"); err != nil {
		return err
	}
	var err error
	o.path, err = cleanPath("watch", args[0], o.prefix)
	return err
}

func (o *watchOptions) validate() error {
	if o.rev < 0 {
		return usagef("watch: --rev %d: must not be negative", o.rev)
	}
	if o.count < 0 {
		return usagef("watch: --count %d: must not be negative", o.count)
	}
	return nil
}

// ranges returns what to watch: the key, and with --prefix the subtree.
func (o *watchOptions) ranges() []backend.Range {
	var rs []backend.Range
	if o.path != "/" {
		rs = append(rs, backend.Key(o.path))
	}
	if o.prefix {
		rs = append(rs, backend.Subtree(o.path)...)
	}
	return rs
}

func (o *watchOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	p := newPrinter(o.g.output, o.g.env.out, shapeStream)
	defer p.end()
	if o.g.env.isTerminal(o.g.env.errOut) {
		fmt.Fprintf(o.g.env.errOut, "Watching %s%s; Ctrl-C to stop.\n", o.path, map[bool]string{true: " and below", false: ""}[o.prefix])
	}
	from, seen := o.rev, 0
	if from == 0 {
		// Pin "now", so that a resumed stream misses nothing in between.
		cctx, cancel := o.g.rpc(ctx)
		rev, err := c.Backend().Revision(cctx)
		cancel()
		if err != nil {
			return fmt.Errorf("watch %s: %w", o.path, err)
		}
		from = rev + 1
	}
	o.seen.Store(from - 1)
	defer o.noticeConnection(ctx, c.Backend())()
	for {
		next, n, err := o.stream(ctx, c.Backend(), p, from, seen)
		seen = n
		switch {
		case err == nil || ctx.Err() != nil:
			return nil // --count reached, or interrupted
		case errors.Is(err, backend.ErrUnavailable):
			// The stream was cut: resume after the last change printed.
			from = next
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
		case errors.Is(err, backend.ErrCompacted) && o.relist:
			if from, seen, err = o.relistState(ctx, c.Backend(), p, from, seen); err != nil || (o.count > 0 && seen >= o.count) {
				return err
			}
		case errors.Is(err, backend.ErrCompacted):
			return fmt.Errorf("%w: start from a later --rev, omit it, or pass --relist", opError("watch", o.path, err))
		default:
			return opError("watch", o.path, err)
		}
	}
}

// connNotifier is a backend that tells when its connection to the store
// is lost and back (etcd3.Backend).
type connNotifier interface {
	WatchConnection(ctx context.Context, f func(up bool))
}

// noticeConnection prints a notice on stderr each time b's connection is
// lost and back, until the function it returns is called.
func (o *watchOptions) noticeConnection(ctx context.Context, b backend.Backend) (stop func()) {
	cn, ok := b.(connNotifier)
	if !ok {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		cn.WatchConnection(ctx, func(up bool) {
			if up {
				fmt.Fprintf(o.g.env.errOut, "sdpcfg: watch: reconnected; resumed after revision %d, nothing missed\n", o.seen.Load())
			} else {
				fmt.Fprintf(o.g.env.errOut, "sdpcfg: watch: connection to the store lost; waiting for it to come back (Ctrl-C to stop)\n")
			}
		})
	}()
	return func() {
		cancel()
		<-done
	}
}

// relistState prints the current state of what o watches, each key as a
// PUT at its revision, for a revision to watch from that was compacted,
// and returns the revision to watch on from and the changes printed.
func (o *watchOptions) relistState(ctx context.Context, b backend.Backend, p printer, from int64, seen int) (int64, int, error) {
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	var kvs []backend.KeyValue
	var rev int64
	if o.prefix {
		res, err := b.List(cctx, strings.TrimSuffix(o.path, "/")+"/", backend.ListOptions{Recurse: backend.MaxDepth, WithValues: true})
		if err != nil {
			return from, seen, opError("watch", o.path, err)
		}
		kvs, rev = res.KVs, res.Revision
	}
	if o.path != "/" {
		kv, r, err := b.Get(cctx, o.path, rev)
		switch {
		case err == nil:
			kvs = append([]backend.KeyValue{kv}, kvs...)
		case !errors.Is(err, backend.ErrNotFound):
			return from, seen, opError("watch", o.path, err)
		}
		if rev == 0 {
			rev = r
		}
	}
	fmt.Fprintf(o.g.env.errOut, "sdpcfg: watch: revision %d was compacted; the state of %s at revision %d follows, then its changes\n", from, o.path, rev)
	for _, kv := range kvs {
		ev := backend.Event{Type: backend.EventPut, KV: kv}
		if err := p.print(newEventItem(ev), func(w io.Writer) { writeEventLine(w, ev) }); err != nil {
			return from, seen, err
		}
		if seen++; o.count > 0 && seen >= o.count {
			break
		}
	}
	o.seen.Store(rev)
	return rev + 1, seen, nil
}

// stream watches from revision from and prints events until --count is
// reached (nil), ctx ends, or the stream fails. It returns the revision to
// resume from and the number of events printed so far.
func (o *watchOptions) stream(ctx context.Context, b backend.Backend, p printer, from int64, seen int) (int64, int, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ws, err := b.Watch(wctx, o.ranges(), from)
	if err != nil {
		return from, seen, err
	}
	defer ws.Close()
	for resp := range ws.Responses() {
		for _, ev := range resp.Events {
			if err := p.print(newEventItem(ev), func(w io.Writer) { writeEventLine(w, ev) }); err != nil {
				return from, seen, err
			}
			from = ev.KV.ModRevision + 1
			o.seen.Store(ev.KV.ModRevision)
			seen++
			if o.count > 0 && seen >= o.count {
				return from, seen, nil
			}
		}
		if resp.Err == nil && resp.Revision >= from {
			from = resp.Revision + 1
			o.seen.Store(resp.Revision)
		}
		if resp.Err != nil {
			if resp.CompactRevision > 0 {
				return from, seen, fmt.Errorf("%w (watch from revision %d or later)", resp.Err, resp.CompactRevision)
			}
			return from, seen, resp.Err
		}
	}
	return from, seen, ctx.Err()
}

// writeEventLine writes the table form of an event.
func writeEventLine(w io.Writer, ev backend.Event) {
	if ev.Type == backend.EventDelete {
		fmt.Fprintf(w, "%d  DELETE  %s\n", ev.KV.ModRevision, ev.KV.Path)
		return
	}
	fmt.Fprintf(w, "%d  PUT     %s  %s\n", ev.KV.ModRevision, ev.KV.Path, oneLine(ev.KV.Value))
}
