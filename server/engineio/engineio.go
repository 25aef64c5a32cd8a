// Package engineio is the project's Engine.IO server (protocols 4 and 3,
// WebSocket and HTTP long-polling with upgrade) under the Socket.IO layer
// of github.com/zishang520/socket.io (servers/socket/v3), which binds to it
// with socket.Server.Bind.
//
// It is built for many idle connections and fast fan-out:
//   - WebSockets, and the keep-alive connections of polling clients, are
//     read by the poller of github.com/lesismal/nbio (poller.go): the
//     connection hijacked from net/http moves onto it, so an idle one has
//     no goroutine; writes never block;
//   - a broadcast is encoded once (Message) and shared: one WebSocket
//     frame that every connection's queue refers to (with
//     permessage-deflate, one compressed frame too: wsdeflate.go), one
//     packet shared by every polling session's buffer; what waits for a client is bounded
//     per connection and in all (bounds.go), and a client that stops
//     reading is dropped;
//   - heartbeats and every other deadline (HTTP's on the poller too) run
//     on one schedule (a heap and one goroutine per server), the pong
//     deadline armed before the ping is written;
//   - a session keeps what the Socket.IO layer reads of its handshake
//     (headers, query, URL, address, secure flag), not the request;
//   - a client's packets run on its session's own queue (Socket.exec),
//     never on the poller's goroutine.
//
// It implements the part of the library's engine.BaseServer and
// engine.Socket interfaces that the Socket.IO layer uses; the interfaces'
// other methods are not implemented (calling one panics). Behaviour
// follows Node's engine.io 6: its error codes and messages, close reasons,
// answers to concurrent polling requests, and the upgrade handshake.
package engineio

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Options are the engine's settings; every field is required (New
// refuses a zero value) except AllowUpgrades, AllowEIO3,
// HTTPCompression, CompressionThreshold, PerMessageDeflate,
// DeflateThreshold, Cookie, CheckOrigin, Log and Observer.
type Options struct {
	PingInterval time.Duration
	PingTimeout  time.Duration
	// MaxPayload is the largest message or POST body a client may send
	// (Node's maxHttpBufferSize).
	MaxPayload int64
	// UpgradeTimeout is how long a probed WebSocket has to complete the
	// upgrade from long-polling.
	UpgradeTimeout time.Duration
	// WriteTimeout drops a client that leaves bytes unwritten for this
	// long (a WebSocket, or a polling connection on the poller).
	WriteTimeout time.Duration
	// MaxQueued bounds what one connection holds for its client: a
	// WebSocket's queue with what nbio copied of it, a polling session's
	// buffer between two GETs. Past it the client is dropped at once.
	// MaxQueuedTotal bounds the memory all of them hold, a broadcast
	// counted once however many queues hold it; past it the clients
	// holding the most are dropped (see bounds.go).
	MaxQueued      int64
	MaxQueuedTotal int64
	// AllowEIO3 accepts protocol 3 (socket.io-client 2.x).
	AllowEIO3 bool
	// Transports are those clients may use, "polling" and/or "websocket"
	// (Node's transports; its default is both). A request on another is
	// refused with "Transport unknown", as Node refuses it.
	Transports []string
	// AllowUpgrades offers polling sessions the upgrade to WebSocket in
	// their open packet (Node's allowUpgrades; its default is true).
	// False only empties that list, as in Node: a client that probes
	// anyway is upgraded.
	AllowUpgrades bool
	// HTTPCompression compresses long-polling answers of at least
	// CompressionThreshold bytes, gzip or deflate as the client accepts
	// (Node's httpCompression, on in Node with a threshold of 1024; see
	// compress.go). A client on polling for good, behind a proxy that
	// blocks WebSocket, then gets a post's text in under half the bytes.
	HTTPCompression      bool
	CompressionThreshold int64
	// PerMessageDeflate negotiates permessage-deflate with WebSocket
	// clients that offer it and sends them messages of at least
	// DeflateThreshold bytes compressed (Node's perMessageDeflate, off in
	// Node, with a threshold of 1024 when on; see wsdeflate.go). Without
	// context takeover, so a broadcast is compressed once for every
	// socket.
	PerMessageDeflate bool
	DeflateThreshold  int64
	// Cookie, when set, is the cookie a polling handshake's answer sets
	// to the session id (Node's cookie option; nil: none, Node's
	// default).
	Cookie *Cookie
	// CheckOrigin, when set, refuses WebSocket upgrades it returns false
	// for (403).
	CheckOrigin func(r *http.Request) bool
	Log         *slog.Logger
	// Observer, when set, hears of every session's life (for metrics).
	Observer Observer
}

