package storetest

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds, failing the test with what if it
// does not within 30 s (a bound only a failing test reaches). It is the
// one condition wait of every package's tests: it lives here because
// every layer's tests may import storetest.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling the condition
	}
}

// Receive waits for a value from ch, failing the test with what if none
// comes within WaitFor's 30 s.
func Receive[T any](tb testing.TB, what string, ch <-chan T) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		tb.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}
