package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
)

var diffCommand = &command{
	name:  "diff",
	args:  "PATH",
	short: "show how a key changed between two revisions",
	long: `
Shows, as a unified diff, how the value of the key PATH changed between
revision A and revision B (--rev A --rev B), or between revision A and now
(--rev A alone). JSON values are compared as ska-sdp-config writes them
(sorted keys, 2-space indent), so only real changes show; other values
line by line. A key absent at a revision compares as empty. Nothing is
printed when the values are the same. Use 'sdpcfg history PATH' to find
the revisions.

Examples:
  sdpcfg diff --rev 12 /pb/pb-1
  sdpcfg diff --rev 12 --rev 15 /pb/pb-1/state`,
	newRunner: func(g *globalOptions) runner { return &diffOptions{g: g} },
}

// diffOptions are the options of diff.
type diffOptions struct {
	g    *globalOptions
	revs []int64
	path string
}

func (o *diffOptions) addFlags(fs *pflag.FlagSet) {
	fs.Int64SliceVar(&o.revs, "rev", nil, "a revision to compare: once (against now) or twice")
}

func (o *diffOptions) complete(args []string) error {
	if err := wantArgs("diff", args, 1, 1, "PATH"); err != nil {
		return err
	}
	var err error
	o.path, err = cleanPath("diff", args[0], false)
	return err
}

func (o *diffOptions) validate() error {
	if len(o.revs) < 1 || len(o.revs) > 2 {
		return usagef("diff: want --rev A, or --rev A --rev B (see 'sdpcfg diff --help')")
	}
	for _, r := range o.revs {
		if r <= 0 {
			return usagef("diff: --rev %d: must be positive", r)
		}
	}
	return nil
}

func (o *diffOptions) run(ctx context.Context) error {
	c, err := o.g.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	cctx, cancel := o.g.rpc(ctx)
	defer cancel()
	b := c.Backend()
	revs := o.revs
	if len(revs) == 1 {
		now, err := b.Revision(cctx)
		if err != nil {
			return opError("diff", o.path, err)
		}
		revs = append(revs, now)
	}
	var texts [2][]string
	found := false
	for i, rev := range revs {
		kv, _, err := b.Get(cctx, o.path, rev)
		switch {
		case errors.Is(err, backend.ErrNotFound):
		case err != nil:
			return opError("diff", o.path, fmt.Errorf("at revision %d: %w", rev, err))
		default:
			found = true
			texts[i] = diffLines(kv.Value)
		}
	}
	if !found {
		return fmt.Errorf("diff %s: the key exists at neither revision %d nor %d: %w", o.path, revs[0], revs[1], backend.ErrNotFound)
	}
	hunks := unifiedDiff(texts[0], texts[1], 3)
	if hunks == "" {
		return nil
	}
	fmt.Fprintf(o.g.env.out, "--- %s at revision %d\n+++ %s at revision %d\n%s", o.path, revs[0], o.path, revs[1], hunks)
	return nil
}

// diffLines splits a value into the lines diff compares: JSON as
// ska-sdp-config writes it, anything else as it is.
func diffLines(value string) []string {
	if v, err := parseJSON(value); err == nil {
		if out, err := config.Marshal(v); err == nil {
			value = out
		}
	}
	return strings.Split(strings.TrimSuffix(value, "\n"), "\n")
}

// unifiedDiff returns the hunks of a unified diff of a and b with context
// lines around each change, "" when they are equal.
func unifiedDiff(a, b []string, context int) string {
	ops := diffOps(a, b)
	var out strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from context lines before this change to context lines
		// after the last change closer than 2*context to the next.
		start := max(i-context, 0)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j
			} else if j-end > 2*context {
				break
			}
		}
		stop := min(end+context+1, len(ops))
		var aStart, aN, bStart, bN int
		aStart, bStart = ops[start].a+1, ops[start].b+1
		var body strings.Builder
		for _, op := range ops[start:stop] {
			body.WriteString(string(op.kind) + op.line + "\n")
			if op.kind != '+' {
				aN++
			}
			if op.kind != '-' {
				bN++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n%s", hunkRange(aStart, aN), hunkRange(bStart, bN), body.String())
		i = stop
	}
	return out.String()
}

// hunkRange is a hunk header's range: "3,4", or "2,0" for no lines.
func hunkRange(start, n int) string {
	if n == 0 {
		start--
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// diffOp is one line of a diff: ' ' kept, '-' removed from a, '+' added
// from b; a and b are the line's index (or the next line's) in each.
type diffOp struct {
	kind byte
	line string
	a, b int
}

// diffOps aligns a and b by their longest common subsequence of lines.
func diffOps(a, b []string) []diffOp {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], i, j})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], i, j})
			j++
		}
	}
	return ops
}