// Observer hears of sessions opening, upgrading and closing, and of
// refused requests. Calls come outside the session's lock, once per
// event (never per packet).
type Observer interface {
	Opened(transport string, protocol int)
	Upgraded(protocol int)
	// Closed: reason is the close reason the session emitted; slow is
	// true when the server dropped a client that did not take its data.
	Closed(transport string, protocol int, reason string, slow bool)
	// Dropped: the server dropped a client (a session, or a polling
	// connection on the poller) that did not take what was sent to it.
	Dropped(cause SlowCause)
	// Refused: code is the Engine.IO error code (0–5) of a refused
	// handshake or upgrade, or -1 for a probe that never upgraded.
	Refused(code int, upgrade bool)
}

// NoObserver reports nothing: the Observer of a server given none.
var NoObserver Observer = noObserver{}

type noObserver struct{}

func (noObserver) Opened(string, int)               {}
func (noObserver) Upgraded(int)                     {}
func (noObserver) Closed(string, int, string, bool) {}
func (noObserver) Dropped(SlowCause)                {}
func (noObserver) Refused(int, bool)                {}

func (o Options) check() error {
	if o.PingInterval <= 0 || o.PingTimeout <= 0 || o.MaxPayload <= 0 || o.UpgradeTimeout <= 0 ||
		o.WriteTimeout <= 0 || o.MaxQueued <= 0 || o.MaxQueuedTotal <= 0 {
		return errors.New("engineio: PingInterval, PingTimeout, MaxPayload, UpgradeTimeout, WriteTimeout, MaxQueued and MaxQueuedTotal are required")
	}
	if o.CompressionThreshold < 0 || o.DeflateThreshold < 0 {
		return errors.New("engineio: CompressionThreshold and DeflateThreshold must not be negative")
	}
	if len(o.Transports) == 0 {
		return errors.New("engineio: Transports is required")
	}
	for _, t := range o.Transports {
		if t != "polling" && t != "websocket" {
			return fmt.Errorf("engineio: unknown transport %q in Transports", t)
		}
	}
	if o.Cookie != nil {
		return o.Cookie.Check()
	}
	return nil
}

// Server is an Engine.IO server; mount it (ServeHTTP) at the path its
// clients use, e.g. /socket.io/.
type Server struct {
	engine.BaseServer // not implemented: see the package comment

	opts   Options
	log    *slog.Logger
	sched  *schedule
	work   *worker
	frames frames // the fixed frames every socket sends

	// The transports Options allow, and the attributes of the cookie
	// (Options.Cookie), read at every request.
	polling, websocket bool
	cookieAttrs        string

	mu          sync.RWMutex
	clients     map[string]*Socket
	onConnect   []types.EventListener
	closed      bool
	clientCount atomic.Int64
	opened      atomic.Uint64 // sessions opened (Socket.seq)

	// The poller (poller.go): nbio's engine, buffers for reads off the
	// poller, connections on it.
	nb       *nbio.Engine
	readBufs sync.Pool
	onPoller atomic.Int64
	// inboxes: the goroutines running sessions' packets (inbox.go).
	inboxes sync.WaitGroup

	// Keep-alive connections (keepalive.go, back.go).
	ka          atomic.Pointer[KeepAlive] // set: polling connections move to the poller
	back        *backListener
	httpConns   sync.Map     // *httpConn → struct{}: those on the poller
	answers     sync.Pool    // *[]byte: buffers for held GETs' answers
	zippers     [2]sync.Pool // *zipper: gzip's, deflate's (compress.go)
	zips        atomic.Int64 // answers compressed, a shared one once (tests count them)
	headReaders sync.Pool    // *headReader
	deflaters   sync.Pool    // *deflater (wsdeflate.go)
	inflaters   sync.Pool    // flate's io.ReadCloser, a flate.Resetter
	deflates    atomic.Int64 // WebSocket messages compressed, a shared one once (tests count them)
	dateCache   atomic.Pointer[dateText]

	// What waits for clients (bounds.go); batches are buffers for
	// WebSocket queue refills.
	queued   atomic.Int64
	evicting atomic.Bool
	batches  sync.Pool
	// Drops are logged at most once a second (logDrop).
	dropLogged, dropsUnlogged atomic.Int64

	wsOpen atomic.Int64  // WebSocket connections not yet closed
	wsGone chan struct{} // signalled when one closes (for Close)
}

var _ engine.BaseServer = (*Server)(nil)

