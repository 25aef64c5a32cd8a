package engineio

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
	"golang.org/x/net/http/httpguts"
)

// Long-polling on the poller. net/http gives every connection a goroutine
// and 8 KiB of buffers for as long as it is open, and a pending GET a
// second goroutine; a polling client has two such connections (its GETs
// and its POSTs) for its whole life. So the first polling request on a
// connection moves the connection to the poller (as the WebSocket upgrade
// does): its answer is written there, and the requests that follow on it,
// whatever they are, are parsed by nbhttp and served by the same handler
// as on net/http. A GET with nothing to answer yet is held there: no
// goroutine waits for it; whoever has something for it (a packet, the
// close, the upgrade) writes its answer.

// TakeOver is what serving polling connections on the poller needs: the
// handler for their later requests (the whole application, as net/http
// serves it), how long a connection may wait for its next request, and
// the largest request body it reads (nbhttp reads a body whole before
// the handler runs).
// TooLarge is the JSON body of the 413 a request past MaxBody (or with
// headers past the parser's limit) gets before its connection closes;
// CORS, if set, adds the cross-origin headers the handler's middleware
// would give a request from origin to host (the 413 is written without
// the handler, which would need the whole body).
type TakeOver struct {
	Handler  http.Handler
	Idle     time.Duration
	MaxBody  int
	TooLarge []byte
	CORS     func(h http.Header, origin, host string)
}

// ServeConnections moves polling connections to the poller from now on
// (see TakeOver); until it is called they stay on net/http.
func (s *Server) ServeConnections(t TakeOver) {
	s.nb.KeepaliveTime = t.Idle
	s.nb.MaxHTTPBodySize = t.MaxBody
	s.nb.ReadLimit = t.MaxBody + http.DefaultMaxHeaderBytes // what the parser may hold unparsed
	s.takeOver.Store(&t)
}

// serveTaken serves a request on a connection on the poller. A request
// on a connection whose GET is held cannot be answered in order (the
// client sent it before its answer): the connection is closed.
func (s *Server) serveTaken(w http.ResponseWriter, r *http.Request) {
	var nc *nbio.Conn
	if res, ok := w.(*nbhttp.Response); ok && res.Parser != nil {
		nc = nbConnOf(res.Parser.Conn)
	}
	if nc == nil { // not nbhttp's own call
		return
	}
	if _, held := s.held.Load(nc); held {
		_ = nc.Close()
		return
	}
	t := s.takeOver.Load()
	s.mu.RLock()
	serve := !s.closed && t != nil
	if serve {
		s.serving.Add(1)
	}
	s.mu.RUnlock()
	if !serve { // shutting down: the client retries elsewhere
		_ = nc.Close()
		return
	}
	// nbhttp writes the response once the handler has returned, in the
	// same job of the connection: the request counts as served after
	// that job (Close must not close the connection before).
	defer nc.MustExecute(s.serving.Done)
	t.Handler.ServeHTTP(w, r)
}

// waitServed waits (up to WriteTimeout) for the requests being served on
// the poller, once no new one can start.
func (s *Server) waitServed() {
	done := make(chan struct{})
	go func() { s.serving.Wait(); close(done) }()
	t := time.NewTimer(s.opts.WriteTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Warn("Engine.IO: requests on polling connections still running at close", "waited", s.opts.WriteTimeout)
	}
}

// connClosed: a connection on the poller is gone; a GET held on it ends
// its session as an aborted poll does.
func (s *Server) connClosed(conn net.Conn) {
	nc := nbConnOf(conn)
	if nc == nil {
		return
	}
	if c, ok := s.held.LoadAndDelete(nc); ok {
		c.(*Socket).heldGone(nc)
	}
}

// onPoller reports whether w (or the writer it wraps, as Gin's does) is
// nbhttp's: the request came on a connection on the poller.
func onPoller(w http.ResponseWriter) bool {
	for {
		switch v := w.(type) {
		case *nbhttp.Response:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return false
		}
	}
}

func nbConnOf(c net.Conn) *nbio.Conn {
	if hc, ok := c.(*nbhttp.Conn); ok {
		c = hc.Conn
	}
	nc, _ := c.(*nbio.Conn)
	return nc
}

