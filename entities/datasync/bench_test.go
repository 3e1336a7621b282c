package datasync

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/config"
)

// benchMappings are three mappings over parents and children: parents both
// ways, left children to the right and right children to the left, the
// children keyed on name and parent (a reference translated through links).
func benchMappings() []Mapping {
	return []Mapping{
		{Left: "P", Right: "Q", Keys: []AttributeMap{Attr("name", "name")}, Attributes: []AttributeMap{Attr("x", "y")}},
		{Left: "C", Right: "D", Modes: LeftToRight, Keys: []AttributeMap{Attr("name", "name"), RefAttr("parent", "parent", "P", "Q")}, Attributes: []AttributeMap{Attr("v", "v")}},
		{Left: "C", Right: "D", Modes: RightToLeft, Keys: []AttributeMap{Attr("name", "name"), RefAttr("parent", "parent", "P", "Q")}, Attributes: []AttributeMap{Attr("v", "v")}},
	}
}

// loadBench writes n entities per side: n/10 parents with the same names
// on both sides, and 9n/10 children, half of the right ones matching left
// ones, the others new.
func loadBench(tb testing.TB, c *config.Config, l, r *StoreSource, n int) {
	ctx := context.Background()
	parents := n / 10
	batch := func(src *StoreSource, es []Entity) {
		for i := 0; i < len(es); i += 100 {
			end := min(i+100, len(es))
			if err := c.Txn(ctx, func(t *config.Txn) error {
				for _, e := range es[i:end] {
					if err := src.Kind(e.Type).Create(t, e.ID, e); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var le, re []Entity
	for i := 0; i < parents; i++ {
		le = append(le, Entity{Type: "P", ID: fmt.Sprintf("p%d", i), Attrs: map[string]any{"name": fmt.Sprint("parent-", i), "x": i}, UpdatedAt: t0})
		re = append(re, Entity{Type: "Q", ID: fmt.Sprintf("q%d", i), Attrs: map[string]any{"name": fmt.Sprint("parent-", i)}, UpdatedAt: t0})
	}
	for i := 0; i < n-parents; i++ {
		p := i % parents
		le = append(le, Entity{Type: "C", ID: fmt.Sprintf("c%d", i), Attrs: map[string]any{"name": fmt.Sprint("child-", i), "v": i}, Refs: map[string]Ref{"parent": {Type: "P", ID: fmt.Sprintf("p%d", p)}}, UpdatedAt: t0})
		name := fmt.Sprint("child-", i)
		if i%2 == 1 {
			name = fmt.Sprint("right-child-", i)
		}
		re = append(re, Entity{Type: "D", ID: fmt.Sprintf("d%d", i), Attrs: map[string]any{"name": name}, Refs: map[string]Ref{"parent": {Type: "Q", ID: fmt.Sprintf("q%d", p)}}, UpdatedAt: t0})
	}
	batch(l, le)
	batch(r, re)
}

// readAll is the baseline: one read of every type of both sides and of the
// links.
func readAll(ctx context.Context, s *Syncer) error {
	for _, sd := range []Side{Left, Right} {
		for _, typ := range map[Side][]string{Left: {"P", "C"}, Right: {"Q", "D"}}[sd] {
			if _, err := s.sources[sd].Find(ctx, typ, nil); err != nil {
				return err
			}
		}
	}
	_, err := s.links.All(ctx)
	return err
}

func newBenchSyncer(tb testing.TB, n int) (*Syncer, *config.Config) {
	b := memory.New()
	tb.Cleanup(func() { b.Close() })
	c := config.New(b, config.Options{})
	tb.Cleanup(func() { c.Close() })
	l, _ := NewStoreSource(c, "L", "/bench/left")
	r, _ := NewStoreSource(c, "R", "/bench/right")
	links, _ := NewLinks(c, "/bench/links")
	loadBench(tb, c, l, r, n)
	s, err := NewSyncer(l, r, links, benchMappings(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s, c
}

// TestBenchShapeConverges checks the benchmark's data on a small scale:
// every child ends up on both sides, and the second run does nothing.
func TestBenchShapeConverges(t *testing.T) {
	ctx := context.Background()
	s, _ := newBenchSyncer(t, 200)
	runs, err := s.Converge(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("converged in %d runs, want 2 (one that changes, one that does not)", len(runs))
	}
	cs, _ := s.sources[Left].Find(ctx, "C", nil)
	ds, _ := s.sources[Right].Find(ctx, "D", nil)
	// 180 left children, 180 right ones of which 90 match: 270 on each side.
	if len(cs) != 270 || len(ds) != 270 {
		t.Fatalf("C %d, D %d: want 270 each", len(cs), len(ds))
	}
	if got := len(runs[1].Ops); got != 0 {
		t.Fatalf("second run made %d operations", got)
	}
}

// BenchmarkNoopRun converges a sync of 10,000 entities per side with three
// mappings (outside the timer, reported as converge-s), then times a run
// that finds nothing to do against one read of both sides and their links
// (noop/read is the ratio of the two, in the same run).
func BenchmarkNoopRun(b *testing.B) {
	ctx := context.Background()
	s, _ := newBenchSyncer(b, 10000)
	start := time.Now()
	runs, err := s.Converge(ctx, 5)
	if err != nil {
		b.Fatal(err)
	}
	converge := time.Since(start)
	changes := Changes(runs[0].Ops)
	var noop, read time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t1 := time.Now()
		if err := readAll(ctx, s); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		r, err := s.Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Ops) != 0 {
			b.Fatalf("no-op run made %d operations", len(r.Ops))
		}
		noop += time.Since(t2)
		read += t2.Sub(t1)
	}
	b.ReportMetric(read.Seconds()*1000/float64(b.N), "read-ms")
	b.ReportMetric(noop.Seconds()*1000/float64(b.N), "noop-ms")
	b.ReportMetric(float64(noop)/float64(read), "noop/read")
	b.ReportMetric(converge.Seconds(), "converge-s")
	b.ReportMetric(float64(changes), "changes")
}