// New starts a server: its schedule goroutine and its poller.
func New(o Options) (*Server, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Observer == nil {
		o.Observer = NoObserver
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: o, log: log, sched: newSchedule(), work: newWorker(), clients: map[string]*Socket{},
		frames: newFrames(), back: newBackListener(), wsGone: make(chan struct{}, 1),
		polling: slices.Contains(o.Transports, "polling"), websocket: slices.Contains(o.Transports, "websocket")}
	if o.Cookie != nil {
		s.cookieAttrs = o.Cookie.attributes()
	}
	s.answers.New = func() any { b := make([]byte, 0, 1024); return &b }
	s.headReaders.New = func() any { hr := new(headReader); hr.br = *bufio.NewReaderSize(nil, 1024); return hr }
	s.batches.New = func() any { b := make([]byte, 0, refillBatch); return &b }
	s.newPoller()
	if err := s.startPoller(); err != nil {
		return nil, err // a poller that never started cannot be stopped
	}
	go s.sched.run()
	go s.work.run()
	return s, nil
}

// On registers listeners for "connection" (an *Socket, open), the only
// event the server emits.
func (s *Server) On(ev types.EventName, fns ...types.EventListener) error {
	if ev != "connection" {
		return fmt.Errorf("engineio: the server emits no %q event", ev)
	}
	s.mu.Lock()
	s.onConnect = append(s.onConnect, fns...)
	s.mu.Unlock()
	return nil
}

// ClientsCount is the number of open sessions.
func (s *Server) ClientsCount() uint64 { return uint64(s.clientCount.Load()) }

// PollerConns is the number of connections on the poller (WebSockets,
// keep-alive HTTP connections): open descriptors the server holds
// besides net/http's.
func (s *Server) PollerConns() int64 { return s.onPoller.Load() }

// Close closes every session ("forced close"), the keep-alive
// connections and the listener that gives them back to net/http, and
// stops the poller, the schedule and the worker. Sessions' queued bytes
// are written first where the client takes them (see Socket.Close).
func (s *Server) Close() engine.BaseServer {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s
	}
	s.closed = true
	all := slices.Collect(maps.Values(s.clients))
	s.mu.Unlock()
	_ = s.back.Close()
	for _, c := range all {
		c.close("server shutting down", true, typeClose)
	}
	s.waitWebSocketsFlushed()
	s.nb.Stop()
	s.waitInboxes()
	s.sched.close()
	s.work.close()
	return s
}

// Protocol error codes and messages, as Node's engine.io answers them.
const (
	errUnknownTransport = iota
	errUnknownSid
	errBadHandshakeMethod
	errBadRequest
	errForbidden
	errUnsupportedProtocol
)

var errorMessages = [...]string{
	"Transport unknown", "Session ID unknown", "Bad handshake method", "Bad request", "Forbidden",
	"Unsupported protocol version",
}

// refuse answers a request the protocol does not allow, in Node's form,
// and reports it.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int) {
	q := parseQuery(r.URL.RawQuery)
	s.opts.Observer.Refused(code, q.transport == "websocket" && q.hasSid)
	refuse(w, code)
}

// refuse answers a request the protocol does not allow, in Node's form.
func refuse(w http.ResponseWriter, code int) {
	status, body := refusalOf(code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// refusalOf is the status and body of a refusal.
func refusalOf(code int) (int, []byte) {
	status := http.StatusBadRequest
	if code == errForbidden {
		status = http.StatusForbidden
	}
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, errorMessages[code]})
	return status, body
}

// abortUpgrade answers an upgrade request as Node's abortUpgrade does:
// a 400 in plain text on the raw connection, which is then closed.
func (s *Server) abortUpgrade(w http.ResponseWriter, r *http.Request, code int) {
	hj, ok := w.(http.Hijacker)
	if !ok { // HTTP/2 has no upgrades; answer as any request
		s.refuse(w, r, code)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	q := parseQuery(r.URL.RawQuery)
	s.opts.Observer.Refused(code, q.transport == "websocket" && q.hasSid)
	msg := errorMessages[code]
	_ = conn.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	_, _ = conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: text/html\r\nContent-Length: " +
		strconv.Itoa(len(msg)) + "\r\n\r\n" + msg))
	_ = conn.Close()
}

// nodeUpgrade reports whether Node's HTTP parser takes r for an upgrade
// request (Connection holds "upgrade" and there is an Upgrade header),
// which Node's server hands to its "upgrade" listeners, not "request".
func nodeUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && headerHasToken(r.Header, "Connection", "upgrade")
}

// cookieHeader is the Set-Cookie value for session sid, as the cookie
// package's serialize writes it (a sid is URL-safe base64, which its
// encodeURIComponent leaves as it is).
func (s *Server) cookieHeader(sid string) string {
	return s.opts.Cookie.Name + "=" + sid + s.cookieAttrs
}

// refusal is a whole refusal with the headers h, written later.
func refusal(h http.Header, code int, date []byte) []byte {
	status, body := refusalOf(code)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return rawResponse(h, status, body, date)
}

