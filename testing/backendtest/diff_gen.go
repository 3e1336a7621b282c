package backendtest

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sdpconfig/sdpconfig/backend"
)

// gen generates the steps of one sequence from its seed. The path space is
// small (three segments, depths 1 to 3) so that steps meet on keys; a few
// steps name bad paths, leases and revisions on purpose.
type gen struct {
	rnd     *rand.Rand
	writes  int64 // writes generated so far: about the sequence's revisions
	leases  int
	watches int
	values  int
}

// Generate returns the steps of the sequence seed selects: n random SPI
// calls over a small path space. The same seed always gives the same
// steps.
func Generate(seed int64, n int) []Step {
	g := &gen{rnd: rand.New(rand.NewPCG(uint64(seed), 0x5d9c0f1a))}
	steps := make([]Step, 0, n)
	for len(steps) < n {
		steps = append(steps, g.step())
	}
	return steps
}

func (g *gen) pick(n int) int { return g.rnd.IntN(n) }

func (g *gen) chance(percent int) bool { return g.rnd.IntN(100) < percent }

var diffSegments = []string{"a", "b", "ab"}

// path returns a key path of depth 1 to 3, now and then an invalid one.
func (g *gen) path() string {
	if g.chance(3) {
		return []string{"", "a", "/a/", "//a", "/a//b", "/a\x00"}[g.pick(6)]
	}
	p := ""
	for d := 1 + g.pick(3); d > 0; d-- {
		p += "/" + diffSegments[g.pick(len(diffSegments))]
	}
	return p
}

// prefix returns a prefix to list, watch or delete: "/", a path, or a path
// with a trailing slash.
func (g *gen) prefix() string {
	switch g.pick(4) {
	case 0:
		return "/"
	case 1:
		return "/" + diffSegments[g.pick(len(diffSegments))]
	}
	p := g.path()
	if g.chance(60) {
		p += "/"
	}
	return p
}

func (g *gen) value() string {
	g.values++
	if g.chance(5) {
		return ""
	}
	return "v" + strconv.Itoa(g.values)
}

// rev returns a read revision: mostly the newest or a recent one, now and
// then an old, a future or a compacted one.
func (g *gen) rev() Rev {
	switch p := g.pick(100); {
	case p < 40:
		return Rev{}
	case p < 70:
		return Rev{Cur: true, N: -int64(g.pick(4))}
	case p < 88:
		return Rev{N: 1 + g.rnd.Int64N(g.writes+1)}
	default:
		return Rev{Cur: true, N: 1 + int64(g.pick(2))}
	}
}

// lease returns a lease number to attach a key to: mostly none.
func (g *gen) lease() int {
	if g.leases == 0 || g.chance(70) {
		return 0
	}
	return 1 + g.pick(g.leases+1) // one past the last: never granted
}

// rng returns a watch or compare range: a key, or a prefix at its own or a
// deeper depth.
func (g *gen) rng() backend.Range {
	if g.chance(40) {
		return backend.Key(g.path())
	}
	p := g.prefix()
	depth := 0
	if g.chance(50) {
		depth = backend.Depth(p) + g.pick(3)
	}
	return backend.PrefixAt(p, depth)
}