// onTakenData parses what came on a connection on the poller, as nbhttp's
// own data handler does, but answers a request too large for the parser
// with a 413 before closing the connection.
func (s *Server) onTakenData(c *nbio.Conn, data []byte) {
	p, ok := c.Session().(*nbhttp.Parser)
	if !ok {
		s.nb.DataHandler(c, data)
		return
	}
	err := p.Parse(data)
	if err == nil {
		return
	}
	if errors.Is(err, nbhttp.ErrTooLong) {
		if t := s.takeOver.Load(); t != nil {
			h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Connection": {"close"},
				"Content-Length": {strconv.Itoa(len(t.TooLarge))}}
			if tp, ok := p.Processor.(*takenProcessor); ok && t.CORS != nil {
				t.CORS(h, tp.origin, tp.host)
			}
			_, _ = c.Write(rawResponse(h, http.StatusRequestEntityTooLarge, t.TooLarge))
		}
	}
	_ = c.CloseWithError(err)
}

// takenProcessor is nbhttp's request processor keeping, in addition, the
// Origin and Host of the request being read: a request too large for the
// parser never reaches the handler, and its 413 needs them for CORS. One
// object with nbhttp's (its zero value is what NewServerProcessor gives).
type takenProcessor struct {
	nbhttp.ServerProcessor
	origin, host string
}

func (p *takenProcessor) OnMethod(parser *nbhttp.Parser, method string) {
	p.origin, p.host = "", "" // a new request
	p.ServerProcessor.OnMethod(parser, method)
}

func (p *takenProcessor) OnHeader(parser *nbhttp.Parser, key, value string) {
	switch {
	case strings.EqualFold(key, "Origin"):
		p.origin = value
	case strings.EqualFold(key, "Host"):
		p.host = value
	}
	p.ServerProcessor.OnHeader(parser, key, value)
}

// heldGET is a GET held on a connection on the poller.
type heldGET struct {
	conn *nbio.Conn
	head []byte // the status line and headers, Content-Type and Content-Length to come
}

// hold holds r on the poller for c (under c.mu), moving its connection
// there first when net/http serves it. nil if it is not held: answered
// when the connection could not move after all (it got a noop and was
// closed; gone when that write failed: the client had given the poll
// up), else the caller waits on its goroutine.
func (s *Server) hold(w http.ResponseWriter, r *http.Request, c *Socket) (h *heldGET, answered, gone bool) {
	var nc *nbio.Conn
	if onPoller(w) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			return nil, false, false
		}
		conn, _, err := hj.Hijack()
		if nc = nbConnOf(conn); err != nil || nc == nil {
			return nil, false, false
		}
		s.held.Store(nc, c)
	} else {
		// Known as held before the poller can report its close.
		conn, moved := s.adopt(w, r, func(nc *nbio.Conn) { s.held.Store(nc, c) })
		if conn == nil {
			return nil, false, false
		}
		if !moved { // hijacked, but it cannot stay: let the client poll again elsewhere
			if nc, ok := conn.(*nbio.Conn); ok {
				s.held.Delete(nc)
			}
			body, text := encodePayload([]outPacket{{typ: typeNoop}}, c.protocol, c.poll.supportsBinary)
			setPollHeaders(w.Header(), text, len(body))
			w.Header().Set("Connection", "close")
			_, err := conn.Write(rawResponse(w.Header(), http.StatusOK, body))
			_ = conn.Close()
			return nil, true, err != nil || r.Context().Err() != nil
		}
		nc = conn.(*nbio.Conn)
	}
	h = &heldGET{conn: nc, head: c.poll.headFor(w.Header())}
	// Held as long as the session wants: the heartbeat answers a held GET
	// within a ping interval, and a session whose client stops answering
	// ends within the ping timeout after it. The deadline is only moved
	// (nbio keeps the connection's timer), not cleared and made anew.
	if t := s.takeOver.Load(); t != nil {
		_ = nc.SetReadDeadline(time.Now().Add(t.Idle + s.opts.PingInterval + s.opts.PingTimeout))
	} else {
		_ = nc.SetReadDeadline(time.Time{})
	}
	return h, false, false
}

// release answers a held GET with a polling payload of packets. The
// answer is put together in a buffer of the server's, reused: nbio
// copies what the kernel does not take at once.
func (s *Server) release(h *heldGET, packets []outPacket, protocol int, supportsBinary bool) {
	s.held.Delete(h.conn)
	bp := s.answers.Get().(*[]byte)
	b := append((*bp)[:0], h.head...)
	if protocol == 4 {
		b = appendPollHeaders(b, true, payloadLen(packets))
		b = append(b, "\r\n"...)
		b = appendPayload(b, packets)
	} else {
		body, text := encodePayload(packets, protocol, supportsBinary)
		b = appendPollHeaders(b, text, len(body))
		b = append(b, "\r\n"...)
		b = append(b, body...)
	}
	_, _ = h.conn.Write(b)
	if cap(b) <= maxPooledAnswer {
		*bp = b
		s.answers.Put(bp)
	}
	if t := s.takeOver.Load(); t != nil {
		_ = h.conn.SetReadDeadline(time.Now().Add(t.Idle))
	}
}

