package memory_test

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/sdpconfig/sdpconfig/backend/memory"
)

func TestFakeClockRunsDueTimersInOrder(t *testing.T) {
	c := memory.NewFakeClock(epoch)
	var ran []string
	c.AfterFunc(3*time.Second, func() { ran = append(ran, "3s") })
	c.AfterFunc(time.Second, func() {
		ran = append(ran, "1s")
		c.AfterFunc(time.Second, func() { ran = append(ran, "1s+1s") }) // scheduled from a timer
	})
	stopped := c.AfterFunc(2*time.Second, func() { ran = append(ran, "stopped") })
	assert.Assert(t, stopped.Stop())
	assert.Assert(t, !stopped.Stop())
	assert.Equal(t, c.Pending(), 2)

	c.Advance(999 * time.Millisecond)
	assert.Equal(t, len(ran), 0)
	c.Advance(5 * time.Second)
	assert.DeepEqual(t, ran, []string{"1s", "1s+1s", "3s"})
	assert.Equal(t, c.Now(), epoch.Add(5999*time.Millisecond))
	assert.Equal(t, c.Pending(), 0)

	c.Set(epoch) // never backwards
	assert.Equal(t, c.Now(), epoch.Add(5999*time.Millisecond))
}