func (g *gen) step() Step {
	switch p := g.pick(100); {
	case p < 12:
		return Step{Kind: StepGet, Path: g.path(), Rev: g.rev()}
	case p < 22:
		return g.list()
	case p < 36:
		g.writes++
		return Step{Kind: StepCreate, Path: g.path(), Value: g.value(), Lease: g.lease()}
	case p < 46:
		g.writes++
		return Step{Kind: StepUpdate, Path: g.path(), Value: g.value()}
	case p < 53:
		g.writes++
		return g.delete()
	case p < 71:
		g.writes++
		return g.commit()
	case p < 73:
		return Step{Kind: StepRevision}
	case p < 78:
		if g.chance(50) {
			return Step{Kind: StepCompact, Rev: Rev{Cur: true, N: -int64(g.pick(3))}}
		}
		return Step{Kind: StepCompact, Rev: Rev{N: 1 + g.rnd.Int64N(g.writes+2)}}
	case p < 82:
		g.leases++
		ttl := []time.Duration{time.Second, 10 * time.Second, time.Minute, time.Minute}[g.pick(4)]
		return Step{Kind: StepGrant, Lease: g.leases, TTL: ttl}
	case p < 84:
		if g.leases == 0 {
			return Step{Kind: StepRevision}
		}
		g.writes++
		return Step{Kind: StepRevoke, Lease: 1 + g.pick(g.leases)}
	case p < 90:
		return g.watch()
	case p < 97:
		if g.watches == 0 {
			return g.watch()
		}
		return Step{Kind: StepDrain, Watch: 1 + g.pick(g.watches)}
	default:
		if g.watches == 0 {
			return Step{Kind: StepRevision}
		}
		return Step{Kind: StepUnwatch, Watch: 1 + g.pick(g.watches)}
	}
}

func (g *gen) list() Step {
	opts := backend.ListOptions{WithValues: g.chance(50)}
	switch g.pick(4) {
	case 0:
		opts.Recurse = g.pick(3)
	case 1:
		opts.Depths = []int{}
		for n := g.pick(3); n > 0; n-- {
			opts.Depths = append(opts.Depths, g.pick(3))
		}
	}
	if g.chance(25) {
		opts.Limit = 1 + g.pick(3)
	}
	if g.chance(20) {
		opts.After = g.path()
	}
	return Step{Kind: StepList, Path: g.prefix(), Rev: g.rev(), List: opts}
}

func (g *gen) delete() Step {
	opts := backend.DeleteOptions{MustExist: g.chance(30), Recursive: g.chance(30), Prefix: g.chance(30)}
	if opts.Recursive && g.chance(30) {
		opts.MaxDepth = 1 + g.pick(2)
	}
	p := g.path()
	if opts.Prefix {
		p = g.prefix()
	}
	return Step{Kind: StepDelete, Path: p, Delete: opts}
}

func (g *gen) commit() Step {
	var t backend.Txn
	for n := g.pick(4); n > 0; n-- {
		t.If = append(t.If, g.compare())
	}
	for n := g.pick(4); n > 0; n-- {
		t.Then = append(t.Then, g.op())
	}
	for n := g.pick(3); n > 0; n-- {
		t.Else = append(t.Else, g.op())
	}
	s := Step{Kind: StepCommit, Txn: t}
	if g.chance(3) { // over the op limit of etcd's default settings
		s.Bulk = defaultMaxTxnOps + 1 - len(t.Then)
	}
	if g.chance(30) {
		s.Reads = []string{g.path(), g.path()}
	}
	return s
}

// defaultMaxTxnOps is etcd's default --max-txn-ops.
const defaultMaxTxnOps = 128

func (g *gen) compare() backend.Compare {
	c := backend.Compare{
		Range:  g.rng(),
		Target: backend.CompareTarget(1 + g.pick(3)),
		Op:     backend.CompareOp(1 + g.pick(4)),
	}
	if c.Target == backend.Version {
		c.Value = int64(g.pick(4))
	} else {
		c.Value = g.rnd.Int64N(g.writes + 2)
	}
	return c
}

func (g *gen) op() backend.Op {
	if g.chance(70) {
		return backend.Put(g.path(), g.value(), backend.LeaseID(g.lease()))
	}
	return backend.Delete(g.rng())
}

func (g *gen) watch() Step {
	g.watches++
	rs := []backend.Range{g.rng()}
	if g.chance(40) {
		rs = append(rs, g.rng())
	}
	rev := Rev{}
	switch g.pick(4) {
	case 0:
		rev = Rev{N: 1 + g.rnd.Int64N(g.writes+1)}
	case 1:
		rev = Rev{Cur: true, N: -int64(g.pick(4))}
	case 2:
		rev = Rev{Cur: true, N: 1 + int64(g.pick(3))}
	}
	return Step{Kind: StepWatch, Watch: g.watches, Ranges: rs, Rev: rev}
}
