package txn_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
)

func newEtcd(t testing.TB) backend.Backend {
	t.Skip("backend/etcd3 not written yet")
	return nil
}
