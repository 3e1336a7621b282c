package ui_test

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

// TestMain fails the run if a goroutine outlives the tests.
func TestMain(m *testing.M) { sdptest.VerifyTestMain(m) }
