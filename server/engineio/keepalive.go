package engineio

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
)

// Keep-alive connections on the poller. net/http gives every connection
// a goroutine and 8 KiB of buffers for as long as it is open, and a
// pending GET a second goroutine; a polling client has two such
// connections (its GETs and its POSTs) for its whole life. So the first
// polling request on a connection moves the connection to the poller (as
// the WebSocket upgrade does), where its later requests are read.
//
// There the engine serves only what it is sure net/http would serve the
// same way: Engine.IO polling requests (GET, POST, OPTIONS under its
// path) that the standard library's own parser (http.ReadRequest) reads
// without fault and that pass the checks net/http's server adds (one
// valid Host, valid header names and values), in HTTP/1.1, framed by a
// Content-Length at most MaxPayload, with no Transfer-Encoding, Expect,
// Upgrade or "Connection: close". Every other request, and every fault,
// goes back to net/http with its connection (back.go: lent, the bytes
// read so far in front), which answers as it answers any connection:
// REST calls and images, refusals (400, 431, 501, ...), smuggling
// attempts. So a connection is never parsed more loosely than net/http
// parses it.
//
// The deadlines are net/http's, from the http.Server the connections
// come back to: its IdleTimeout between requests, ReadHeaderTimeout for
// a request's header and ReadTimeout for the whole request from its
// first byte; a connection past one is closed, as net/http closes it.
// They run on the engine's schedule: no goroutine or runtime timer per
// connection. A GET held for its session, or a POST whose packets are
// being processed, waits without a deadline of its own: the session's
// heartbeat answers a held GET within a ping interval.
//
// Requests are read in order and answered in order; bytes that come
// while one is served (pipelining) wait, unread, in the kernel.

// KeepAlive is what serving keep-alive connections on the poller needs.
type KeepAlive struct {
	// Server is the net/http server the connections come from: its
	// Handler serves the requests read on the poller, its timeouts are
	// applied there, and connections go back to it (the engine serves it
	// on a listener of its own, which its Shutdown closes).
	Server *http.Server
	// Path is where the engine is mounted (e.g. /socket.io/): requests
	// elsewhere go back to net/http.
	Path string

	// Server's deadlines as net/http applies them (0: none).
	header, request, idle time.Duration
}

// ServeKeepAlive moves polling clients' connections to the poller from
// now on (see KeepAlive); until it is called they stay on net/http.
func (s *Server) ServeKeepAlive(k KeepAlive) {
	// As net/http: without its own, the header and the wait between
	// requests have ReadTimeout.
	k.request, k.header, k.idle = k.Server.ReadTimeout, k.Server.ReadHeaderTimeout, k.Server.IdleTimeout
	if k.header == 0 {
		k.header = k.request
	}
	if k.idle == 0 {
		k.idle = k.request
	}
	s.ka.Store(&k)
	go func() { _ = k.Server.Serve(s.back) }() // ends when either closes the listener
}

// httpState is where a keep-alive connection on the poller is.
type httpState uint8

const (
	hReading httpState = iota // between requests, or reading one
	hServing                  // a request is served, or waits for its answer
	hLent                     // lent to net/http (bridge)
	hClosed                   // closed, or a WebSocket now (up)
)

// httpConn is a keep-alive HTTP/1.1 connection on the poller.
type httpConn struct {
	srv    *Server
	w      wire
	remote string

	mu        sync.Mutex
	state     httpState
	buf       []byte // read and not parsed yet
	unread    bool   // the kernel may hold bytes not read yet
	started   bool   // the next request's first bytes came, at t0
	t0        time.Time
	afterPOST bool // the last request was a POST (net/http skips CR/LF after one)
	tm        timer
	tmKind    timerKind // what tm is armed for (0: not armed)
	mark      int64     // bytes to be written by the write deadline
	idleFrom  time.Time // when the connection became idle
	// waitDrain: a request must go back to net/http once nbio has
	// written what it holds of the previous answers (read by drained,
	// which must not take mu).
	waitDrain atomic.Bool

	cur    *pollerResponse // the request being served
	holder *Socket         // the session whose GET is held here

	// Read by the poller's callbacks, which must not take mu: the bridge
	// of a connection lent to net/http; the WebSocket it was upgraded to
	// there (it is that connection from then on).
	bridge atomic.Pointer[bridgeConn]
	up     atomic.Pointer[wsConn]
}

func (h *httpConn) wire() *wire {
	if t := h.up.Load(); t != nil {
		return &t.w
	}
	return &h.w
}

