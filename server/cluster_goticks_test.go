package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// goTicks is two Go servers of one cluster, a Go client on each, and
// the numbered "tick" broadcasts each client has had: tick i goes
// through the broadcaster (as posts do) of A (even i) or B (odd i). A
// tick reaches its own server's client without Redis, the other's only
// through it. The outage tests (TestRedisClusterAdapters,
// TestRedisSentinelFailover) share it.
type goTicks struct {
	a, b         *testEnv
	onA, onB     chan []any
	seenA, seenB map[int]bool
	last         int // the number of the last tick sent
}

// mustGoTicks starts the two servers, configured by edit, and a client
// on each, and waits until each server counts two and has its socket.
// A failed test logs the ticks each client missed.
func mustGoTicks(t *testing.T, edit func(*Config)) *goTicks {
	t.Helper()
	g := &goTicks{a: mustStart(t, edit), b: mustStart(t, edit), seenA: map[int]bool{}, seenB: map[int]bool{}}
	waitServerCount(t, 2, g.a, g.b)
	_, g.onA = servertest.GoClient(t, g.a.url)
	_, g.onB = servertest.GoClient(t, g.b.url)
	storetest.WaitFor(t, "one socket on each server", func() bool {
		return g.a.srv.SocketIO().Sockets().Sockets().Len() == 1 && g.b.srv.SocketIO().Sockets().Sockets().Len() == 1
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("of ticks 1 to %d, A's client missed %s; B's client %s", g.last, missed(g.seenA, g.last), missed(g.seenB, g.last))
		}
	})
	return g
}

// tick sends the next tick, then takes what the clients received (a
// client whose events are not taken stops reading its connection).
func (g *goTicks) tick(t *testing.T) {
	t.Helper()
	g.last++
	from := g.a
	if g.last%2 == 1 {
		from = g.b
	}
	from.srv.bc.Broadcast("tick", map[string]any{"i": g.last})
	g.take(t)
}

// take records the ticks the clients received; a tick had twice fails
// the test.
func (g *goTicks) take(t *testing.T) {
	t.Helper()
	goEvents(t, "A's client", g.onA, g.seenA)
	goEvents(t, "B's client", g.onB, g.seenB)
}

// both takes what the clients received and reports whether both have
// had tick i.
func (g *goTicks) both(t *testing.T, i int) bool {
	t.Helper()
	g.take(t)
	return g.seenA[i] && g.seenB[i]
}

// upTo takes what the clients received and reports whether both have
// had every tick from 1 to n.
func (g *goTicks) upTo(t *testing.T, n int) bool {
	t.Helper()
	g.take(t)
	for i := 1; i <= n; i++ {
		if !g.seenA[i] || !g.seenB[i] {
			return false
		}
	}
	return true
}

// crossed takes what the clients received and reports whether, of the
// ticks after tick from, one of A's has reached B's client and one of
// B's A's client: the cluster carries broadcasts both ways. After an
// outage the servers get their subscriptions (or stream reads) back one
// at a time, so a tick that crossed one way says nothing of the other.
func (g *goTicks) crossed(t *testing.T, from int) bool {
	t.Helper()
	g.take(t)
	aToB, bToA := false, false
	for i := from + 1; i <= g.last; i++ {
		aToB = aToB || i%2 == 0 && g.seenB[i]
		bToA = bToA || i%2 == 1 && g.seenA[i]
	}
	return aToB && bToA
}

// goEvents takes what arrived on a Go client's events: the i of each
// "tick" event, counted in seen; a tick seen twice fails the test.
func goEvents(t *testing.T, who string, events chan []any, seen map[int]bool) {
	t.Helper()
	for {
		select {
		case ev := <-events:
			if len(ev) < 2 || ev[0] != "tick" {
				continue
			}
			m, _ := ev[1].(map[string]any)
			f, _ := m["i"].(float64)
			i := int(f)
			if seen[i] {
				t.Errorf("%s got tick %d twice", who, i)
			}
			seen[i] = true
		default:
			return
		}
	}
}

// missed lists the ticks from 1 to last not in seen, by sender, runs of
// a server's ticks (every other number) as ranges: "A's 12-76, B's 5043".
func missed(seen map[int]bool, last int) string {
	var out []string
	for _, sender := range []struct {
		name  string
		first int
	}{{"A's", 2}, {"B's", 1}} {
		var runs []string
		for i := sender.first; i <= last; i += 2 {
			if seen[i] {
				continue
			}
			j := i
			for j+2 <= last && !seen[j+2] {
				j += 2
			}
			if j == i {
				runs = append(runs, strconv.Itoa(i))
			} else {
				runs = append(runs, fmt.Sprintf("%d-%d", i, j))
			}
			i = j
		}
		if runs != nil {
			out = append(out, sender.name+" "+strings.Join(runs, ","))
		}
	}
	if out == nil {
		return "none"
	}
	return strings.Join(out, ", ")
}
