package metrics

import "github.com/prometheus/client_golang/prometheus"

// The server's connections and what waits in them: read when scraped
// from whoever holds them (the listener, the Socket.IO engine), and the
// connections the listener refused past its maximum.

// connMetrics are the series of the server's connections.
type connMetrics struct {
	refused prometheus.Counter
}

func newConnMetrics(reg prometheus.Registerer) *connMetrics {
	return &connMetrics{refused: newCounter(reg, "connections_refused_total",
		"Connections refused at once because the server had its maximum of open connections (MAX_CONNECTIONS).")}
}

// ConnectionRefused counts a connection refused past the maximum.
func (m *Metrics) ConnectionRefused() {
	if m == nil {
		return
	}
	m.conns.refused.Inc()
}

// WatchConnections reports the open connections (read from open at each
// scrape) and their maximum.
func (m *Metrics) WatchConnections(open func() int64, max int64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "connections_open",
			Help: "Client connections open now (net/http's and the Socket.IO engine's poller's)."},
			func() float64 { return float64(open()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "connections_max",
			Help: "The most client connections open at once; past it new ones are refused."},
			func() float64 { return float64(max) }),
	)
}

// WatchQueued reports the memory held for clients that have not taken
// it yet (read from queued at each scrape).
func (m *Metrics) WatchQueued(queued func() int64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "socket_queued_bytes",
		Help: "Memory held for clients that have not taken what was sent to them: WebSocket queues, polling buffers, unwritten answers (a broadcast counted once however many hold it)."},
		func() float64 { return float64(queued()) }))
}