// maxPooledAnswer is the largest answer buffer kept for reuse.
const maxPooledAnswer = 64 << 10

// answerPoll writes a polling answer (200), not to be cached (as Node's
// engine.io answers GETs and POSTs). A connection net/http serves moves
// to the poller first.
func (s *Server) answerPoll(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	if !onPoller(w) {
		if conn, moved := s.adopt(w, r, nil); conn != nil {
			if !moved {
				h.Set("Connection", "close")
			}
			_, _ = conn.Write(rawResponse(h, http.StatusOK, body))
			if !moved {
				_ = conn.Close()
			}
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// adopt takes r's connection from net/http and puts it on the poller,
// whose nbhttp parser serves its later requests. nil when it stays with
// net/http (not taking over, TLS, not a keep-alive HTTP/1.1 request on
// TCP); else the connection, and moved false when it was hijacked but
// could not move (the client sent more than this request, the descriptor
// could not be duplicated, or the poller refused it): the caller answers
// on it, if it can, and closes it. before, if set, runs just before the
// poller gets the connection (and so before it can report its close).
func (s *Server) adopt(w http.ResponseWriter, r *http.Request, before func(*nbio.Conn)) (net.Conn, bool) {
	if s.takeOver.Load() == nil || r.TLS != nil || r.Close || !r.ProtoAtLeast(1, 1) {
		return nil, false
	}
	if _, tcp := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); !tcp {
		return nil, false
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, false
	}
	// As for the WebSocket upgrade (see upgradeToPoller): no process may
	// start between the duplication of the descriptor and its marking.
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, false
	}
	if rw.Reader.Buffered() > 0 {
		return conn, false
	}
	nc, err := nbio.NBConn(conn) // closes conn
	if err != nil {
		return conn, false
	}
	closeOnExec(nc)
	hc := &nbhttp.Conn{Conn: nc}
	parser := nbhttp.NewParser(hc, s.nb, new(takenProcessor), false, nc.Execute)
	hc.Parser = parser
	nc.SetSession(parser)
	nc.OnData(s.onTakenData)
	if before != nil {
		before(nc)
	}
	if err := s.nb.AddTransferredConn(nc); err != nil { // nbio closed it
		return nc, false
	}
	return nc, true
}

// rawHead is an HTTP/1.1 status line and the headers of h.
func rawHead(h http.Header, status int) []byte {
	return appendHead(make([]byte, 0, 256), h, status)
}

// appendHead appends an HTTP/1.1 status line and the headers of h, in
// the order and form http.Header.Write gives them (keys sorted, line
// breaks in values made spaces), without allocating for a few headers.
func appendHead(b []byte, h http.Header, status int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\n"...)
	var array [16]string
	keys := array[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !httpguts.ValidHeaderFieldName(k) {
			continue // as net/http drops it
		}
		for _, v := range h[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			start := len(b)
			b = append(b, v...)
			for i := start; i < len(b); i++ {
				if b[i] == '\r' || b[i] == '\n' {
					b[i] = ' '
				}
			}
			b = b[:start+copy(b[start:], bytes.Trim(b[start:], " \t"))]
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// rawResponse is a whole response: h must hold Content-Length.
func rawResponse(h http.Header, status int, body []byte) []byte {
	b := rawHead(h, status)
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// setPollHeaders sets the headers of a polling payload answer.
func setPollHeaders(h http.Header, text bool, n int) {
	h.Set("Content-Type", pollContentType(text))
	h.Set("Content-Length", strconv.Itoa(n))
	h.Set("Cache-Control", "no-store")
}

// appendPollHeaders appends setPollHeaders' headers in wire form.
func appendPollHeaders(b []byte, text bool, n int) []byte {
	b = append(b, "Content-Type: "...)
	b = append(b, pollContentType(text)...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "\r\nCache-Control: no-store\r\n"...)
	return b
}

func pollContentType(text bool) string {
	if text {
		return "text/plain; charset=UTF-8"
	}
	return "application/octet-stream"
}
