package storetest

import (
	"sync"
	"time"
)

// Clock is a clock for stores under test (pass its Now to the store's
// WithClock option). It stands still until the test moves it, so the order
// of writes is set by the test and not by how fast the machine runs.
// It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time, then moves it on by the step (see Step).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

// current returns the clock's time without stepping it, for checks.
func (c *Clock) current() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Step makes every reading move the clock on by d afterwards (0, the
// default, keeps it standing), so that concurrent writes get distinct times
// without the test ordering them.
func (c *Clock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = d
}

// suiteStart is where each subtest's clock starts: a fixed instant in the
// past, outside UTC and with digits below the millisecond, which the stores
// must turn into UTC and drop. Being far from the wall clock, it also
// shows up a store that ignores its clock.
var suiteStart = time.Date(2024, 3, 1, 11, 0, 0, 123_456_789, time.FixedZone("CET", 3600))
