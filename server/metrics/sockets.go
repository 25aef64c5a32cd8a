package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The Socket.IO engine reports through the methods below. They run on
// its hot paths (per connection, per broadcast), so each one switches
// over fixed label values to a series resolved in New: no label lookup,
// no lock, no allocation. Each is a no-op on a nil *Metrics.

// Transport names, as Engine.IO names them (the transport query
// parameter); any other is counted as "other".
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// CloseReason is why a connection closed: the fixed set of the
// feedrt_socket_connections_closed_total reason label.
type CloseReason uint8

const (
	// CloseClient: the client closed the connection or its transport.
	CloseClient CloseReason = iota
	// ClosePingTimeout: the client did not answer a ping in time.
	ClosePingTimeout
	// CloseTransportError: the transport failed (read or write error).
	CloseTransportError
	// CloseServerShutdown: the server is shutting down.
	CloseServerShutdown
	// CloseSlowConsumer: the server dropped a client that did not read
	// its messages (write deadline or queue cap).
	CloseSlowConsumer
	// CloseOther: anything else (a server-side disconnect, a parse error).
	CloseOther
	numCloseReasons
)

var closeReasonNames = [numCloseReasons]string{"client", "ping_timeout", "transport_error", "server_shutdown", "slow_consumer", "other"}

// String is the reason's label value.
func (r CloseReason) String() string { return closeReasonNames[r.known()] }

// known is r, or CloseOther if r is none of the reasons.
func (r CloseReason) known() CloseReason {
	if r >= numCloseReasons {
		return CloseOther
	}
	return r
}

// CloseReasonOf maps the reason strings Engine.IO socket implementations
// close with (those of Node's engine.io and of
// github.com/zishang520/socket.io/servers/engine) to a CloseReason.
// "forced close" is the server closing the socket for any reason, so it
// is CloseOther: an engine that knows why (shutdown, a slow consumer)
// should pass that reason instead.
func CloseReasonOf(engineIOReason string) CloseReason {
	switch engineIOReason {
	case "transport close":
		return CloseClient
	case "ping timeout":
		return ClosePingTimeout
	case "transport error":
		return CloseTransportError
	case "server shutting down":
		return CloseServerShutdown
	}
	return CloseOther
}

// FailureCause is why a handshake or an upgrade failed: the fixed set of
// the cause label. The first five are Engine.IO's error codes.
type FailureCause uint8

const (
	// FailUnknownTransport: Engine.IO error 0, a transport not offered.
	FailUnknownTransport FailureCause = iota
	// FailUnknownSession: error 1, a sid the server does not know.
	FailUnknownSession
	// FailBadHandshakeMethod: error 2, a handshake that is not a GET.
	FailBadHandshakeMethod
	// FailBadRequest: error 3, a malformed request.
	FailBadRequest
	// FailForbidden: error 4, refused (origin not allowed, a middleware).
	FailForbidden
	// FailUnsupportedProtocol: error 5, an EIO version not served.
	FailUnsupportedProtocol
	// FailTimeout: the client did not finish the upgrade in time.
	FailTimeout
	// FailOther: anything else.
	FailOther
	numFailureCauses
)

var failureCauseNames = [numFailureCauses]string{
	"unknown_transport", "unknown_session", "bad_handshake_method", "bad_request",
	"forbidden", "unsupported_protocol", "timeout", "other",
}

// String is the cause's label value.
func (c FailureCause) String() string { return failureCauseNames[c.known()] }

// known is c, or FailOther if c is none of the causes.
func (c FailureCause) known() FailureCause {
	if c >= numFailureCauses {
		return FailOther
	}
	return c
}

// Label indexes of transports and protocols; the last is "other".
const (
	numTransports = 3 // polling, websocket, other
	numProtocols  = 3 // 3, 4, other
)

var (
	transportNames = [numTransports]string{TransportPolling, TransportWebSocket, "other"}
	protocolNames  = [numProtocols]string{"3", "4", "other"}
)

func transportIndex(t string) int {
	switch t {
	case TransportPolling:
		return 0
	case TransportWebSocket:
		return 1
	}
	return 2
}

func protocolIndex(p int) int {
	switch p {
	case 3:
		return 0
	case 4:
		return 1
	}
	return 2
}

// socketMetrics holds every series of the Socket.IO engine, resolved once.
type socketMetrics struct {
	connected [numTransports][numProtocols]prometheus.Gauge
	opened    [numTransports][numProtocols]prometheus.Counter
	closed    [numCloseReasons]prometheus.Counter

	handshakeFailed [numFailureCauses]prometheus.Counter
	upgradeFailed   [numFailureCauses]prometheus.Counter

	broadcasts         map[string]prometheus.Counter // the events with series of their own
	broadcastOther     prometheus.Counter
	fanout             prometheus.Observer
	slowDropped        [numSlowBounds]prometheus.Counter
	recovered, expired prometheus.Counter
}

// The bounds a slow consumer can pass (the engine's SlowCause names):
// what one connection holds, what all hold, the write deadline.
const numSlowBounds = 3

var slowBoundNames = [numSlowBounds]string{"connection", "total", "timeout"}

