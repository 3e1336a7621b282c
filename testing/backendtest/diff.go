package backendtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// DiffOptions configure Diff.
type DiffOptions struct {
	// Seed is the first sequence's seed; sequence i has seed Seed+i.
	Seed int64
	// Sequences is how many sequences to run (default 100).
	Sequences int
	// Steps is the length of each sequence (default 40).
	Steps int
	// Wait bounds each wait for a watch to catch up (default 30 s, or what
	// is left of the test's deadline, divided among the steps to come).
	Wait time.Duration
	// MaxShrinks bounds the replays spent shrinking a diverging sequence
	// (default 400).
	MaxShrinks int
	// KeepGoing runs every sequence even after one diverged, to count
	// them: the first is shrunk and printed, the others are listed by
	// seed with their first differing step.
	KeepGoing bool
}

func (o DiffOptions) withDefaults() DiffOptions {
	if o.Sequences <= 0 {
		o.Sequences = 100
	}
	if o.Steps <= 0 {
		o.Steps = 40
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	if o.MaxShrinks <= 0 {
		o.MaxShrinks = 400
	}
	return o
}

// Diff is the differential random test of two backends: it generates
// seeded sequences of SPI calls (Generate), applies each to a fresh
// backend from newA and one from newB, and compares every outcome: values,
// revisions (relative to the sequence's first), errors by sentinel, lease
// TTLs, and watch events with their previous values and final errors. Run
// a backend against the memory backend or a real etcd to find where it
// differs, as Run checks the cases written down.
//
// newA and newB must return open, empty backends (or fresh prefixes of a
// shared store nothing else writes to); Diff closes them. On the first
// diverging sequence Diff shrinks it to a minimal one that still diverges
// and fails the test, printing that sequence as a test to paste, for
// Replay.
func Diff(t *testing.T, newA, newB func(t *testing.T) backend.Backend, opts DiffOptions) {
	t.Helper()
	opts = opts.withDefaults()
	t.Logf("differential test: %d sequences of %d steps from seed %d", opts.Sequences, opts.Steps, opts.Seed)
	var diverged []string
	for i := 0; i < opts.Sequences; i++ {
		seed := opts.Seed + int64(i)
		steps := Generate(seed, opts.Steps)
		d := runPair(t, newA, newB, steps, opts.Wait)
		if d == nil {
			continue
		}
		if len(diverged) > 0 {
			diverged = append(diverged, fmt.Sprintf("seed %d, step %d %s: A → %s; B → %s", seed, d.step, d.s.Kind, d.a, d.b))
			continue
		}
		minimal := shrink(t, newA, newB, steps, opts)
		if md := runPair(t, newA, newB, minimal, opts.Wait); md != nil {
			d = md
		} else {
			minimal = steps
		}
		msg := fmt.Sprintf("sequence %d (seed %d) diverges after %d of %d sequences agreed:\n%s\nminimal sequence (%d steps):\n\n%s",
			i, seed, i, opts.Sequences, d, len(minimal), replayTest(seed, minimal))
		if !opts.KeepGoing {
			t.Fatal(msg)
		}
		t.Error(msg)
		diverged = append(diverged, fmt.Sprintf("seed %d, step %d %s (above)", seed, d.step, d.s.Kind))
	}
	if len(diverged) > 0 {
		t.Fatalf("differential test: %d of %d sequences agree; diverging:\n%s", opts.Sequences-len(diverged), opts.Sequences, strings.Join(diverged, "\n"))
	}
	t.Logf("differential test: %d of %d sequences agree", opts.Sequences, opts.Sequences)
}

// Replay applies steps to a fresh backend from newA and one from newB and
// fails the test at the first outcome that differs, as Diff does for a
// generated sequence.
func Replay(t *testing.T, newA, newB func(t *testing.T) backend.Backend, steps []Step) {
	t.Helper()
	if d := runPair(t, newA, newB, steps, DiffOptions{}.withDefaults().Wait); d != nil {
		t.Fatal(d)
	}
}

// divergence is the first step whose outcomes differ.
type divergence struct {
	step   int
	s      Step
	a, b   string
	before []string // the outcomes of the steps before, the same on both
}

func (d *divergence) String() string {
	var b strings.Builder
	for i, o := range d.before {
		fmt.Fprintf(&b, "  step %d: %s\n", i, o)
	}
	if len(d.before) > 0 {
		b.WriteString("  (the same on both up to here)\n")
	}
	fmt.Fprintf(&b, "  step %d: %s\n    A → %s\n    B → %s", d.step, d.s, d.a, d.b)
	return b.String()
}

// runPair applies steps to a fresh backend of each kind, in turn, and
// returns the first divergence, or nil.
func runPair(t *testing.T, newA, newB func(t *testing.T) backend.Backend, steps []Step, wait time.Duration) *divergence {
	t.Helper()
	outA := runSteps(t, newA, steps, wait)
	outB := runSteps(t, newB, steps, wait)
	for i := range steps {
		if outA[i] != outB[i] {
			before := make([]string, 0, i)
			for j := 0; j < i; j++ {
				before = append(before, fmt.Sprintf("%s = %s", steps[j], outA[j]))
			}
			return &divergence{step: i, s: steps[i], a: outA[i], b: outB[i], before: before}
		}
	}
	return nil
}

// runSteps applies steps to a fresh backend and returns their outcomes.
func runSteps(t *testing.T, newB func(t *testing.T) backend.Backend, steps []Step, wait time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := newB(t)
	if b == nil {
		t.Fatal("differential test: the backend constructor returned nil")
	}
	defer b.Close()
	r, err := newRunner(ctx, b, wait)
	if err != nil {
		t.Fatalf("differential test: %v", err)
	}
	defer r.close()
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = r.apply(s)
	}
	return out
}

// shrink returns a shorter sequence that still diverges: it drops chunks
// of steps, halving the chunk size, then single steps, while the
// sequence diverges without them, within opts.MaxShrinks replays.
func shrink(t *testing.T, newA, newB func(t *testing.T) backend.Backend, steps []Step, opts DiffOptions) []Step {
	t.Helper()
	tries := 0
	for chunk := len(steps) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i+chunk <= len(steps) && tries < opts.MaxShrinks; {
			candidate := append(append([]Step(nil), steps[:i]...), steps[i+chunk:]...)
			tries++
			if runPair(t, newA, newB, candidate, opts.Wait) != nil {
				steps = candidate
				continue
			}
			i += chunk
		}
	}
	return steps
}

// replayTest formats steps as a test calling Replay.
func replayTest(seed int64, steps []Step) string {
	var b strings.Builder
	fmt.Fprintf(&b, "func TestDiffSeed%d(t *testing.T) {\n", seed)
	b.WriteString("\tbackendtest.Replay(t, newA, newB, []backendtest.Step{\n")
	for _, s := range steps {
		fmt.Fprintf(&b, "\t\t%#v,\n", s)
	}
	b.WriteString("\t})\n}\n")
	return b.String()
}
