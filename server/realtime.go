package server

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/cors"
	"feedrt/server/engineio"
	"feedrt/server/metrics"
	"feedrt/server/redisadapter"
)

// RealtimeOptions are the Engine.IO and Socket.IO settings. The feed
// server uses Node's defaults (see FeedRealtime); the conformance command
// uses those the protocols' test suites expect.
type RealtimeOptions struct {
	PingInterval      time.Duration
	PingTimeout       time.Duration
	ConnectTimeout    time.Duration // 0: the library's default (45 s, as Node)
	MaxHTTPBufferSize int64
	// Recovery turns on connection state recovery (RecoveryWindow), which
	// keeps at most RecoveryMaxPackets broadcasts of RecoveryMaxBytes in
	// all and RecoveryMaxSessions disconnected sessions (all required
	// with Recovery).
	Recovery                                                  bool
	RecoveryMaxPackets, RecoveryMaxBytes, RecoveryMaxSessions int
	// AllowEIO3 accepts Engine.IO v3 clients (socket.io-client 2.x).
	AllowEIO3 bool
	// Origins and Methods are the CORS policy ("*" allows any origin).
	Origins []string
	Methods []string
	// Adapter, when set, replaces the in-memory one (localAdapters), e.g.
	// with the Redis cluster's, whose local part should be localAdapters'
	// (redisadapter.Options.Local).
	Adapter socket.AdapterConstructor
	// WriteTimeout drops a WebSocket client that leaves bytes unwritten
	// this long.
	WriteTimeout time.Duration
	Log          *slog.Logger     // nil: discard
	Metrics      *metrics.Metrics // nil: not measured
}

// RecoveryWindow is how long connection state recovery keeps a
// disconnected socket's session and the broadcasts it may miss.
const RecoveryWindow = 2 * time.Minute

// localAdapters builds the adapters that deliver to this process's own
// sockets (fanoutAdapter): the server's adapter, or the local part of a
// cluster adapter (redisadapter.Options.Local is its Make method).
func localAdapters(o RealtimeOptions) fanoutAdapters {
	if !o.Recovery {
		return fanoutAdapters{metrics: o.Metrics}
	}
	if o.RecoveryMaxPackets <= 0 || o.RecoveryMaxBytes <= 0 || o.RecoveryMaxSessions <= 0 {
		panic("server: recovery needs RecoveryMaxPackets, RecoveryMaxBytes and RecoveryMaxSessions")
	}
	return fanoutAdapters{metrics: o.Metrics, recovery: recoveryLimits{
		maxAge:      RecoveryWindow,
		maxPackets:  o.RecoveryMaxPackets,
		maxBytes:    o.RecoveryMaxBytes,
		maxSessions: o.RecoveryMaxSessions,
	}}
}

// FeedRealtime is what the feed server runs with: Node's defaults, every
// client version from 2.x on, recovery on, and cfg's CORS policy.
func FeedRealtime(cfg Config) RealtimeOptions {
	return RealtimeOptions{
		PingInterval:        PingInterval,
		PingTimeout:         PingTimeout,
		MaxHTTPBufferSize:   MaxHTTPBufferSize,
		Recovery:            true,
		RecoveryMaxPackets:  cfg.RecoveryMaxPackets,
		RecoveryMaxBytes:    cfg.RecoveryMaxBytes,
		RecoveryMaxSessions: cfg.RecoveryMaxSessions,
		AllowEIO3:           true,
		Origins:             cfg.AllowedOrigins,
		Methods:             cfg.AllowedMethods,
		WriteTimeout:        WebSocketWriteTimeout,
	}
}

// Realtime is a Socket.IO server bound to the project's Engine.IO server.
// Mount Handler at the Socket.IO path (/socket.io/).
type Realtime struct {
	IO      *socket.Server
	Engine  *engineio.Server
	Handler http.Handler // the engine behind the CORS policy
}

