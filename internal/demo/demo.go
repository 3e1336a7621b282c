// Package demo is the tour of sdpconfig that 'sdpcfg demo' runs: a store,
// sample configuration as ska-sdp-config lays it out, a caching watcher
// following it, and the three controllers at work, each step built only on
// the public API of the package it shows. The command opens the store
// (Options.Open); everything else happens here.
package demo

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/sdpconfig/sdpconfig/config"
)

// Options configure a Run.
type Options struct {
	// Out receives what the demo prints.
	Out io.Writer
	// Blocks is the number of sample processing blocks (1 to 50).
	Blocks int
	// Keep keeps the sample keys on a store the demo does not own.
	Keep bool
	// Pace is the pause between changes, so that a person can follow; 0
	// for none.
	Pace time.Duration
	// Open opens the store the demo runs on (step 1).
	Open func(ctx context.Context) (Store, error)
	// RPC bounds one request, as the command's --timeout does.
	RPC func(ctx context.Context) (context.Context, context.CancelFunc)
}

// Store is the store a demo runs on, as Options.Open returns it.
type Store struct {
	// Config is the open store. Run closes it.
	Config *config.Config
	// Owned says the store is the demo's own (embedded or in memory): its
	// sample keys are left, and the controllers use their own prefixes.
	Owned bool
	// Embedded says an embedded etcd was started for the demo.
	Embedded bool
	// Describe says what the store is, in a sentence or two.
	Describe string
	// Close releases what Open set up besides Config (a server, its data
	// directory); nil for nothing.
	Close func()
}

// Step is one step of the demo.
type Step struct {
	// Name is the step's short name.
	Name string
	// Shows is one sentence: what the step shows, for the help and the
	// output.
	Shows string
	run   func(d *demoRun, ctx context.Context) error
}

// demoRun is the state of one demo, shared by its steps.
type demoRun struct {
	opts    Options
	out     *lineWriter
	start   time.Time
	runID   string // makes the sample ids unique on a shared store
	store   Store
	cfg     *config.Config
	owned   bool // the store is the demo's own (embedded or memory)
	ebID    string
	pbIDs   []string
	writes  int   // transactions the demo committed
	lastRev int64 // revision of the demo's last write
	watch   *demoWatch
}

// Steps returns the steps of the demo, in order.
func Steps() []Step {
	return []Step{
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

// Run runs every step in order, printing to opts.Out. An interruption
// (ctx ending) prints "interrupted" and returns nil.
func Run(ctx context.Context, opts Options) error {
	d := &demoRun{opts: opts, out: &lineWriter{w: opts.Out}, start: time.Now(), runID: fmt.Sprintf("%04x", rand.IntN(0x10000))}
	defer d.close()
	for i, s := range Steps() {
		d.out.printf("\n== %d. %s\n%s\n", i+1, s.Name, Wrap(s.Shows, 76, ""))
		if err := s.run(d, ctx); err != nil {
			if ctx.Err() != nil {
				d.out.printf("interrupted\n")
				return nil
			}
			return fmt.Errorf("demo: %s: %w", s.Name, err)
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
	if d.store.Close != nil {
		d.store.Close()
	}
}

// pause waits the demo's pace between changes.
func (d *demoRun) pause(ctx context.Context) error {
	if d.opts.Pace <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d.opts.Pace)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wrap breaks text into lines of at most width characters, indenting the
// lines after the first with indent.
func Wrap(text string, width int, indent string) string {
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