// moveToPoller takes r's connection from net/http and puts it on the
// poller, where r is answered: now with answer(false), or later (answer
// nil: a GET held for holder). nil when it stays with net/http (not
// serving keep-alive connections, TLS, HTTP/1.0, "Connection: close",
// not TCP). answered: it was hijacked but could not move (its descriptor
// could not be duplicated, or the poller refused it); r got its answer
// with "Connection: close" (a held GET a noop) where the connection was
// still there, gone when not.
func (s *Server) moveToPoller(w http.ResponseWriter, r *http.Request, answer func(closing bool) []byte, holder *Socket) (h *httpConn, answered, gone bool) {
	ka := s.ka.Load()
	if ka == nil || r.TLS != nil || r.Close || !r.ProtoAtLeast(1, 1) {
		return nil, false, false
	}
	if _, tcp := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); !tcp {
		return nil, false, false
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, false, false
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, false, false
	}
	// What the client sent after r (it may not wait for the answer) is
	// read first on the poller.
	ahead := make([]byte, rw.Reader.Buffered())
	_, _ = io.ReadFull(rw.Reader, ahead)
	if b, ok := conn.(*bridgeConn); ok { // lent: it is on the poller already
		if h = b.h.takeBack(b, append(ahead, b.takeBack()...), holder); h == nil {
			return nil, true, true
		}
		if answer != nil {
			h.answer(answer(false))
		}
		return h, false, false
	}
	h = &httpConn{srv: s, remote: r.RemoteAddr, state: hServing, buf: ahead, holder: holder,
		cur: &pollerResponse{deferred: true}}
	h.tm = newTimer(h.onTimer)
	h.cur.h = h
	_, err = s.addToPoller(conn, func(nc *nbio.Conn) pollerConn {
		h.w = wire{nc: nc, srv: s, drained: h.drained}
		return h
	})
	if err != nil {
		if answer == nil { // a noop: the client polls again, elsewhere
			answer = func(closing bool) []byte {
				body, text := encodePayload([]outPacket{{typ: typeNoop}}, holder.protocol, holder.poll.supportsBinary)
				return pollAnswer(w.Header(), pollContentType(text), identity, body, closing, s.date())
			}
		}
		_, werr := conn.Write(answer(true)) // fails if the poller closed it
		_ = conn.Close()
		return nil, true, werr != nil
	}
	s.httpConns.Store(h, struct{}{})
	if answer != nil {
		h.answer(answer(false))
	}
	return h, false, false
}

// takeBack takes a lent connection back from net/http for a request it
// hijacked, which is served on the poller now; buf is what was read and
// not used. nil if the connection closed meanwhile.
func (h *httpConn) takeBack(b *bridgeConn, buf []byte, holder *Socket) *httpConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != hLent || h.bridge.Load() != b {
		return nil
	}
	h.bridge.Store(nil)
	h.state, h.buf, h.holder, h.started, h.afterPOST = hServing, buf, holder, false, false
	h.cur = &pollerResponse{h: h, deferred: true}
	h.unread = true // the poller's calls went to the bridge
	return h
}

// upgrade makes a connection lent to net/http the WebSocket t, for an
// upgrade request it hijacked. It must have written all it had (t counts
// its writes from zero).
func (h *httpConn) upgrade(b *bridgeConn, t *wsConn) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != hLent || h.bridge.Load() != b || h.w.backlog() != 0 {
		h.closeLocked()
		return net.ErrClosed
	}
	t.w = wire{nc: h.w.nc, srv: h.srv, drained: t.drained}
	h.state = hClosed
	h.bridge.Store(nil)
	h.up.Store(t)
	h.srv.httpConns.Delete(h)
	return nil
}

// handBack lends the connection to net/http (under h.mu, reading), with
// what was read of it in front, for the http.Server the engine serves
// the back listener with. What nbio has not written of earlier answers
// goes out first.
func (h *httpConn) handBack() {
	if h.w.backlog() > 0 {
		h.waitDrain.Store(true)
		if h.w.backlog() > 0 || !h.waitDrain.CompareAndSwap(true, false) {
			return // drained resumes
		}
	}
	b := newBridge(h, bytes.Clone(h.buf)) // h.buf may be the poller's buffer
	h.buf = nil
	h.state = hLent
	h.disarm()
	h.bridge.Store(b)
	if !h.srv.back.deliver(b) {
		h.closeLocked()
	}
}

// closeLocked closes the connection (under h.mu).
func (h *httpConn) closeLocked() {
	if h.state == hClosed {
		return
	}
	h.state = hClosed
	h.disarm()
	_ = h.w.nc.Close()
}

// dropSlow closes a connection holding too much of what it was sent.
func (h *httpConn) dropSlow() {
	h.mu.Lock()
	h.closeLocked()
	h.mu.Unlock()
	h.srv.opts.Observer.Dropped(SlowTotal)
}

// gone: nbio closed the connection; a GET held on it ends its session
// as an aborted poll does.
func (h *httpConn) gone() {
	if t := h.up.Load(); t != nil {
		t.gone()
		return
	}
	if b := h.bridge.Load(); b != nil {
		b.end()
	}
	h.w.release()
	h.srv.httpConns.Delete(h)
	h.mu.Lock()
	holder := h.holder
	h.holder = nil
	h.state = hClosed
	h.disarm()
	h.mu.Unlock()
	if holder != nil {
		holder.heldGone(h)
	}
}
