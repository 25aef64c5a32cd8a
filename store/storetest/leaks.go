package storetest

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// LeakCheck records the goroutines running now and returns the check to
// call once the code under test has been shut down: it waits (polling,
// up to 10 s) until every goroutine started since has ended, and fails
// tb with the stacks of those left otherwise. Exact, unlike a count with
// slack: one goroutine left behind fails. FerretDB's own goroutines are
// not counted (a test that restarts its FerretDB gets new ones): the
// point is the code under test. Goroutines that were running at the
// start and have ended since do not matter.
//
// Idle keep-alive connections of an HTTP client are goroutines too (and
// the server's, at the other end): close them before the check.
func LeakCheck(tb testing.TB) (check func()) {
	tb.Helper()
	before := map[string]bool{}
	for _, g := range goroutines() {
		before[g.id] = true
	}
	return func() {
		tb.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var left []string
			for _, g := range goroutines() {
				if !before[g.id] && !ferretDBs(g) {
					left = append(left, g.stack)
				}
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				tb.Errorf("%d goroutines started during the test are still running:\n\n%s", len(left), strings.Join(left, "\n\n"))
				return
			}
			time.Sleep(20 * time.Millisecond) // polling the condition
		}
	}
}

// goroutine is one entry of a full stack dump.
type goroutine struct{ id, stack string }

// ferretDBs reports whether g is FerretDB's: its own code, or its SQLite
// handle's (database/sql, which nothing else in this module uses).
func ferretDBs(g goroutine) bool {
	return strings.Contains(g.stack, "github.com/FerretDB/") || strings.Contains(g.stack, "\ndatabase/sql.")
}

// goroutines lists the running goroutines but the caller's.
func goroutines() []goroutine {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for i, stack := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 {
			continue // the caller's own, first in the dump
		}
		// "goroutine 42 [select]:"
		head, _, _ := bytes.Cut(stack, []byte(" ["))
		out = append(out, goroutine{id: string(head), stack: string(stack)})
	}
	return out
}
