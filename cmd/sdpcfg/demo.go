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
	name:      "demo",
	args:      "",
	short:     "a short tour of sdpconfig on an embedded etcd",
	long:      demoHelp(),
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
	name  string
	shows string // one sentence: what the step shows, for the help and the output
	run   func(d *demoRun, ctx context.Context) error
}

// demoSteps returns the steps of the demo, in order.
func demoSteps() []demoStep {
	return []demoStep{
		{"store", "An etcd to run on: an embedded one in a temporary directory, unless a store is configured (--endpoints, SDP_CONFIG_ENDPOINTS, SDP_CONFIG_HOST or SDP_CONFIG_PORT, or --backend memory).", (*demoRun).openStore},
		{"sample", "Sample configuration as ska-sdp-config lays it out, written in one transaction: an execution block and processing blocks (/eb/ID, /pb/ID) with their state sub-keys (/pb/ID/state).", (*demoRun).writeSample},
		{"watch", "A caching watcher loop (Config.Watcher) that reads the blocks' states, prints what changed, and sleeps until a key it read changes.", (*demoRun).startWatch},
		{"changes", "The processing blocks moved through their states, one transaction per change, each reported by the watcher.", (*demoRun).makeChanges},
		{"sync", "The data-sync controller converging two sources held in the store, the Daphne and Desire databases of the synchronizer framework's demo, by the five mappings of a spec.", (*demoRun).demoSync},
		{"netobj", "The network-object controller applying a host's desired bridge, veth, address and route in dependency order and repairing drift, on a simulated (in-memory) driver that touches no real interface; for real, run netobj.Controller with netlinkdriver.New as root (see docs/netobj.md).", (*demoRun).demoNetobj},
		{"topology", "The topology controller: an agent heartbeating on a lease, and a master pushing a topology that the agent reports applied.", (*demoRun).demoTopology},
		{"summary", "What the watcher saw and where its reads came from; on a configured store the sample keys are deleted unless --keep is given.", (*demoRun).summary},
	}
}

// demoHelp is the help of demo, listing its steps as demoSteps has them.
func demoHelp() string {
	var b strings.Builder
	steps := demoSteps()
	fmt.Fprintf(&b, "\nRuns a tour of sdpconfig in %d steps, in a few seconds, then exits by\nitself:\n\n", len(steps))
	for i, s := range steps {
		fmt.Fprintf(&b, "  %d. %-9s %s\n", i+1, s.name, wrap(s.shows, 60, "               "))
	}
	b.WriteString(`
Nothing needs to be set up: 'go run ./cmd/sdpcfg demo' works on a fresh
machine. The first 'go run' compiles etcd into sdpcfg, which takes minutes
on a small machine; 'go install ./cmd/sdpcfg' once, then 'sdpcfg demo',
starts in a second.`)
	return b.String()
}

// wrap breaks text into lines of at most width characters, indenting the
// lines after the first with indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		switch {
		case i == 0:
		case n+1+len(w) > width:
			b.WriteString("\n" + indent)
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

func (o *demoOptions) run(ctx context.Context) error {
	d := &demoRun{o: o, out: &lineWriter{w: o.g.env.out}, start: time.Now(), runID: fmt.Sprintf("%04x", rand.IntN(0x10000))}
	defer d.close()
	for i, s := range demoSteps() {
		d.out.printf("\n== %d. %s\n%s\n", i+1, s.name, wrap(s.shows, 76, ""))
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
