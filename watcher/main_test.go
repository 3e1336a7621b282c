package watcher_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestMain fails the run if a goroutine outlives the tests. It is goleak's
// check, with the grace period that embedded etcd servers need to wind
// down their connections (see sdptest.LeakGrace); no goroutine is ignored.
func TestMain(m *testing.M) {
	sdptest.VerifyTestMain(m)
}
