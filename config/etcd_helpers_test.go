package config

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/backend"
	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// newEtcdBackend starts an embedded etcd server and returns an etcd3
// backend connected to it; both are closed by the test's cleanup.
func newEtcdBackend(t *testing.T) backend.Backend {
	t.Helper()
	return sdptest.NewBackend(t)
}