func newSocketMetrics(reg prometheus.Registerer, events []string) *socketMetrics {
	connected := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "sockets_connected",
		Help: "Engine.IO connections open now, by current transport (polling, websocket) and Engine.IO protocol (3, 4).",
	}, []string{"transport", "protocol"})
	reg.MustRegister(connected)
	opened := newCounterVec(reg, "socket_connections_opened_total",
		"Engine.IO connections opened, by the transport they opened with and Engine.IO protocol.", "transport", "protocol")
	closed := newCounterVec(reg, "socket_connections_closed_total",
		"Engine.IO connections closed, by reason (client, ping_timeout, transport_error, server_shutdown, slow_consumer, other).", "reason")
	handshake := newCounterVec(reg, "socket_handshake_failures_total",
		"Engine.IO handshakes refused, by cause.", "cause")
	upgrade := newCounterVec(reg, "socket_upgrade_failures_total",
		"Engine.IO transport upgrades (polling to WebSocket) that failed, by cause.", "cause")
	broadcasts := newCounterVec(reg, "socket_broadcasts_total",
		"Broadcasts emitted by this server, by event (the application's own event names, or other for any other name).", "event")
	fanout := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "socket_fanout_duration_seconds",
		Help: "Time to hand one broadcast to every local socket's transport.",
		// 0.5 ms to about 4 s, doubling: one socket to tens of thousands.
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	})
	reg.MustRegister(fanout)
	slow := newCounterVec(reg, "socket_slow_consumers_dropped_total",
		"Clients dropped because they did not take what was sent to them, by the bound they passed: connection (what one connection may hold), total (what all may hold; the heaviest go first), timeout (bytes left unwritten for the write timeout).", "bound")
	recovery := newCounterVec(reg, "socket_recovery_sessions_total",
		"Reconnections that asked for connection state recovery, by result (recovered, expired: the session or the packets it missed were gone).", "result")

	s := &socketMetrics{
		broadcasts:     map[string]prometheus.Counter{},
		broadcastOther: broadcasts.WithLabelValues("other"),
		fanout:         fanout,
		recovered:      recovery.WithLabelValues("recovered"),
		expired:        recovery.WithLabelValues("expired"),
	}
	for _, ev := range events {
		s.broadcasts[ev] = broadcasts.WithLabelValues(ev)
	}
	for t, tn := range transportNames {
		for p, pn := range protocolNames {
			s.connected[t][p] = connected.WithLabelValues(tn, pn)
			s.opened[t][p] = opened.WithLabelValues(tn, pn)
		}
	}
	for r, name := range closeReasonNames {
		s.closed[r] = closed.WithLabelValues(name)
	}
	for b, name := range slowBoundNames {
		s.slowDropped[b] = slow.WithLabelValues(name)
	}
	for c, name := range failureCauseNames {
		s.handshakeFailed[c] = handshake.WithLabelValues(name)
		s.upgradeFailed[c] = upgrade.WithLabelValues(name)
	}
	return s
}

// SocketOpened counts a connection opened on transport ("polling" or
// "websocket") with Engine.IO protocol 3 or 4, and adds it to the
// connected gauge.
func (m *Metrics) SocketOpened(transport string, protocol int) {
	if m == nil {
		return
	}
	t, p := transportIndex(transport), protocolIndex(protocol)
	m.sockets.opened[t][p].Inc()
	m.sockets.connected[t][p].Inc()
}

// SocketUpgraded moves a connection of protocol from polling to
// WebSocket in the connected gauge (Engine.IO's only upgrade).
func (m *Metrics) SocketUpgraded(protocol int) {
	if m == nil {
		return
	}
	p := protocolIndex(protocol)
	m.sockets.connected[0][p].Dec()
	m.sockets.connected[1][p].Inc()
}

// SocketClosed counts a connection closed for reason and takes it out
// of the connected gauge; transport is its transport at the close (after
// an upgrade, "websocket").
func (m *Metrics) SocketClosed(transport string, protocol int, reason CloseReason) {
	if m == nil {
		return
	}
	m.sockets.connected[transportIndex(transport)][protocolIndex(protocol)].Dec()
	m.sockets.closed[reason.known()].Inc()
}

// HandshakeFailed counts a refused handshake.
func (m *Metrics) HandshakeFailed(cause FailureCause) {
	if m == nil {
		return
	}
	m.sockets.handshakeFailed[cause.known()].Inc()
}

// UpgradeFailed counts a failed transport upgrade (the connection goes
// on polling, or closes: report that with SocketClosed).
func (m *Metrics) UpgradeFailed(cause FailureCause) {
	if m == nil {
		return
	}
	m.sockets.upgradeFailed[cause.known()].Inc()
}

// Broadcast counts one broadcast of event: the events New was given have
// their own series, every other name is "other" (names come from
// application code and, in a cluster, from other servers, so they are
// not labels).
func (m *Metrics) Broadcast(event string) {
	if m == nil {
		return
	}
	if c, ok := m.sockets.broadcasts[event]; ok {
		c.Inc()
		return
	}
	m.sockets.broadcastOther.Inc()
}

// FanoutDone records how long one broadcast took to reach every local
// socket's transport.
func (m *Metrics) FanoutDone(d time.Duration) {
	if m == nil {
		return
	}
	m.sockets.fanout.Observe(d.Seconds())
}

// SlowConsumerDropped counts a client dropped because it did not keep
// up, by the bound it passed ("connection", "total" or "timeout"; any
// other counts as "timeout"); report a session's close too, with
// CloseSlowConsumer.
func (m *Metrics) SlowConsumerDropped(bound string) {
	if m == nil {
		return
	}
	i := numSlowBounds - 1
	for b, name := range slowBoundNames {
		if name == bound {
			i = b
		}
	}
	m.sockets.slowDropped[i].Inc()
}

// SessionRecovered counts a reconnection whose session was restored
// with the packets it missed.
func (m *Metrics) SessionRecovered() {
	if m == nil {
		return
	}
	m.sockets.recovered.Inc()
}

// SessionExpired counts a reconnection that asked for recovery and
// started a new session instead (session unknown, expired, or missed
// packets no longer kept).
func (m *Metrics) SessionExpired() {
	if m == nil {
		return
	}
	m.sockets.expired.Inc()
}
