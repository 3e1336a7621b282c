package main

import (
	"strings"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// A value over the server's request limit fails with one line that says
// how large it is and what the limit is, not a raw gRPC status.
func TestValueOverTheServersLimit(t *testing.T) {
	e := sdptest.NewEtcd(t)
	h := newEtcdHarness(t, e.Endpoints()[0])
	for _, size := range []int{2 << 20, 1600 << 10} { // over gRPC's 2 MiB, and over etcd's 1.5 MiB only
		big := `"` + strings.Repeat("x", size) + `"`
		r := h.run("create", "/x", big)
		wantError(t, r, exitError, "value of /x is "+backend.FormatBytes(len(big)), "over the server's request limit", "1.5 MiB")
		r = h.run("create", "/y", "{}")
		wantError(t, h.run("update", "/y", big), exitError, "value of /y is "+backend.FormatBytes(len(big)))
	}
}

// The same on the memory backend, whose limit is known.
func TestValueOverTheMemoryStoresLimit(t *testing.T) {
	h := newHarness(t)
	big := `"` + strings.Repeat("x", 2<<20) + `"`
	wantError(t, h.run("create", "/x", big), exitError, "value of /x is "+backend.FormatBytes(len(big))+", over the store's request limit of 1.5 MiB")
}
