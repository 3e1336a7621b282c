package watcher_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// openLoopEtcd starts an embedded etcd server and returns a backend on it;
// both are closed by the test's cleanup.
func openLoopEtcd(t testing.TB) loopStore {
	return loopStore{Backend: sdptest.NewBackend(t)}
}
