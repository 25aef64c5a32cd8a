package engineio

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
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
	benchIdle(b, 5000, dialRaw, func(e *testEngine, n int) bool { return e.srv.ClientsCount() == uint64(n) })
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
		addr := strings.TrimPrefix(strings.TrimSuffix(e.url, "/engine.io/"), "http://")
		heap0, g0 := heapInUse(), runtime.NumGoroutine()
		conns := make([]net.Conn, 0, n)
		for range n {
			conns = append(conns, open(b, addr))
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

// pollRaw opens a polling session on a connection of its own and leaves
// a GET waiting on it.
func pollRaw(tb testing.TB, addr string) net.Conn {
	conn, _, sid := handshakeOn(tb, addr)
	fmt.Fprintf(conn, "GET /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: %s\r\n\r\n", sid, addr)
	return conn
}

// handshakeOn opens a connection and a polling session on it (the
// connection moves to the poller); it returns the connection, its reader
// and the session id.
func handshakeOn(tb testing.TB, addr string) (net.Conn, *bufio.Reader, string) {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("handshake: %v %v", res, err)
	}
	body, _ := io.ReadAll(res.Body)
	var open struct{ Sid string }
	if len(body) < 1 || json.Unmarshal(body[1:], &open) != nil {
		tb.Fatalf("open packet %q", body)
	}
	return conn, br, open.Sid
}
