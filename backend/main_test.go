package backend

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests. The package
// starts none; the check guards against that changing.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
