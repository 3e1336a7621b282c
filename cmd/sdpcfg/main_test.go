package main

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestMain checks that no goroutine outlives the tests, with the grace
// period embedded etcd servers need to close their connections.
func TestMain(m *testing.M) { sdptest.VerifyTestMain(m) }
