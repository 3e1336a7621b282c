package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/internal/demo"
)

// The help of demo lists every step the demo runs, with what it shows.
func TestDemoHelpListsEveryStep(t *testing.T) {
	h := newHarness(t)
	help := h.ok("demo", "--help")
	steps := demo.Steps()
	assert.Assert(t, strings.Contains(help, fmt.Sprintf("in %d steps", len(steps))), help)
	for i, s := range steps {
		assert.Assert(t, strings.Contains(help, fmt.Sprintf("  %d. %-9s %s", i+1, s.Name, strings.Fields(s.Shows)[0])), "step %s:\n%s", s.Name, help)
	}
}

// checkDemoOutput checks what every demo prints, whatever its store.
func checkDemoOutput(t *testing.T, out string, blocks int) {
	t.Helper()
	for i, step := range demo.Steps() {
		assert.Assert(t, strings.Contains(out, "== "+string(rune('1'+i))+". "+step.Name+"\n"+demo.Wrap(step.Shows, 76, "")+"\n"), "step %s or what it shows missing:\n%s", step.Name, out)
	}
	assert.Assert(t, strings.Contains(out, `"script": {`), out)
	writer := regexp.MustCompile(`writer:  (\S+) \S+ -> (\S+) \(revision (\d+)\)`).FindAllStringSubmatch(out, -1)
	assert.Equal(t, len(writer), 2*blocks)
	// The demo waits for the watcher after each change: it reports every
	// one, right after the writer's line, at the writer's revision.
	for _, w := range writer {
		want := "\nwatcher: " + w[1] + " is " + w[2]
		i := strings.Index(out, w[0])
		assert.Assert(t, i >= 0 && strings.HasPrefix(out[i+len(w[0]):], want), "watcher missed %s %s:\n%s", w[1], w[2], out)
		assert.Assert(t, strings.Contains(out, "Changed, revision "+w[3]+")"), out)
	}
	assert.Assert(t, strings.Contains(out, fmt.Sprintf("iteration(s) over one watch stream saw %d state change(s)", 2*blocks)), out)
	assert.Assert(t, strings.Contains(out, "FAILED"), out)
	assert.Assert(t, strings.Contains(out, "Done in "), out)
}

func TestDemoOnEmbeddedEtcd(t *testing.T) {
	h := newHarness(t)
	var out, errOut syncBuffer
	e := h.env("", &out, &errOut)
	e.open = config.OpenSettings // the real store the demo starts
	code := e.run(context.Background(), []string{"demo"})
	assert.Equal(t, code, 0, errOut.String())
	assert.Equal(t, errOut.String(), "")
	checkDemoOutput(t, out.String(), 3)
	m := regexp.MustCompile(`started an embedded etcd at http://127\.0\.0\.1:\d+\n\(data in (\S+), removed at the end\)`).FindStringSubmatch(out.String())
	assert.Assert(t, m != nil, out.String())
	_, err := os.Stat(m[1])
	assert.Assert(t, os.IsNotExist(err), "the demo left its data directory %s", m[1])
}

func TestDemoOnConfiguredStoreCleansUp(t *testing.T) {
	h := newHarness(t)
	h.put("/pb/someone-elses", "{}")
	h.vars[config.EnvEndpoints] = "10.0.0.1:2379" // a configured store: the harness's
	out := h.ok("demo", "--blocks", "2")
	checkDemoOutput(t, out, 2)
	assert.Assert(t, strings.Contains(out, "Using the etcd at http://10.0.0.1:2379, as configured"), out)
	assert.Assert(t, strings.Contains(out, "Deleted the sample keys."), out)
	// Only what the demo wrote is gone.
	assert.Equal(t, h.ok("ls", "-R", "/"), "/pb/someone-elses\n")

	h.ok("demo", "--keep", "--blocks", "1")
	assert.Equal(t, len(strings.Split(strings.TrimSpace(h.ok("ls", "-R", "/")), "\n")), 4) // eb, pb, state + the other
}

func TestDemoOnMemory(t *testing.T) {
	h := newHarness(t)
	out := h.ok("--backend", "memory", "demo")
	checkDemoOutput(t, out, 3)
	assert.Assert(t, strings.Contains(out, "in-memory store"), out)
	wantError(t, h.run("demo", "--blocks", "0"), exitUsage, "--blocks 0")
}

func TestDemoInterrupted(t *testing.T) {
	h := newHarness(t)
	h.vars[config.EnvEndpoints] = "10.0.0.1:2379"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := h.runCtx(ctx, "", "demo")
	assert.Equal(t, r.code, 0, r.err)
	assert.Assert(t, strings.HasSuffix(r.out, "interrupted\n"), r.out)
}
