package txn_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func newEtcd(t testing.TB) backend.Backend {
	t.Skip("backend/etcd3 not written yet")
	return nil
}

// openEtcd opens an etcd3 backend on e, closed by t.Cleanup.
func openEtcd(t testing.TB, e *sdptest.Etcd) backend.Backend {
	t.Skip("backend/etcd3 not written yet")
	return nil
}
