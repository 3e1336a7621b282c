package netobj_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestMain fails the run if a goroutine outlives the tests (goleak, with
// the grace period sdptest gives embedded etcd servers to wind down).
func TestMain(m *testing.M) { sdptest.VerifyTestMain(m) }
