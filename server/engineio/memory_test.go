package engineio

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleWebSockets reports what idle WebSocket sessions cost the
// engine: heap bytes and goroutines per connection, with 5 000 sessions
// open (clients without reading goroutines, in the same process; their
// side is a socket each, a few hundred bytes). Run:
//
//	go test ./server/engineio -run '^$' -bench IdleWebSockets -benchtime 1x
func BenchmarkIdleWebSockets(b *testing.B) {
	const n = 5000
	for range b.N {
		e := mustEngine(b, func(o *Options) { o.PingInterval = time.Hour })
		addr := strings.TrimPrefix(strings.TrimSuffix(e.url, "/engine.io/"), "http://")
		heap0, g0 := heapInUse(), runtime.NumGoroutine()
		conns := make([]net.Conn, 0, n)
		for range n {
			conns = append(conns, dialRaw(b, addr))
		}
		waitUntil(b, "every session open", func() bool { return e.srv.ClientsCount() == n })
		heap1, g1 := heapInUse(), runtime.NumGoroutine()
		b.ReportMetric(float64(heap1-heap0)/n, "heapB/conn")
		b.ReportMetric(float64(g1-g0)/n, "goroutines/conn")
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
