package main

import (
	"net"
	"testing"

	"gotest.tools/v3/assert"
)

// TestObserveFlagErrors checks that every long-running command refuses a
// bad --metrics-listen, --log-format or --log-level with a one-line usage
// error naming the flag and the value.
func TestObserveFlagErrors(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range [][]string{{"server", "--data-dir", t.TempDir()}, {"topology", "master"}, {"netobj", "run", "host-1", "--driver", "memory"}} {
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
