// Package realtime is the real-time engine: the library's Socket.IO
// server bound to the project's Engine.IO server (server/engineio), with
// the fan-out adapter that writes each broadcast once to every session
// (fanout.go), connection state recovery's log (recovery.go), and the
// Broadcaster that emits queued events in order (broadcaster.go).
//
// It knows no configuration: whoever wires it (server/, or the
// conformance command) passes every setting in Options, and the CORS
// policy through the small CORS interface.
package realtime

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/engineio"
	"feedrt/server/msgpackparser"
	"feedrt/server/nodewire"
)

// Options are the Engine.IO and Socket.IO settings, Node's options of the
// same names; every duration and size is required (New refuses a zero).
// The feed server passes its configuration; the conformance command what
// the protocols' test suites expect.
type Options struct {
	PingInterval      time.Duration
	PingTimeout       time.Duration
	UpgradeTimeout    time.Duration
	ConnectTimeout    time.Duration
	MaxHTTPBufferSize int64
	// Recovery turns on connection state recovery: a disconnected
	// socket's session and the broadcasts it may miss are kept for
	// RecoveryWindow (Node's maxDisconnectionDuration), at most
	// RecoveryMaxPackets broadcasts of RecoveryMaxBytes in all and
	// RecoveryMaxSessions sessions; SkipMiddlewares is Node's option of
	// that name. All required with Recovery.
	Recovery                                                  bool
	RecoveryWindow                                            time.Duration
	SkipMiddlewares                                           bool
	RecoveryMaxPackets, RecoveryMaxBytes, RecoveryMaxSessions int
	// AllowEIO3 accepts Engine.IO v3 clients (socket.io-client 2.x).
	AllowEIO3 bool
	// Transports are the Engine.IO transports clients may use, "polling"
	// and/or "websocket" (required; engineio.Options.Transports).
	Transports []string
	// AllowUpgrades offers polling clients the upgrade to WebSocket
	// (engineio.Options.AllowUpgrades).
	AllowUpgrades bool
	// HTTPCompression compresses long-polling answers of at least
	// HTTPCompressionThreshold bytes for clients that accept it
	// (engineio.Options.HTTPCompression, CompressionThreshold).
	HTTPCompression          bool
	HTTPCompressionThreshold int64
	// PerMessageDeflate compresses WebSocket messages of at least
	// DeflateThreshold bytes for clients that offer permessage-deflate
	// (engineio.Options.PerMessageDeflate, DeflateThreshold).
	PerMessageDeflate bool
	DeflateThreshold  int64
	// Cookie, when set, is the cookie a polling handshake sets to the
	// session id, for sticky sessions (engineio.Options.Cookie).
	Cookie *engineio.Cookie
	// CORS is the cross-origin policy the handler obeys (required).
	CORS CORS
	// Adapter, when set, replaces the in-memory one (LocalAdapter), e.g.
	// with the Redis cluster's, whose local part should be LocalAdapter's
	// (redisadapter.Options.Local).
	Adapter socket.AdapterConstructor
	// WriteTimeout drops a client that leaves bytes unwritten this long.
	WriteTimeout time.Duration
	// MaxQueued bounds what one connection holds for its client,
	// MaxQueuedTotal what all of them hold (engineio.Options).
	MaxQueued, MaxQueuedTotal int64
	// Parser is the Socket.IO parser of every connection: ParserDefault
	// ("" too) or ParserMsgpack (Node's socket.io-msgpack-parser 3.x).
	Parser   string
	Log      *slog.Logger     // nil: discard
	Observer Observer         // nil: nothing reported
	Now      func() time.Time // the recovery log's clock; nil: time.Now
}

// Observer is what the engine reports: its Engine.IO sessions (the
// engineio.Observer events), its broadcasts and connection state
// recovery. server/metrics is measured through it.
type Observer interface {
	engineio.Observer
	// Broadcast: a broadcast of event is delivered to this process's
	// sockets; FanoutDone: in that time.
	Broadcast(event string)
	FanoutDone(time.Duration)
	// SessionRecovered, SessionExpired: a reconnecting client's session
	// was restored, or was too old or unknown.
	SessionRecovered()
	SessionExpired()
}

// noObserver is the Observer of Options without one.
type noObserver struct{ engineio.Observer }

func (noObserver) Broadcast(string)         {}
func (noObserver) FanoutDone(time.Duration) {}
func (noObserver) SessionRecovered()        {}
func (noObserver) SessionExpired()          {}

// The parsers Options.Parser names.
const (
	ParserDefault = "default" // socket.io-parser's text packets with binary attachments
	ParserMsgpack = "msgpack" // socket.io-msgpack-parser 3.x: one msgpack message a packet
)

