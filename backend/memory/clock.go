package memory

import (
	"sync"
	"time"
)

// Clock is the time source of a Backend: lease expiry is measured on it.
// The default is the real clock; tests inject a FakeClock to expire leases
// when they choose.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f once, d after now on this clock, unless the
	// returned Timer is stopped first. f may run on another goroutine.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop cancels the call. It returns true if the call was cancelled,
	// false if it has already run or is running.
	Stop() bool
}

// RealClock is the wall clock: time.Now and time.AfterFunc.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc calls f in its own goroutine after d (time.AfterFunc).
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// FakeClock is a Clock whose time moves only when Advance or Set is called.
// Timers due at or before the new time run synchronously, in the order of
// their due times (then of scheduling), in the goroutine that moves the
// clock, before Advance returns: after clock.Advance(ttl) the keys of an
// expired lease are gone.
// It is safe for concurrent use. Do not move the clock from inside a timer
// function.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers map[*fakeTimer]struct{}
}

// NewFakeClock returns a FakeClock set to start.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start, timers: make(map[*fakeTimer]struct{})}
}

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f to run when the clock reaches Now()+d. A d of zero
// or less runs f at the next Advance or Set.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{clock: c, due: c.now.Add(d), seq: c.seq, f: f}
	c.timers[t] = struct{}{}
	return t
}

// Advance moves the clock forward by d and runs the timers that are due.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	c.Set(target)
}

// Set moves the clock to t (never backwards: an earlier t leaves the time
// unchanged) and runs the timers that are due. The clock steps through the
// due times: a timer function sees Now() equal to its due time, and a
// timer it schedules runs too if it falls due by t.
func (c *FakeClock) Set(t time.Time) {
	for {
		c.mu.Lock()
		var next *fakeTimer
		for tm := range c.timers {
			if tm.due.After(t) {
				continue
			}
			if next == nil || tm.due.Before(next.due) || (tm.due.Equal(next.due) && tm.seq < next.seq) {
				next = tm
			}
		}
		if next == nil {
			if t.After(c.now) {
				c.now = t
			}
			c.mu.Unlock()
			return
		}
		delete(c.timers, next)
		if next.due.After(c.now) {
			c.now = next.due
		}
		c.mu.Unlock()
		next.f()
	}
}

// Pending returns the number of timers not yet run nor stopped: a test can
// poll it to know that a lease's expiry has been scheduled.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

type fakeTimer struct {
	clock *FakeClock
	due   time.Time
	seq   uint64
	f     func()
}

// Stop cancels the timer if it has not run yet.
func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	if _, ok := t.clock.timers[t]; !ok {
		return false
	}
	delete(t.clock.timers, t)
	return true
}