// ServeHTTP handles every Engine.IO request: handshakes, polling GETs and
// POSTs, and WebSocket upgrades (new or from polling).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := parseQuery(r.URL.RawQuery)
	transport := q.transport
	if !(transport == "polling" && s.polling || transport == "websocket" && s.websocket) {
		// Node checks the transport first (verify). An upgrade request is
		// its handleUpgrade's when WebSocket is allowed (it listens for
		// upgrades then only), which answers on the raw connection.
		if s.websocket && nodeUpgrade(r) {
			s.abortUpgrade(w, r, errUnknownTransport)
		} else {
			s.refuse(w, r, errUnknownTransport)
		}
		return
	}
	protocol := 4
	if q.eio != "4" { // as Node: anything else is protocol 3
		if !s.opts.AllowEIO3 {
			s.refuse(w, r, errUnsupportedProtocol)
			return
		}
		protocol = 3
	}
	upgrade := isWebSocketUpgrade(r)
	if transport == "websocket" && !upgrade {
		s.refuse(w, r, errBadRequest)
		return
	}
	sid := q.sid
	if sid == "" {
		if r.Method != http.MethodGet {
			s.refuse(w, r, errBadHandshakeMethod)
			return
		}
		s.handshake(w, r, transport, protocol, q.hasB64)
		return
	}
	s.mu.RLock()
	c, ok := s.clients[sid]
	s.mu.RUnlock()
	if !ok || c.timedOut(time.Now()) {
		s.refuse(w, r, errUnknownSid)
		return
	}
	if transport == "websocket" {
		c.upgradeTo(w, r)
		return
	}
	c.servePolling(w, r)
}

// handshake opens a session on transport.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, transport string, protocol int, b64 bool) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		s.refuse(w, r, errBadRequest)
		return
	}
	c := newSocket(s, newSid(), protocol, snapshot(r))
	if transport == "websocket" {
		if !s.acceptWebSocket(w, r, c, &wsConn{c: c}, true) {
			return
		}
	} else {
		c.startPolling(!b64)
		if s.opts.Cookie != nil {
			// Node sets the cookie in the polling transport's "headers"
			// of the first request only; its WebSocket transport writes
			// no headers, so a direct WebSocket gets none.
			w.Header().Set("Set-Cookie", s.cookieHeader(c.id))
		}
	}
	s.register(c)
	c.open()
	if transport == "polling" {
		c.servePolling(w, r) // answers the handshake GET with the open packet
	}
}

// register makes c known to later requests.
func (s *Server) register(c *Socket) {
	s.mu.Lock()
	s.clients[c.id] = c
	s.mu.Unlock()
	s.clientCount.Add(1)
}

// forget removes c once it has closed.
func (s *Server) forget(c *Socket) {
	s.mu.Lock()
	_, ok := s.clients[c.id]
	delete(s.clients, c.id)
	s.mu.Unlock()
	if ok {
		s.clientCount.Add(-1)
	}
}

// emitConnection hands an open socket to the "connection" listeners.
func (s *Server) emitConnection(c *Socket) {
	s.mu.RLock()
	fns := s.onConnect
	s.mu.RUnlock()
	for _, fn := range fns {
		fn(c)
	}
}

// openPacket is the data of the open packet, keys in Node's order.
func (s *Server) openPacket(sid string, upgrades []string) []byte {
	b, _ := json.Marshal(struct {
		Sid          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}{sid, upgrades, s.opts.PingInterval.Milliseconds(), s.opts.PingTimeout.Milliseconds(), s.opts.MaxPayload})
	return b
}

// newSid makes a session id as Node's base64id does: 15 random bytes,
// URL-safe base64 (20 characters).
func newSid() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func isWebSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

// headerHasToken reports whether a comma-separated header holds token
// (case-insensitively).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// query is what the engine reads of a request's query string: each
// parameter's first value, as url.Values.Get (without building the map
// for every poll).
type query struct {
	transport, eio, sid string
	hasSid, hasB64      bool
}

// parseQuery reads raw as url.ParseQuery does (pairs it cannot unescape,
// or holding a semicolon, are skipped) for the parameters of query.
func parseQuery(raw string) query {
	var q query
	var seenTransport, seenEIO bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		var ok bool
		if k, ok = unescapeQuery(k); !ok {
			continue
		}
		if v, ok = unescapeQuery(v); !ok {
			continue
		}
		switch k {
		case "transport":
			if !seenTransport {
				q.transport, seenTransport = v, true
			}
		case "EIO":
			if !seenEIO {
				q.eio, seenEIO = v, true
			}
		case "sid":
			if !q.hasSid {
				q.sid, q.hasSid = v, true
			}
		case "b64":
			q.hasB64 = true
		}
	}
	return q
}

// unescapeQuery unescapes a query component, without allocating when
// there is nothing to unescape.
func unescapeQuery(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}
