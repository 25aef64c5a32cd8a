package redisbase

import (
	"sync"
	"time"
)

// Callbacks runs application callbacks (the acknowledgements of
// serverSideEmit and of broadcasts, client counts) on goroutines of their
// own, off the goroutine that reads Redis, and gives those goroutines an
// owner: the adapter's Close waits for them.
type Callbacks struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// Go runs fn on a goroutine of its own; once Close has begun, on the
// caller's (nothing is left to read Redis then).
func (c *Callbacks) Go(fn func()) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		fn()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		fn()
	}()
}

// Close waits for the callbacks running, at most wait (application code
// could block for ever), and reports whether they all ended.
func (c *Callbacks) Close(wait time.Duration) bool {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	ended := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(ended)
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ended:
		return true
	case <-t.C:
		return false
	}
}
