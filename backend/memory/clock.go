package memory

import (
	"sort"
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
// their due times, in the goroutine that moves the clock, before Advance
// returns: after clock.Advance(ttl) the keys of an expired lease are gone.
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
	c.now = c.now.Add(d)
	c.mu.Unlock()
	c.fire()
}

// Set moves the clock to t (never backwards: an earlier t leaves the time
// unchanged) and runs the timers that are due.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	c.fire()
}

// Pending returns the number of timers not yet run nor stopped: a test can
// poll it to know that a lease's expiry has been scheduled.
func (c *FakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// fire runs every due timer, earliest first, outside the clock's lock so a
// timer function may read the clock or schedule new timers.
func (c *FakeClock) fire() {
	for {
		c.mu.Lock()
		var due []*fakeTimer
		for t := range c.timers {
			if !t.due.After(c.now) {
				due = append(due, t)
			}
		}
		if len(due) == 0 {
			c.mu.Unlock()
			return
		}
		sort.Slice(due, func(i, j int) bool {
			if !due[i].due.Equal(due[j].due) {
				return due[i].due.Before(due[j].due)
			}
			return due[i].seq < due[j].seq
		})
		t := due[0]
		delete(c.timers, t)
		c.mu.Unlock()
		t.f()
	}
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
