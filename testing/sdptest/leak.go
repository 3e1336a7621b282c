package sdptest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// LeakGrace is how long VerifyTestMain waits for goroutines to end after
// the tests ran. Connections between the members of a stopped Cluster end
// by themselves, but only up to five seconds later: an HTTP connection of
// etcd's peer server that was busy when it stopped waits out the 5 s read
// timeout of etcd's peer listener before it closes, and its client side
// (in another member's transport) ends with it.
const LeakGrace = 10 * time.Second

// VerifyTestMain runs the tests of m, then fails the run if goroutines
// other than the runtime's are still alive after LeakGrace, as
// goleak.VerifyTestMain would without a grace period. Use it as the
// TestMain of packages that start servers with this package:
//
//	func TestMain(m *testing.M) { sdptest.VerifyTestMain(m) }
//
// opts are passed to goleak (for instance goleak.IgnoreTopFunction for a
// third-party goroutine known to outlive its Close).
func VerifyTestMain(m *testing.M, opts ...goleak.Option) {
	code := m.Run()
	if code == 0 {
		if err := waitNoLeaks(LeakGrace, opts...); err != nil {
			fmt.Fprintf(os.Stderr, "sdptest: goroutines still running %v after the tests: %v\n", LeakGrace, err)
			code = 1
		}
	}
	os.Exit(code)
}

// waitNoLeaks polls goleak.Find until it finds nothing or grace is over,
// and returns its last error.
func waitNoLeaks(grace time.Duration, opts ...goleak.Option) error {
	deadline := time.Now().Add(grace)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
