package main

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// endpoint status and health ask a real etcd; an endpoint that does not
// answer makes health exit 1.
func TestEndpoint(t *testing.T) {
	e := sdptest.NewEtcd(t)
	h := newEtcdHarness(t, e.Endpoints()[0])
	r := h.run("endpoint", "status")
	assert.Equal(t, r.code, 0, r.err)
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	assert.Equal(t, len(lines), 2, r.out)
	assert.Assert(t, strings.HasPrefix(lines[0], "ENDPOINT "), r.out)
	assert.Assert(t, strings.Contains(lines[1], " true "), "a single member leads: %s", r.out)

	r = h.run("-o", "json", "endpoint", "health")
	assert.Equal(t, r.code, 0, r.err)
	var items []endpointItem
	assert.NilError(t, json.Unmarshal([]byte(r.out), &items))
	assert.Equal(t, len(items), 1)
	assert.Assert(t, items[0].Healthy)
	assert.Assert(t, items[0].Revision > 0 && items[0].Version != "")

	// One endpoint of two does not answer: health says which, and fails.
	dead := freePort(t)
	r = h.run("--endpoints", e.Endpoints()[0], "--endpoints", dead, "endpoint", "health")
	assert.Equal(t, r.code, exitError, r.err)
	assert.Assert(t, strings.Contains(r.out, e.Endpoints()[0]+" is healthy"), r.out)
	assert.Assert(t, strings.Contains(r.out, dead+" is unhealthy"), r.out)
	assert.Assert(t, strings.Contains(r.err, "1 of 2 endpoint(s) did not answer"), r.err)

	wantError(t, h.run("--backend", "memory", "endpoint", "status"), exitUsage, "no etcd endpoints")
	wantError(t, h.run("endpoint", "frob"), exitUsage, `"frob": want status or health`)
}
