package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/internal/telemetry/telemetrytest"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestObserveFlagErrors checks that every long-running command refuses a
// bad --metrics-listen, --log-format or --log-level with a one-line usage
// error naming the flag and the value.
func TestObserveFlagErrors(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range [][]string{{"server", "--data-dir", t.TempDir()}, {"topology", "master"}, {"netobj", "run", "host-1", "--driver", "memory"}, {"sync", "serve", "demo"}} {
		wantError(t, h.run(append(cmd, "--log-format", "xml")...), exitUsage, `log format "xml": want text or json`)
		wantError(t, h.run(append(cmd, "--log-level", "loud")...), exitUsage, `log level "loud"`)
		wantError(t, h.run(append(cmd, "--metrics-listen", "9464")...), exitUsage, `--metrics-listen "9464": want host:port`)
	}
	wantError(t, h.run("netobj", "run", "host-1", "--driver", "ovs"), exitUsage, `--driver "ovs": want netlink or memory`)
	wantError(t, h.run("topology", "master", "extra"), exitUsage, "topology")
}

// TestMetricsListenInUse checks that a busy --metrics-listen fails the
// command with the address.
func TestMetricsListenInUse(t *testing.T) {
	h := newHarness(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer l.Close()
	wantError(t, h.run("topology", "master", "--metrics-listen", l.Addr().String()), exitError, "metrics listener "+l.Addr().String())
}

// TestSyncServeExportsItsPasses runs the data-sync controller with
// --metrics-listen and reads its passes, leadership and readiness from the
// endpoint.
func TestSyncServeExportsItsPasses(t *testing.T) {
	h := newHarness(t)
	loadSyncDemo(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- h.env("", &out, &errOut).run(ctx, []string{"sync", "serve", "demo", "--metrics-listen", "127.0.0.1:0"})
	}()
	defer func() {
		cancel()
		assert.Equal(t, <-done, 0, errOut.String())
	}()
	var addr string
	sdptest.WaitForValue(t, "sync serve to print its metrics address", func() (bool, string) {
		if m := metricsAt.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		return addr != "", out.String() + errOut.String()
	})
	sdptest.WaitForValue(t, "a data-sync pass as leader", func() (bool, string) {
		got := telemetrytest.Get(t, "http://"+addr+"/metrics")
		return got["sdpconfig_datasync_reconcile_total"] >= 1 && got["sdpconfig_datasync_leader"] == 1 && got[`sdpconfig_datasync_items{state="Addition"}`] > 0,
			fmt.Sprint(got["sdpconfig_datasync_reconcile_total"], got["sdpconfig_datasync_leader"])
	})
	resp, err := http.Get("http://" + addr + "/readyz")
	assert.NilError(t, err)
	resp.Body.Close()
	assert.Equal(t, resp.StatusCode, http.StatusOK)
}

// TestNetobjRunIsReadyAfterItsFirstPass runs a network-object controller
// on the memory driver and waits for /readyz to say it caught up, with its
// pass counted.
func TestNetobjRunIsReadyAfterItsFirstPass(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- h.env("", &out, &errOut).run(ctx, []string{"netobj", "run", "host-1", "--driver", "memory", "--metrics-listen", "127.0.0.1:0"})
	}()
	defer func() {
		cancel()
		assert.Equal(t, <-done, 0, errOut.String())
	}()
	var addr string
	sdptest.WaitForValue(t, "netobj run to print its metrics address", func() (bool, string) {
		if m := metricsAt.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		return addr != "", out.String() + errOut.String()
	})
	sdptest.WaitForValue(t, "/readyz to answer 200", func() (bool, string) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	got := telemetrytest.Get(t, "http://"+addr+"/metrics")
	assert.Assert(t, got["sdpconfig_netobj_reconcile_total"] >= 1)
	assert.Equal(t, got["sdpconfig_netobj_leader"], 1.0)
}
