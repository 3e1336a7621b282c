package sdptest

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestWaitNoLeaksReportsALiveGoroutineAndWaitsForItsEnd(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-stop
	}()
	if err := waitNoLeaks(50*time.Millisecond, ignore); err == nil {
		t.Fatal("a goroutine blocked on a channel was not reported")
	}
	close(stop)
	if err := waitNoLeaks(LeakGrace, ignore); err != nil {
		t.Fatalf("a goroutine that ended was reported: %v", err)
	}
	<-done
}
