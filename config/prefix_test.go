package config

import (
	"context"
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/testing/backendtest"
	"gotest.tools/v3/assert"
)

// TestPrefixConformance runs the backend conformance suite on the prefix
// view over a memory store that also holds keys outside the prefix: the
// view must behave as a backend of its own.
func TestPrefixConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		mem := memory.New()
		// Neighbours the view must never show nor touch. They take
		// revisions, so the view starts at revision 3, as a store with
		// history does.
		for _, p := range []string{"/sdpx/a", "/a"} {
			if _, err := mem.Create(context.Background(), p, "outside", backend.NoLease); err != nil {
				t.Fatal(err)
			}
		}
		return withPrefix(mem, "/sdp")
	})
}

func TestPrefixIsLimiter(t *testing.T) {
	mem := memory.New(memory.WithMaxTxnOps(7))
	defer mem.Close()
	l, ok := withPrefix(mem, "/sdp").(backend.Limiter)
	assert.Assert(t, ok, "the view hides the backend's Limiter")
	assert.Equal(t, l.MaxTxnOps(), 7)
}
