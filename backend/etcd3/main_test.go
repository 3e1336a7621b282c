package etcd3_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestMain checks with goleak that no goroutine outlives the tests (see
// sdptest.VerifyTestMain for its grace period).
func TestMain(m *testing.M) {
	sdptest.VerifyTestMain(m)
}
