package memory_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/memory"
	"github.com/sdpconfig/sdpconfig/testing/backendtest"
)

// TestConformance runs the backend conformance suite, which every backend
// must pass, against a fresh memory backend per case.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		b := memory.New()
		t.Cleanup(func() { b.Close() })
		return b
	})
}
