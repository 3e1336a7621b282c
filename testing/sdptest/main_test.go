package sdptest_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestMain checks with goleak that no goroutine outlives the tests, giving
// etcd's peer connections the few seconds they take to close (see
// sdptest.LeakGrace).
func TestMain(m *testing.M) {
	sdptest.VerifyTestMain(m)
}
