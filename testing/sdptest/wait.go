package sdptest

import (
	"testing"
	"time"
)

// WaitTimeout bounds WaitFor. It is generous on purpose: it only stops a
// test that would otherwise hang, and says nothing about speed.
const WaitTimeout = 30 * time.Second

// WaitFor polls cond until it holds and fails the test, naming what it
// waited for, if it still does not hold after WaitTimeout. Use it instead
// of time.Sleep to wait for something another goroutine or process does.
// The polling interval starts at 1ms and grows to 10ms.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	interval := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", WaitTimeout, what)
		}
		time.Sleep(interval)
		interval = min(2*interval, 10*time.Millisecond)
	}
}
