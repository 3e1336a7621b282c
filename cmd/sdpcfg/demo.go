package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/etcdserver"
)

var demoCommand = &command{
	name:  "demo",
	args:  "",
	short: "a short tour of sdpconfig on an embedded etcd",
	long: `
Runs a tour of sdpconfig in a few seconds, then exits by itself:

  1. store    starts an embedded etcd in a temporary directory, unless a
              store is configured (--endpoints, SDP_CONFIG_ENDPOINTS,
              SDP_CONFIG_HOST or SDP_CONFIG_PORT, or --backend memory)
  2. sample   writes sample configuration as ska-sdp-config lays it out: an
              execution block and processing blocks (/eb/ID, /pb/ID) with
              their state sub-keys (/pb/ID/state), in one transaction
  3. watch    starts a caching watcher loop (Config.Watcher) that reads
              the blocks' states and prints what changed, then sleeps
              until a key it read changes
  4. changes  moves the processing blocks through their states, one
              transaction per change, while the watcher reports them
  5. summary  waits until the watcher has seen the last change, then
              prints what happened (and, on a configured store, deletes
              the sample keys unless --keep is given)

Nothing needs to be set up: 'go run ./cmd/sdpcfg demo' works on a fresh
machine.`,
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

// demoRun is the state of one demo, shared by its steps.
type demoRun struct {
	o       *demoOptions
	out     *lineWriter
	start   time.Time
	runID   string // makes the sample ids unique on a shared store
	cfg     *config.Config
	srv     *etcdserver.Server // the embedded etcd, if the demo started one
	tmpDir  string             // its data directory, removed at the end
	owned   bool               // the store is the demo's own (embedded or memory)
	ebID    string
	pbIDs   []string
	writes  int   // transactions the demo committed
	lastRev int64 // revision of the demo's last write
	watch   *demoWatch
}

// demoStep is one step of the demo. Later features add steps (controllers)
// to demoSteps.
type demoStep struct {
	name string
	run  func(d *demoRun, ctx context.Context) error
}

// demoSteps returns the steps of the demo, in order.
func demoSteps() []demoStep {
	return []demoStep{
		{"store", (*demoRun).openStore},
		{"sample", (*demoRun).writeSample},
		{"watch", (*demoRun).startWatch},
		{"changes", (*demoRun).makeChanges},
		{"sync", (*demoRun).demoSync},
		{"netobj", (*demoRun).demoNetobj},
		{"topology", (*demoRun).demoTopology},
		{"summary", (*demoRun).summary},
	}
}

func (o *demoOptions) run(ctx context.Context) error {
	d := &demoRun{o: o, out: &lineWriter{w: o.g.env.out}, start: time.Now(), runID: fmt.Sprintf("%04x", rand.IntN(0x10000))}
	defer d.close()
	for i, s := range demoSteps() {
		d.out.printf("\n== %d. %s\n", i+1, s.name)
		if err := s.run(d, ctx); err != nil {
			if ctx.Err() != nil {
				d.out.printf("interrupted\n")
				return nil
			}
			return fmt.Errorf("demo: %s: %w", s.name, err)
		}
	}
	return nil
}

// close releases what the steps set up, in reverse order.
func (d *demoRun) close() {
	if d.watch != nil {
		d.watch.stop()
	}
	if d.cfg != nil {
		d.cfg.Close()
	}
	if d.srv != nil {
		d.srv.Close()
	}
	if d.tmpDir != "" {
		os.RemoveAll(d.tmpDir)
	}
}

// pause waits the demo's pace between changes, so that a person can follow.
func (d *demoRun) pause(ctx context.Context) error {
	pace := d.o.g.env.demoPace
	if pace <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(pace)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// lineWriter serialises the lines the demo and its watcher print.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// locked runs f holding the writer, so that what f prints comes before
// any line printed meanwhile by other goroutines.
func (l *lineWriter) locked(f func(printf func(format string, args ...any))) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(func(format string, args ...any) { fmt.Fprintf(l.w, format, args...) })
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
