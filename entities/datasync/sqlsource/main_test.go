package sqlsource

import (
	"testing"

	"github.com/sdpconfig/sdpconfig/testing/sdptest"
)

func TestMain(m *testing.M) { sdptest.VerifyTestMain(m) }
