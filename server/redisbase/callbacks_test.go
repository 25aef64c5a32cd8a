package redisbase

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestCallbacks: Go runs a callback on a goroutine of its own; Close
// waits for those still running, and reports false when one outlasts its
// wait; once Close has begun, Go runs a callback on the caller's
// goroutine.
func TestCallbacks(t *testing.T) {
	var c Callbacks
	started, release := make(chan struct{}), make(chan struct{})
	var ended atomic.Bool
	c.Go(func() {
		close(started)
		<-release
		ended.Store(true)
	})
	<-started // not on this goroutine, or Go would not have returned
	if c.Close(10 * time.Millisecond) {
		t.Error("Close reported a blocked callback ended")
	}
	close(release)
	if !c.Close(time.Minute) || !ended.Load() {
		t.Error("Close returned before the callback ended")
	}
	ran := false
	c.Go(func() { ran = true })
	if !ran {
		t.Error("after Close, Go did not run the callback before it returned")
	}
}
