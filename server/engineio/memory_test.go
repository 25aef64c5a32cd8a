package engineio

import (
	"net"
	"runtime"
	"testing"
	"time"

	"feedrt/store/storetest"
)

// BenchmarkIdleWebSockets reports what idle WebSocket sessions cost the
// engine: heap bytes and goroutines per connection, with 5 000 sessions
// open (clients without reading goroutines, in the same process; their
// side is a socket each, a few hundred bytes). Run:
//
//	go test ./server/engineio -run '^$' -bench IdleWebSockets -benchtime 1x
func BenchmarkIdleWebSockets(b *testing.B) {
	benchIdle(b, 5000, idleWebSocket, func(e *testEngine, n int) bool { return e.srv.ClientsCount() == uint64(n) })
}

// BenchmarkIdlePolling is BenchmarkIdleWebSockets for long-polling
// sessions, each with its GET held (clients without goroutines: a
// connection each, handshake and GET on it). Run:
//
//	go test ./server/engineio -run '^$' -bench IdlePolling -benchtime 1x
func BenchmarkIdlePolling(b *testing.B) {
	benchIdle(b, 2000, pollRaw, func(e *testEngine, n int) bool { return e.heldCount() == n })
}

// benchIdle opens n sessions with open, waits until ready says they are
// all in place and reports their heap bytes and goroutines.
func benchIdle(b *testing.B, n int, open func(testing.TB, string) net.Conn, ready func(*testEngine, int) bool) {
	for range b.N {
		e := mustEngine(b, func(o *Options) { o.PingInterval = time.Hour })
		heap0, g0 := heapInUse(), runtime.NumGoroutine()
		conns := make([]net.Conn, 0, n)
		for range n {
			conns = append(conns, open(b, e.addr()))
		}
		storetest.WaitFor(b, "every session in place", func() bool { return ready(e, n) })
		heap1, g1 := heapInUse(), runtime.NumGoroutine()
		b.ReportMetric(float64(heap1-heap0)/float64(n), "heapB/conn")
		b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/conn")
		b.ReportMetric(float64(g1), "goroutines")
		for _, c := range conns {
			c.Close()
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// idleWebSocket opens a WebSocket session on a connection of its own
// and keeps nothing else of the client: no reader, no cleanup (a
// cleanup keeps its caller's stack), so the heap measured is the
// server's.
func idleWebSocket(tb testing.TB, addr string) net.Conn {
	c := connect(tb, addr)
	c.upgrade(tb, "")
	return c.Conn
}

// pollRaw is idleWebSocket for a polling session: a GET left waiting.
func pollRaw(tb testing.TB, addr string) net.Conn {
	c := connect(tb, addr)
	c.get(pollPath("4", c.handshake(tb)), "")
	return c.Conn
}
