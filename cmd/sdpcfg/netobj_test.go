package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/netobj"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

const netobjFile = `
- kind: interface
  fields: {name: br0, type: bridge, state: up}
- kind: address
  fields: {interface: br0, cidr: 10.1.0.1/24}
- kind: route
  id: to-lab
  fields: {dst: 10.2.0.0/16, gateway: 10.1.0.254}
`

func TestNetobjApplyLsStatus(t *testing.T) {
	h := newHarness(t)
	r := h.runIn(netobjFile, "netobj", "apply", "host-1", "-")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, r.out, strings.Join([]string{
		"ACTION   KIND       ID               FIELDS",
		"created  interface  br0              name=br0 state=up type=bridge",
		"created  address    br0,10.1.0.1/24  cidr=10.1.0.1/24 interface=br0",
		"created  route      to-lab           dst=10.2.0.0/16 gateway=10.1.0.254 metric=0 table=254",
		"",
	}, "\n"))
	_, ok := h.value("/netobj/host-1/desired/address/br0,10.1.0.1%2F24")
	assert.Assert(t, ok)
	// Applying again changes nothing.
	r = h.runIn(netobjFile, "netobj", "apply", "host-1", "-")
	assert.Equal(t, strings.Count(r.out, "unchanged"), 3, r.out)

	var items []netobjItem
	assert.NilError(t, json.Unmarshal([]byte(h.ok("-o", "json", "netobj", "ls", "host-1")), &items))
	assert.Equal(t, len(items), 3)
	assert.Equal(t, items[2].ID, "to-lab")
	assert.Equal(t, items[2].Fields["gateway"], "10.1.0.254")

	// Before a controller runs: pending, not alive.
	out := h.ok("netobj", "status", "host-1")
	assert.Assert(t, strings.Contains(out, "host-1  no     interface  br0"), out)
	assert.Equal(t, strings.Count(out, "pending"), 3, out)

	// A controller on the in-memory driver applies them.
	c := config.New(h.b, config.Options{})
	t.Cleanup(func() { c.Close() })
	ctl := &netobj.Controller{Config: c, Target: "host-1", Driver: netobj.NewMemoryDriver(), DriverName: "memory"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctl.Run(ctx) }()
	defer func() {
		cancel()
		assert.NilError(t, <-done)
	}()
	sdptest.WaitFor(t, "three objects applied", func() bool {
		return strings.Count(h.ok("netobj", "status"), " system ") == 3
	})
	var sts []netobj.StatusRow
	assert.NilError(t, json.Unmarshal([]byte(h.ok("-o", "json", "netobj", "status", "host-1")), &sts))
	assert.Equal(t, len(sts), 3)
	assert.Assert(t, sts[0].Alive && sts[0].State == "system" && sts[0].AppliedAt != "", "%+v", sts[0])

	// --prune deletes what the file no longer names.
	r = h.runIn("- kind: interface\n  fields: {name: br0, type: bridge, state: up}\n", "netobj", "apply", "--prune", "host-1", "-")
	assert.Equal(t, r.code, 0, r.err)
	assert.Equal(t, strings.Count(r.out, "deleted"), 2, r.out)
	sdptest.WaitFor(t, "two objects removed", func() bool {
		return strings.Count(h.ok("netobj", "status", "host-1"), "\n") == 2 // header + br0
	})
}

func TestNetobjErrors(t *testing.T) {
	h := newHarness(t)
	wantError(t, h.runIn("- kind: address\n  fields: {interface: br0, cidr: 10.1.0.1/99}\n", "netobj", "apply", "h", "-"), exitError, "object 1", "invalid object")
	wantError(t, h.runIn("- kind: tunnel\n  fields: {}\n", "netobj", "apply", "h", "-"), exitError, `unknown kind "tunnel"`)
	wantError(t, h.runIn("{}", "netobj", "apply", "h", "-"), exitError, "list of objects")
	wantError(t, h.run("netobj", "status", "nobody"), exitError, `"nobody"`)
	wantError(t, h.run("netobj", "frob"), exitUsage, `"frob"`)
	wantError(t, h.run("netobj"), exitUsage, "subcommand")
	wantError(t, h.run("netobj", "ls"), exitUsage, "ls TARGET")
	wantError(t, h.run("netobj", "ls", "--prune", "h"), exitUsage, "--prune")
}
