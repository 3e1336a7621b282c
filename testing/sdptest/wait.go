package sdptest

import (
	"testing"
	"time"
)

// WaitTimeout is a generous bound for waits of a test's own (a select on
// a channel): it only stops a test that would otherwise hang, and says
// nothing about speed. WaitFor itself waits Patience(t).
const WaitTimeout = 30 * time.Second

// WaitFor polls cond until it holds and fails the test, naming what it
// waited for, if it still does not hold after Patience(t) (most of what is
// left before the test binary's deadline), so
// that a loaded machine slows a test down instead of failing it. Use it instead
// of time.Sleep to wait for something another goroutine or process does.
// The polling interval starts at 1ms and grows to 10ms.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitForValue(t, what, func() (bool, string) { return cond(), "" })
}

// WaitForValue is WaitFor for a condition that also says what it saw: on
// timeout the failure names what was awaited and the last thing seen.
func WaitForValue(t testing.TB, what string, cond func() (ok bool, seen string)) {
	t.Helper()
	WaitForValueWithin(t, Patience(t), what, cond)
}

// WaitForValueWithin is WaitForValue bounded by limit as well as by
// Patience: for waits on steps that take well under a second, so that one
// that never ends fails in minutes rather than at the binary's deadline.
func WaitForValueWithin(t testing.TB, limit time.Duration, what string, cond func() (ok bool, seen string)) {
	t.Helper()
	wait := min(limit, Patience(t))
	deadline := time.Now().Add(wait)
	interval := time.Millisecond
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if seen != "" {
				t.Fatalf("timed out after %v waiting for %s; last seen: %s", wait.Round(time.Second), what, seen)
			}
			t.Fatalf("timed out after %v waiting for %s", wait.Round(time.Second), what)
		}
		time.Sleep(interval)
		interval = min(2*interval, 10*time.Millisecond)
	}
}
