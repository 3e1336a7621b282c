package sdptest

import (
	"sync/atomic"
	"testing"
)

func TestWaitForPollsUntilTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	WaitFor(t, "the third call", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
}