// NewRealtime builds a Socket.IO server over polling and WebSocket (with
// upgrade) on the project's Engine.IO server.
func NewRealtime(o RealtimeOptions) (*Realtime, error) {
	policy := cors.New(o.Origins, o.Methods)
	eio, err := engineio.New(engineOptions(o, policy))
	if err != nil {
		return nil, err
	}
	opts := socket.DefaultServerOptions()
	opts.SetServeClient(false)
	// Packets go out as a Node server writes them: data from other
	// servers of a cluster (*redisadapter.Object, keys in the sender's
	// order) with its binary as attachments, and JSON without the HTML
	// escapes of encoding/json.
	opts.SetParser(redisadapter.Parser(parser.NewParser()))
	if o.ConnectTimeout > 0 {
		opts.SetConnectTimeout(o.ConnectTimeout)
	}
	if o.Recovery {
		csr := &socket.ConnectionStateRecovery{}
		csr.SetMaxDisconnectionDuration(RecoveryWindow.Milliseconds())
		csr.SetSkipMiddlewares(true)
		opts.SetConnectionStateRecovery(csr)
	}
	if o.Adapter != nil {
		opts.SetAdapter(o.Adapter)
	} else {
		opts.SetAdapter(localAdapters(o))
	}
	io := socket.NewServer(nil, opts)
	io.Bind(eio)
	return &Realtime{IO: io, Engine: eio, Handler: policy.EngineIO(eio)}, nil
}

// engineOptions is the Engine.IO part of o.
func engineOptions(o RealtimeOptions, policy cors.Policy) engineio.Options {
	return engineio.Options{
		PingInterval:   o.PingInterval,
		PingTimeout:    o.PingTimeout,
		MaxPayload:     o.MaxHTTPBufferSize,
		UpgradeTimeout: UpgradeTimeout,
		WriteTimeout:   o.WriteTimeout,
		MaxBuffered:    PollingMaxBuffered,
		MaxBacklog:     WebSocketMaxBacklog,
		AllowEIO3:      o.AllowEIO3,
		CheckOrigin:    policy.AllowsRequest,
		Log:            o.Log,
		Observer:       engineMetrics{o.Metrics},
	}
}

// engineMetrics reports the engine's sessions to the metrics.
type engineMetrics struct{ m *metrics.Metrics }

func (e engineMetrics) Opened(transport string, protocol int) { e.m.SocketOpened(transport, protocol) }
func (e engineMetrics) Upgraded(protocol int)                 { e.m.SocketUpgraded(protocol) }

func (e engineMetrics) Closed(transport string, protocol int, reason string, slow bool) {
	r := metrics.CloseReasonOf(reason)
	if slow {
		e.m.SlowConsumerDropped()
		r = metrics.CloseSlowConsumer
	}
	e.m.SocketClosed(transport, protocol, r)
}

func (e engineMetrics) Refused(code int, upgrade bool) {
	cause := metrics.FailureCause(code)
	if code < 0 {
		cause = metrics.FailTimeout
	}
	if upgrade {
		e.m.UpgradeFailed(cause)
		return
	}
	e.m.HandshakeFailed(cause)
}

// event is one queued broadcast.
type event struct {
	name    string
	payload any
}

// broadcaster implements handlers.Broadcaster on a Socket.IO server. An
// emit to thousands of sockets takes hundreds of milliseconds, so HTTP
// handlers only queue the event and one goroutine emits, in order, which
// keeps create/update/delete events in the order they were stored.
//
// The queue is bounded. When it is full, Broadcast waits for room: the
// change is already stored and must be announced, so the requests that
// make changes slow down to the pace of the emits instead of the queue
// growing without bound (or events being dropped).
type broadcaster struct {
	emit func(name string, payload any) // to every socket of "/"
	log  *slog.Logger

	// mu guards closing queue: senders hold it shared, close exclusively.
	mu     sync.RWMutex
	closed bool
	queue  chan event
	done   chan struct{} // closed when the emitting goroutine has exited
}

// newBroadcaster starts the goroutine that calls emit for each queued
// event; size bounds the queue.
func newBroadcaster(emit func(name string, payload any), log *slog.Logger, size int) *broadcaster {
	if size <= 0 {
		panic("server: the broadcast queue needs a positive size")
	}
	b := &broadcaster{emit: emit, log: log, queue: make(chan event, size), done: make(chan struct{})}
	go b.run()
	return b
}

// Broadcast queues an event for every connected socket of namespace "/",
// waiting for room if the queue is full. After close it is dropped: the
// sockets are gone anyway.
func (b *broadcaster) Broadcast(name string, payload any) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		b.log.Warn("broadcast after shutdown dropped", "event", name)
		return
	}
	select {
	case b.queue <- event{name, payload}:
	default:
		b.log.Warn("broadcast queue full: the request waits for room", "event", name, "queued", cap(b.queue))
		b.queue <- event{name, payload} // run always drains, so room comes
	}
}

func (b *broadcaster) run() {
	defer close(b.done)
	for ev := range b.queue {
		b.emit(ev.name, ev.payload)
	}
}

// close stops taking events, emits those already queued, and waits for
// that to finish, so a post stored just before shutdown is still announced.
func (b *broadcaster) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.done
}
