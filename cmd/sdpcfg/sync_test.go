package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/entities/datasync"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func syncDemoSpec() datasync.Spec {
	return datasync.Spec{
		Left:     datasync.SourceSpec{Name: "daphne", Prefix: "/ds/daphne"},
		Right:    datasync.SourceSpec{Name: "desire", Prefix: "/ds/desire"},
		Links:    "/ds/links",
		Mappings: datasync.DemoMappings(),
	}
}

// loadSyncDemo writes the demo spec and data into the harness's store.
func loadSyncDemo(t *testing.T, h *harness) *config.Config {
	ctx := context.Background()
	c := config.New(h.b, config.Options{})
	t.Cleanup(func() { c.Close() })
	spec := syncDemoSpec()
	assert.NilError(t, c.Txn(ctx, func(t *config.Txn) error { return datasync.Specs.Create(t, "demo", spec) }))
	s, err := spec.Syncer(c, nil)
	assert.NilError(t, err)
	assert.NilError(t, datasync.LoadDemo(ctx, s.Source(datasync.Left), s.Source(datasync.Right)))
	return c
}

func TestSyncRunStatus(t *testing.T) {
	h := newHarness(t)
	loadSyncDemo(t, h)
	out := h.ok("sync", "run", "demo")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Assert(t, strings.HasPrefix(lines[0], "demo: 3 run(s), 31 change(s), converged true"), out)
	assert.Equal(t, len(lines), 1+16, out) // the 16 operations of run 2
	assert.Assert(t, strings.Contains(out, "Addition(NIC/"), out)

	out = h.ok("sync", "status")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	assert.Equal(t, len(lines), 2, out)
	assert.Assert(t, strings.HasPrefix(lines[0], "NAME"), out)
	assert.Assert(t, strings.HasPrefix(lines[1], "demo  "), out)
	assert.Assert(t, strings.Contains(lines[1], "false"), out) // no active syncer

	var rows []datasync.SyncStatus
	assert.NilError(t, json.Unmarshal([]byte(h.ok("-o", "json", "sync", "status", "demo")), &rows))
	assert.Equal(t, len(rows), 1)
	assert.Equal(t, rows[0].Status.Runs, 3)
	assert.Equal(t, rows[0].Status.Changes, 31)

	// A second run has nothing to do.
	out = h.ok("sync", "run", "demo")
	assert.Assert(t, strings.HasPrefix(out, "demo: 1 run(s), 0 change(s), converged true"), out)

	wantError(t, h.run("sync", "run", "nobody"), exitNotFound, `"nobody"`)
	wantError(t, h.run("sync", "status", "nobody"), exitError, `"nobody"`)
	wantError(t, h.run("sync"), exitUsage, "subcommand")
	wantError(t, h.run("sync", "run"), exitUsage)
	wantError(t, h.run("sync", "--max-runs", "0", "run", "demo"), exitUsage, "--max-runs")
}

func TestSyncRunAsksTheActiveController(t *testing.T) {
	h := newHarness(t)
	loadSyncDemo(t, h)
	c := config.New(h.b, config.Options{Owner: &config.OwnerInfo{PID: 4242, Hostname: "ctl", Command: []string{"ctl"}}})
	defer c.Close()
	s, err := syncDemoSpec().Syncer(c, nil)
	assert.NilError(t, err)
	ctl := datasync.NewController(c, "demo", s, datasync.ControllerOptions{Period: time.Hour})
	done := make(chan error, 1)
	go func() { done <- ctl.Run(context.Background()) }()
	defer func() { ctl.Close(); <-done }()
	sdptest.WaitFor(t, "the controller's first sync", func() bool {
		st, err := datasync.ReadStatus(context.Background(), c, "demo")
		return err == nil && st.Converged
	})
	out := h.ok("sync", "run", "demo")
	assert.Assert(t, strings.HasPrefix(out, "demo: 1 run(s), 0 change(s), converged true, by ctl/4242"), out)
	out = h.ok("sync", "status", "demo")
	assert.Assert(t, strings.Contains(out, "true"), out) // active
}
