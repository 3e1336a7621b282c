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
	wantError(t, h.run("topology", "status", "nobody"), exitNotFound, `"nobody"`)
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

// The details of the topology commands: one JSON object and nothing after
// it, a not-found status exits 3, one prefix per message.
func TestTopologyCLIDetails(t *testing.T) {
	h := newHarness(t)
	wantError(t, h.run("topology", "push", "host-1", "lab", `{"a":1} xyz`), exitUsage, "sdpcfg: topology push: SPEC is not valid JSON: line 1, column 9: text after the JSON value")
	wantError(t, h.run("topology", "push", "host-1", "lab", `null`), exitUsage, "sdpcfg: topology push: SPEC must be a JSON object, not null")
	wantError(t, h.run("topology", "push", "host-1", "lab", `[1]`), exitUsage, "SPEC must be a JSON object, not an array")
	r := h.run("topology", "push", "host-1", "lab", `null`)
	assert.Assert(t, !strings.Contains(r.err, "topology push: topology push") && !strings.Contains(r.err, "<nil>"), r.err)
	_, ok := h.value("/topology/desired/host-1")
	assert.Assert(t, !ok, "nothing pushed")
	wantError(t, h.run("topology", "status", "nope"), exitNotFound, `topology status: agent "nope": key not found`)
	wantError(t, h.run("topology", "resync", "nope"), exitNotFound, `topology resync: agent "nope"`)
}

// Numbers pushed from the CLI, in any spelling, verify after the store.
func TestTopologyPushNumbersVerify(t *testing.T) {
	h := newHarness(t)
	for i, spec := range []string{`{"mtu_ratio": 1.50}`, `{"n": 1e3}`, `{"loss": 2E-7}`, `{"loss": 0.00001}`} {
		agent := "host-" + string(rune('a'+i))
		h.ok("topology", "push", agent, "lab", spec)
		v, ok := h.value("/topology/desired/" + agent)
		assert.Assert(t, ok)
		var d topology.Desired
		assert.NilError(t, json.Unmarshal([]byte(v), &d))
		assert.NilError(t, topology.Verify(d.Spec, d.Hash), "%s stored as %s", spec, v)
	}
}