// CORS is the cross-origin policy of the Engine.IO handler; server/cors's
// Policy, the one the REST routes obey too, is the implementation.
type CORS interface {
	// AllowsRequest reports whether a WebSocket upgrade request may
	// proceed, from its Origin.
	AllowsRequest(r *http.Request) bool
	// EngineIO puts h behind the policy: it answers preflights and sets
	// the CORS headers of the origins it allows.
	EngineIO(h http.Handler) http.Handler
}

// observer is o's Observer, or one that reports nothing.
func (o Options) observer() Observer {
	if o.Observer == nil {
		return noObserver{engineio.NoObserver}
	}
	return o.Observer
}

// now is o's clock.
func (o Options) now() func() time.Time {
	if o.Now == nil {
		return time.Now
	}
	return o.Now
}

// LocalAdapter makes the adapter that delivers to this process's own
// sockets, not constructed yet: the local part of a cluster adapter
// (redisadapter.Options.Local). It panics when Recovery is on without
// its limits.
func (o Options) LocalAdapter() func() socket.Adapter { return localAdapters(o).Make }

// ClusterLocalAdapter is LocalAdapter for a cluster adapter that keeps
// connection state recovery's sessions and broadcasts itself (the Redis
// Streams adapter: in Redis): no recovery log here, and the cluster
// gives each broadcast its offset (BroadcastWithOffset).
func (o Options) ClusterLocalAdapter() func() socket.Adapter {
	return fanoutAdapters{observer: o.observer(), now: o.now()}.Make
}

// localAdapters builds the adapters that deliver to this process's own
// sockets (fanoutAdapter): the server's adapter, or the local part of a
// cluster adapter (redisadapter.Options.Local is its Make method).
func localAdapters(o Options) fanoutAdapters {
	if !o.Recovery {
		return fanoutAdapters{observer: o.observer(), now: o.now()}
	}
	if o.RecoveryWindow <= 0 || o.RecoveryMaxPackets <= 0 || o.RecoveryMaxBytes <= 0 || o.RecoveryMaxSessions <= 0 {
		panic("realtime: recovery needs RecoveryWindow, RecoveryMaxPackets, RecoveryMaxBytes and RecoveryMaxSessions")
	}
	return fanoutAdapters{observer: o.observer(), now: o.now(), recovery: recoveryLimits{
		maxAge:      o.RecoveryWindow,
		maxPackets:  o.RecoveryMaxPackets,
		maxBytes:    o.RecoveryMaxBytes,
		maxSessions: o.RecoveryMaxSessions,
	}}
}

// Server is a Socket.IO server bound to the project's Engine.IO server.
// Mount Handler at the Socket.IO path (/socket.io/).
type Server struct {
	IO      *socket.Server
	Handler http.Handler // the engine behind the CORS policy
	Engine  *engineio.Server
}

// New builds a Socket.IO server over polling and WebSocket (with
// upgrade) on the project's Engine.IO server.
func New(o Options) (*Server, error) {
	if o.ConnectTimeout <= 0 {
		return nil, errors.New("realtime: Options.ConnectTimeout is required")
	}
	var p parser.Parser
	switch o.Parser {
	case "", ParserDefault:
		// Packets go out as a Node server writes them: data from other
		// servers of a cluster (*nodewire.Object, keys in the
		// sender's order) with its binary as attachments, and JSON
		// without the HTML escapes of encoding/json.
		p = nodewire.Parser(parser.NewParser())
	case ParserMsgpack:
		// It writes *nodewire.Object in order itself (Ordered).
		p = msgpackparser.New()
	default:
		return nil, fmt.Errorf("realtime: unknown Options.Parser %q", o.Parser)
	}
	eio, handler, err := NewEngine(o)
	if err != nil {
		return nil, err
	}
	opts := socket.DefaultServerOptions()
	opts.SetServeClient(false)
	opts.SetParser(p)
	opts.SetConnectTimeout(o.ConnectTimeout)
	if o.Recovery {
		csr := &socket.ConnectionStateRecovery{}
		csr.SetMaxDisconnectionDuration(o.RecoveryWindow.Milliseconds())
		csr.SetSkipMiddlewares(o.SkipMiddlewares)
		opts.SetConnectionStateRecovery(csr)
	}
	if o.Adapter != nil {
		opts.SetAdapter(o.Adapter)
	} else {
		opts.SetAdapter(localAdapters(o))
	}
	io := socket.NewServer(nil, opts)
	io.Bind(eio)
	return &Server{IO: io, Handler: handler, Engine: eio}, nil
}
