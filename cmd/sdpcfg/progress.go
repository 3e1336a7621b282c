package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressMin is the smallest number of keys that gets a progress bar.
const progressMin = 1000

// progress draws a progress bar on stderr when it is a terminal and the
// work is large; otherwise it does nothing.
type progress struct {
	w     io.Writer // nil: no bar
	total int
	last  time.Time
}

// newProgress returns a bar for total items.
func newProgress(e *env, total int) *progress {
	p := &progress{total: total}
	if total >= progressMin && e.isTerminal(e.errOut) {
		p.w = e.errOut
	}
	return p
}

// set shows that n items are done, at most ten times a second.
func (p *progress) set(n int) {
	if p.w == nil || (n < p.total && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := width * n / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d keys %3d%%", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), n, p.total, 100*n/p.total)
}

// done ends the bar's line.
func (p *progress) done() {
	if p.w != nil {
		fmt.Fprintln(p.w)
	}
}
