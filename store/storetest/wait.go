package storetest

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds, failing the test with what if it does
// not within timeout. It lives here because every package's tests may
// import storetest, so tests across the layers wait the same way.
func WaitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling the condition
	}
}
