package etcd3_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/backendtest"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestConformance runs the backend conformance suite against etcd3 on a
// real embedded etcd, a fresh server per subtest with a global prefix, so
// that the prefix handling is exercised too and no subtest sees the leases
// or compactions of another.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return sdptest.NewEtcd(t).Backend(t, etcd3.Config{Prefix: "/conformance"})
	})
}
