package txn_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/backend/etcd3"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// newEtcd starts a fresh embedded etcd and returns a backend on it, with a
// global prefix so that the prefix handling is exercised too.
func newEtcd(t testing.TB) backend.Backend {
	return openEtcd(t, sdptest.NewEtcd(t))
}

// openEtcd opens an etcd3 backend on e, closed by t.Cleanup.
func openEtcd(t testing.TB, e *sdptest.Etcd) backend.Backend {
	return e.Backend(t, etcd3.Config{Prefix: "/txntest"})
}
