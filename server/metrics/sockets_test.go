package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSocketAPI drives the engine's API through a session's life and
// reads every series it moves.
func TestSocketAPI(t *testing.T) {
	m := New("posts")
	m.SocketOpened(TransportPolling, 4)
	m.SocketOpened(TransportPolling, 4)
	m.SocketOpened(TransportWebSocket, 3)
	m.SocketOpened("webtransport", 5) // neither known: "other", "other"
	m.SocketUpgraded(4)
	m.SocketClosed(TransportWebSocket, 4, CloseSlowConsumer)
	m.SlowConsumerDropped("timeout")
	m.SlowConsumerDropped("connection")
	m.SlowConsumerDropped("connection")
	m.SlowConsumerDropped("total")
	m.SocketClosed(TransportWebSocket, 3, ClosePingTimeout)
	m.SocketClosed("webtransport", 5, CloseReason(200)) // out of range: "other"
	m.HandshakeFailed(FailForbidden)
	m.HandshakeFailed(FailUnsupportedProtocol)
	m.UpgradeFailed(FailTimeout)
	m.Broadcast("posts")
	m.Broadcast("posts")
	m.Broadcast("news")
	m.FanoutDone(3 * time.Millisecond)
	m.FanoutDone(300 * time.Millisecond)
	m.SessionRecovered()
	m.SessionExpired()
	m.SessionExpired()

	const want = `
# HELP feedrt_sockets_connected Engine.IO connections open now, by current transport (polling, websocket) and Engine.IO protocol (3, 4).
# TYPE feedrt_sockets_connected gauge
feedrt_sockets_connected{protocol="3",transport="other"} 0
feedrt_sockets_connected{protocol="3",transport="polling"} 0
feedrt_sockets_connected{protocol="3",transport="websocket"} 0
feedrt_sockets_connected{protocol="4",transport="other"} 0
feedrt_sockets_connected{protocol="4",transport="polling"} 1
feedrt_sockets_connected{protocol="4",transport="websocket"} 0
feedrt_sockets_connected{protocol="other",transport="other"} 0
feedrt_sockets_connected{protocol="other",transport="polling"} 0
feedrt_sockets_connected{protocol="other",transport="websocket"} 0
# HELP feedrt_socket_connections_closed_total Engine.IO connections closed, by reason (client, ping_timeout, transport_error, server_shutdown, slow_consumer, other).
# TYPE feedrt_socket_connections_closed_total counter
feedrt_socket_connections_closed_total{reason="client"} 0
feedrt_socket_connections_closed_total{reason="other"} 1
feedrt_socket_connections_closed_total{reason="ping_timeout"} 1
feedrt_socket_connections_closed_total{reason="server_shutdown"} 0
feedrt_socket_connections_closed_total{reason="slow_consumer"} 1
feedrt_socket_connections_closed_total{reason="transport_error"} 0
# HELP feedrt_socket_broadcasts_total Broadcasts emitted by this server, by event (the application's own event names, or other for any other name).
# TYPE feedrt_socket_broadcasts_total counter
feedrt_socket_broadcasts_total{event="other"} 1
feedrt_socket_broadcasts_total{event="posts"} 2
# HELP feedrt_socket_recovery_sessions_total Reconnections that asked for connection state recovery, by result (recovered, expired: the session or the packets it missed were gone).
# TYPE feedrt_socket_recovery_sessions_total counter
feedrt_socket_recovery_sessions_total{result="expired"} 2
feedrt_socket_recovery_sessions_total{result="recovered"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"feedrt_sockets_connected", "feedrt_socket_connections_closed_total",
		"feedrt_socket_broadcasts_total", "feedrt_socket_recovery_sessions_total"); err != nil {
		t.Error(err)
	}

	s := m.sockets
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"opened polling/4", testutil.ToFloat64(s.opened[0][1]), 2},
		{"opened websocket/3", testutil.ToFloat64(s.opened[1][0]), 1},
		{"opened other/other", testutil.ToFloat64(s.opened[2][2]), 1},
		{"handshake forbidden", testutil.ToFloat64(s.handshakeFailed[FailForbidden]), 1},
		{"handshake unsupported_protocol", testutil.ToFloat64(s.handshakeFailed[FailUnsupportedProtocol]), 1},
		{"upgrade timeout", testutil.ToFloat64(s.upgradeFailed[FailTimeout]), 1},
		{"slow consumers dropped, connection bound", testutil.ToFloat64(s.slowDropped[0]), 2},
		{"slow consumers dropped, total bound", testutil.ToFloat64(s.slowDropped[1]), 1},
		{"slow consumers dropped, write timeout", testutil.ToFloat64(s.slowDropped[2]), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	h := histogram(t, m, "feedrt_socket_fanout_duration_seconds")
	if h.GetSampleCount() != 2 || h.GetSampleSum() < 0.302 || h.GetSampleSum() > 0.304 {
		t.Errorf("fan-out histogram: count %d sum %v, want 2 and 0.303", h.GetSampleCount(), h.GetSampleSum())
	}
}

// TestSocketAPINil: a nil *Metrics takes every call and does nothing.
func TestSocketAPINil(t *testing.T) {
	var m *Metrics
	m.SocketOpened(TransportWebSocket, 4)
	m.SocketUpgraded(4)
	m.SocketClosed(TransportWebSocket, 4, CloseClient)
	m.HandshakeFailed(FailBadRequest)
	m.UpgradeFailed(FailOther)
	m.Broadcast("posts")
	m.FanoutDone(time.Millisecond)
	m.SlowConsumerDropped("timeout")
	m.SessionRecovered()
	m.SessionExpired()
	m.ConnectionRefused()
	m.WatchConnections(func() int64 { return 0 }, 1)
	m.WatchQueued(func() int64 { return 0 })
	m.Images().ImageStored(1)
	m.Redis().Received()
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
}

// TestSocketAPIAllocs: the calls the engine makes per connection and
// per broadcast allocate nothing.
func TestSocketAPIAllocs(t *testing.T) {
	m := New("posts")
	event := strings.Repeat("p", 1) + "osts" // not a constant the compiler could fold
	allocs := testing.AllocsPerRun(200, func() {
		m.SocketOpened(TransportPolling, 4)
		m.SocketUpgraded(4)
		m.Broadcast(event)
		m.FanoutDone(time.Millisecond)
		m.SocketClosed(TransportWebSocket, 4, CloseClient)
		m.HandshakeFailed(FailBadRequest)
		m.SessionRecovered()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

// TestCloseReasonAndCauseNames: the label values are the documented set.
func TestCloseReasonAndCauseNames(t *testing.T) {
	var reasons []string
	for r := CloseClient; r <= CloseOther; r++ {
		reasons = append(reasons, r.String())
	}
	if got := strings.Join(reasons, ","); got != "client,ping_timeout,transport_error,server_shutdown,slow_consumer,other" {
		t.Errorf("close reasons %s", got)
	}
	for reason, want := range map[string]CloseReason{
		"transport close": CloseClient, "ping timeout": ClosePingTimeout, "transport error": CloseTransportError,
		"server shutting down": CloseServerShutdown, "forced close": CloseOther, "parse error": CloseOther,
	} {
		if got := CloseReasonOf(reason); got != want {
			t.Errorf("CloseReasonOf(%q) = %s, want %s", reason, got, want)
		}
	}
	if CloseReason(99).String() != "other" || FailureCause(99).String() != "other" {
		t.Error("out-of-range values are not \"other\"")
	}
}
