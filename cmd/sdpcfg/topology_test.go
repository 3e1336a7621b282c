package main

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/entities/topology"
)

func TestTopologyPushStatusResync(t *testing.T) {
	h := newHarness(t)
	spec := `{"lans": [{"name": "lan0"}], "updated_at": "today"}`
	out := h.ok("topology", "push", "host-1", "lab", spec)
	want, err := topology.Hash(map[string]any{"lans": []any{map[string]any{"name": "lan0"}}})
	assert.NilError(t, err)
	assert.Equal(t, out, "pushed lab to host-1: generation 1, version hash "+want+"\n")
	v, ok := h.value("/topology/desired/host-1")
	assert.Assert(t, ok)
	var d topology.Desired
	assert.NilError(t, json.Unmarshal([]byte(v), &d))
	assert.Equal(t, d.Hash, want)
	assert.Equal(t, d.Generation, int64(1))

	// From stdin, to another agent.
	r := h.runIn(`{"lans": []}`, "topology", "push", "host-2", "lab2", "-")
	assert.Equal(t, r.code, 0, r.err)

	out = h.ok("topology", "status")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Equal(t, len(lines), 3, out)
	assert.Assert(t, strings.HasPrefix(lines[0], "AGENT"), out)
	assert.Assert(t, strings.HasPrefix(lines[1], "host-1  "), out)
	assert.Assert(t, strings.Contains(lines[1], want[:12]), out)
	assert.Assert(t, strings.Contains(lines[1], "none"), out) // no heartbeat

	out = h.ok("topology", "resync", "host-1")
	assert.Equal(t, out, "resync of host-1: lab at generation 2\n")

	var sts []topology.AgentStatus
	assert.NilError(t, json.Unmarshal([]byte(h.ok("-o", "json", "topology", "status", "host-1")), &sts))
	assert.Equal(t, len(sts), 1)
	assert.Equal(t, sts[0].Agent, "host-1")
	assert.Equal(t, sts[0].Desired.Generation, int64(2))

	wantError(t, h.run("topology", "resync", "nobody"), exitNotFound, `"nobody"`)
	wantError(t, h.run("topology", "status", "nobody"), exitError, `"nobody"`)
	wantError(t, h.run("topology", "push", "host-1", "lab", "[1]"), exitUsage, "JSON object")
	wantError(t, h.run("topology", "frob"), exitUsage, `"frob"`)
	wantError(t, h.run("topology"), exitUsage, "subcommand")
	wantError(t, h.run("topology", "push", "host-1"), exitUsage, "push AGENT TOPOLOGY-ID SPEC|-")
}

func TestDemoShowsTopologyRepair(t *testing.T) {
	h := newHarness(t)
	out := h.ok("--backend", "memory", "demo")
	for _, want := range []string{
		"nothing applied: no auto-restore",
		"master: pushed topology demo-lab, generation 1",
		"agent:  applied it",
		"master: drift flagged: " + topology.ReasonObservedError,
		"master: re-pushed it as generation 2",
		"Repaired (2 applies)",
	} {
		assert.Assert(t, strings.Contains(out, want), "%q missing:\n%s", want, out)
	}
}
