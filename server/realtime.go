package server

import (
	"log/slog"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

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
	// Recovery turns on connection state recovery (2 minutes).
	Recovery bool
	// AllowEIO3 accepts Engine.IO v3 clients (socket.io-client 2.x).
	AllowEIO3 bool
	// Origins and Methods are the CORS policy ("*" allows any origin).
	Origins []string
	Methods []string
	// Adapter, when set, replaces the in-memory one (localAdapters), e.g.
	// with the Redis cluster's, whose local part should be localAdapters'
	// (redisadapter.Options.Local).
	Adapter socket.AdapterConstructor
	// WriteTimeout bounds a write to one WebSocket client; one that stops
	// reading is dropped after it (0: 10 s).
	WriteTimeout time.Duration
}

// RecoveryWindow is how long connection state recovery keeps a
// disconnected socket's session and the broadcasts it may miss.
const RecoveryWindow = 2 * time.Minute

// localAdapters builds the adapters that deliver to this process's own
// sockets (fanoutAdapter): the server's adapter, or the local part of a
// cluster adapter (redisadapter.Options.Local is its Make method).
func localAdapters(o RealtimeOptions) fanoutAdapters {
	if o.Recovery {
		return fanoutAdapters{recovery: RecoveryWindow}
	}
	return fanoutAdapters{}
}

// FeedRealtime is what the feed server runs with: Node's defaults, every
// client version from 2.x on, recovery on, and cfg's CORS policy.
func FeedRealtime(cfg Config) RealtimeOptions {
	return RealtimeOptions{
		PingInterval:      PingInterval,
		PingTimeout:       PingTimeout,
		MaxHTTPBufferSize: MaxHTTPBufferSize,
		Recovery:          true,
		AllowEIO3:         true,
		Origins:           cfg.AllowedOrigins,
		Methods:           cfg.AllowedMethods,
		WriteTimeout:      cfg.wsWriteTimeout,
	}
}

// NewSocketIO builds a Socket.IO server over polling and WebSocket (with
// upgrade). Mount its ServeHandler(nil) at /socket.io/.
func NewSocketIO(o RealtimeOptions) *socket.Server {
	opts := socket.DefaultServerOptions()
	applyEngineOptions(&opts.Options, o)
	opts.SetServeClient(false)
	// Data from other servers of a cluster holds *redisadapter.Object
	// (objects in the sender's key order); this parser also sends binary
	// inside them as attachments. It changes nothing for other data.
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
	return socket.NewServer(nil, opts)
}

// NewEngineIO builds a bare Engine.IO server with the same settings, for
// Engine.IO-level conformance runs. Mount it at /engine.io/.
func NewEngineIO(o RealtimeOptions) engine.Server {
	opts := config.DefaultOptions()
	applyEngineOptions(opts, o)
	opts.SetPath("/engine.io")
	return engine.NewServer(opts)
}

// applyEngineOptions sets the Engine.IO part shared by both servers.
func applyEngineOptions(opts *config.Options, o RealtimeOptions) {
	opts.SetPingInterval(o.PingInterval)
	opts.SetPingTimeout(o.PingTimeout)
	opts.SetMaxHttpBufferSize(o.MaxHTTPBufferSize)
	// WebTransport needs HTTP/3, which this server does not listen on.
	opts.SetTransports(types.NewSet[transports.TransportCtor](&strictPollingBuilder{}, &fastWebSocketBuilder{writeTimeout: o.WriteTimeout}))
	opts.SetAllowUpgrades(true)
	opts.SetAllowEIO3(o.AllowEIO3)
	opts.SetCors(newCORSPolicy(o.Origins, o.Methods).socketIO())
}

// event is one queued broadcast.
type event struct {
	name    string
	payload any
}

// broadcaster implements handlers.Broadcaster on a Socket.IO server. An
// emit to thousands of sockets takes hundreds of milliseconds, so HTTP
// handlers only append to an unbounded queue and one goroutine emits, in
// order, which keeps create/update/delete events in the order they were
// stored.
type broadcaster struct {
	io  *socket.Server
	log *slog.Logger

	mu     sync.Mutex
	queue  []event
	closed bool
	wake   chan struct{} // capacity 1: "there is work"
	done   chan struct{} // closed when the emitting goroutine has exited
}

func newBroadcaster(io *socket.Server, log *slog.Logger) *broadcaster {
	b := &broadcaster{io: io, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go b.run()
	return b
}

// Broadcast queues an event for every connected socket of namespace "/".
// After close it is dropped: the sockets are gone anyway.
func (b *broadcaster) Broadcast(name string, payload any) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.log.Warn("broadcast after shutdown dropped", "event", name)
		return
	}
	b.queue = append(b.queue, event{name, payload})
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default: // already signalled
	}
}

func (b *broadcaster) run() {
	defer close(b.done)
	for range b.wake {
		for {
			b.mu.Lock()
			batch := b.queue
			b.queue = nil
			closed := b.closed
			b.mu.Unlock()
			for _, ev := range batch {
				b.io.Emit(ev.name, ev.payload)
			}
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
		}
	}
}

// close stops taking events, emits those already queued, and waits for
// that to finish, so a post stored just before shutdown is still announced.
func (b *broadcaster) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		return
	}
	b.closed = true
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	case <-b.done: // it saw closed on its own
	}
	<-b.done
}
