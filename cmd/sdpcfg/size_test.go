package main

import (
	"context"
	"strings"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/config"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// A value over the server's request limit fails with one line that says
// how large it is and what the limit is, not a raw gRPC status.
func TestValueOverTheServersLimit(t *testing.T) {
	e := sdptest.NewEtcd(t)
	h := newHarness(t)
	real := func(stdin string, args ...string) result {
		var out, errOut syncBuffer
		env := h.env(stdin, &out, &errOut)
		env.open = config.OpenSettings
		code := env.run(context.Background(), append([]string{"--endpoints", e.Endpoints()[0]}, args...))
		return result{code: code, out: out.String(), err: errOut.String()}
	}
	for _, size := range []int{2 << 20, 1600 << 10} { // over gRPC's 2 MiB, and over etcd's 1.5 MiB only
		big := `"` + strings.Repeat("x", size) + `"`
		r := real("", "create", "/x", big)
		wantError(t, r, exitError, "value of /x is "+backend.FormatBytes(len(big)), "over the server's request limit", "1.5 MiB")
		r = real("", "create", "/y", "{}")
		wantError(t, real("", "update", "/y", big), exitError, "value of /y is "+backend.FormatBytes(len(big)))
	}
}

// The same on the memory backend, whose limit is known.
func TestValueOverTheMemoryStoresLimit(t *testing.T) {
	h := newHarness(t)
	big := `"` + strings.Repeat("x", 2<<20) + `"`
	wantError(t, h.run("create", "/x", big), exitError, "value of /x is "+backend.FormatBytes(len(big))+", over the store's request limit of 1.5 MiB")
}
