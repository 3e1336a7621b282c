package sdptest

import (
	"context"
	"testing"
	"time"
)

// Context returns a context for the work of a test that ends a little
// before the test binary's deadline (go test -timeout), and at the latest
// when the test ends: one generous deadline that a loaded machine does not
// hit, but that still ends a hung test with its own failure message (the
// context's error, and what it was waiting for) rather than the binary's
// panic. Without a deadline it lasts ten minutes.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Patience(t))
	t.Cleanup(cancel)
	return ctx
}

// Patience is how long Context lasts: nine tenths of what is left before
// the test binary's deadline (so that a wait that expires still fails the
// test with its own message, before the binary panics), ten minutes
// without a deadline. Use it for waits that take no context.
func Patience(t testing.TB) time.Duration {
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := dt.Deadline(); ok {
			return max(time.Until(end)*9/10, time.Second)
		}
	}
	return 10 * time.Minute
}
