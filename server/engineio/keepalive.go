package engineio

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
	"golang.org/x/net/http/httpguts"
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
				return pollAnswer(w.Header(), pollContentType(text), body, closing, s.date())
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

// readable reads the next requests (the poller calls it; so does a
// connection resuming after an answer).
func (h *httpConn) readable(buf []byte) {
	if t := h.up.Load(); t != nil {
		t.readable(buf)
		return
	}
	if b := h.bridge.Load(); b != nil {
		wake(b.readable)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.read(buf)
}

// read reads and serves requests while the connection is between two
// (under h.mu).
func (h *httpConn) read(buf []byte) {
	h.process()
	if h.state != hReading || h.waitDrain.Load() {
		h.unread = h.state != hClosed
		return
	}
	h.unread = false
	err := readConn(h.w.nc, buf, func(b []byte) bool {
		if len(h.buf) == 0 {
			// Requests read whole in one go (the common case) are parsed
			// where they were read; what is left is kept.
			h.buf = b
			h.process()
			h.buf = bytes.Clone(h.buf)
		} else {
			h.buf = append(h.buf, b...)
			h.process()
		}
		if len(h.buf) == 0 {
			h.buf = nil // an idle connection keeps no buffer
		}
		return h.state == hReading && !h.waitDrain.Load()
	})
	switch {
	case err == errStopped:
		h.unread = true
	case err != nil && h.state != hClosed:
		h.closeLocked()
	}
}

// process serves the whole requests in h.buf (under h.mu; it is let go
// while a handler runs).
func (h *httpConn) process() {
	ka := h.srv.ka.Load()
	for h.state == hReading && len(h.buf) > 0 && !h.waitDrain.Load() {
		if h.afterPOST { // as net/http: up to 4 CR or LF after a POST are ignored
			n := 0
			for n < len(h.buf) && n < 4 && (h.buf[n] == '\r' || h.buf[n] == '\n') {
				n++
			}
			if n == len(h.buf) && n < 4 {
				return
			}
			h.buf, h.afterPOST = h.buf[n:], false
			continue
		}
		if !h.started {
			h.started, h.t0 = true, time.Now()
		}
		end := headEnd(h.buf)
		if end < 0 || end > maxHeaderBytes(ka.Server) {
			if end > 0 || len(h.buf) > maxHeaderBytes(ka.Server) {
				h.handBack()
			} else {
				h.arm(headerDue, h.t0, ka.header)
			}
			return
		}
		req, ok := h.eligible(h.buf[:end], ka)
		if !ok {
			h.handBack()
			return
		}
		need := end + int(req.ContentLength)
		if len(h.buf) < need {
			h.arm(requestDue, h.t0, ka.request)
			return
		}
		if req.ContentLength > 0 {
			req.Body = &wholeBody{Reader: *bytes.NewReader(bytes.Clone(h.buf[end:need]))}
		} else {
			req.Body = http.NoBody
		}
		h.buf = append(h.buf[:0], h.buf[need:]...)
		h.afterPOST = req.Method == http.MethodPost
		h.serve(req, ka)
	}
}

// maxHeaderBytes is how much of a request's header net/http reads before
// it answers 431.
func maxHeaderBytes(srv *http.Server) int {
	n := srv.MaxHeaderBytes
	if n <= 0 {
		n = http.DefaultMaxHeaderBytes
	}
	return n + 4096
}

// headEnd is the length of the request header at the start of b, up to
// and including the empty line that ends it (as the standard library
// reads lines: ending in LF, a CR before it dropped); -1 when it has not
// all come.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		case i >= len(b)-1:
			return -1
		}
	}
}

// eligible parses a request header as the standard library does
// (readHead) and reports whether the poller serves the request (see the
// top of the file); a request it does not serve goes back to net/http.
func (h *httpConn) eligible(head []byte, ka *KeepAlive) (*http.Request, bool) {
	req, err := h.srv.readHead(head)
	if err != nil || req.ProtoMajor != 1 || req.ProtoMinor != 1 || req.URL.Host != "" ||
		!strings.HasPrefix(req.URL.Path, ka.Path) || req.Close ||
		req.ContentLength < 0 || req.ContentLength > h.srv.opts.MaxPayload || len(req.TransferEncoding) > 0 {
		return nil, false
	}
	switch req.Method {
	case http.MethodGet, http.MethodPost, http.MethodOptions:
	default:
		return nil, false
	}
	for _, k := range []string{"Expect", "Upgrade", "Transfer-Encoding"} {
		if _, ok := req.Header[k]; ok {
			return nil, false
		}
	}
	// net/http's server also wants exactly one valid Host, and header
	// names and values it accepts (ReadRequest takes Host out of the
	// header: its lines are counted here).
	if hostLines(head) != 1 || !httpguts.ValidHostHeader(req.Host) {
		return nil, false
	}
	for k, vs := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, false
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, false
			}
		}
	}
	req.RemoteAddr = h.remote
	return req, true
}

// wholeBody is the body of a request read whole on the poller.
type wholeBody struct{ bytes.Reader }

func (*wholeBody) Close() error { return nil }

// hostLines counts the header lines named Host.
func hostLines(head []byte) int {
	n := 0
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		// ReadRequest took the header: a name is followed by its colon.
		if len(line) > 4 && line[4] == ':' && bytes.EqualFold(line[:4], []byte("Host")) {
			n++
		}
	}
	return n
}

// serve runs the handler for req (under h.mu, let go meanwhile).
func (h *httpConn) serve(req *http.Request, ka *KeepAlive) {
	resp := &pollerResponse{h: h, header: make(http.Header), inHandler: true}
	h.state, h.cur, h.started = hServing, resp, false
	if h.tmKind != idleDue { // the idle deadline stays armed: it looks again when it fires
		h.disarm()
	}
	h.mu.Unlock()
	ka.Server.Handler.ServeHTTP(resp, req)
	h.mu.Lock()
	resp.inHandler = false
	switch {
	case h.state != hServing || h.cur != resp:
	case !resp.deferred:
		h.writeLocked(resp.bytes(h.srv.date()))
		h.next()
	case resp.done:
		h.next()
	}
}

// deferAnswer: the request being served is answered later, by answer
// (under h.mu); holder, if set, is the session whose GET waits here.
func (h *httpConn) deferAnswer(holder *Socket) {
	h.cur.deferred = true
	h.holder = holder
}

// answer writes the answer to the request waiting on h, from any
// goroutine. Requests that came behind it are read on the server's
// worker (the caller may hold a session's lock).
func (h *httpConn) answer(b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != hServing || h.cur == nil || h.cur.done {
		return
	}
	h.cur.done, h.holder = true, nil
	h.writeLocked(b)
	if h.cur.inHandler {
		return // serve goes on
	}
	h.next()
	if len(h.buf) > 0 || h.unread {
		h.srv.work.add(h.resume)
	}
}

// resume reads and serves what came while a request waited.
func (h *httpConn) resume() { h.srv.withReadBuffer(h.readable) }

// writeLocked writes an answer (under h.mu); a connection that would
// hold more than MaxQueued of unwritten answers is closed.
func (h *httpConn) writeLocked(b []byte) {
	if h.w.backlog()+int64(len(b)) > h.srv.opts.MaxQueued {
		h.srv.opts.Observer.Dropped(SlowConnection)
		h.closeLocked()
		return
	}
	h.w.write(b)
}

// next: the request is answered; the connection waits for the next one
// (under h.mu).
func (h *httpConn) next() {
	if h.state == hClosed {
		return
	}
	h.state, h.cur = hReading, nil
	now := time.Now()
	h.idleFrom = now
	if len(h.buf) > 0 {
		return // process starts the next request's clock
	}
	if h.w.backlog() > 0 {
		h.mark = h.w.handed.Load()
		h.arm(writeDue, now, h.srv.opts.WriteTimeout)
		return
	}
	if h.tmKind != idleDue { // an idle deadline armed already looks at idleFrom when it fires
		h.arm(idleDue, now, h.srv.ka.Load().idle)
	}
}

// arm sets the connection's deadline to d after from; no deadline when
// d is 0 (net/http's "no timeout").
func (h *httpConn) arm(kind timerKind, from time.Time, d time.Duration) {
	if d <= 0 {
		h.disarm()
		return
	}
	h.tmKind = kind
	h.srv.sched.arm(&h.tm, kind, from.Add(d))
}

func (h *httpConn) disarm() {
	h.tmKind = 0
	h.srv.sched.disarm(&h.tm)
}

// onTimer: a deadline passed. The idle deadline is not moved at every
// request (two operations on the schedule's heap per poll): it stays
// armed and, when it fires, looks at how long the connection has been
// idle, and fires again later when that is not long enough.
func (h *httpConn) onTimer(kind timerKind, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tmKind = 0
	idle := h.srv.ka.Load().idle
	switch {
	case h.state == hServing && kind == idleDue: // a request waits for its answer: look again later
		h.arm(idleDue, now, idle)
	case h.state != hReading:
	case kind == idleDue && !h.started && now.Before(h.idleFrom.Add(idle)):
		h.arm(idleDue, h.idleFrom, idle)
	case kind == writeDue && h.w.written.Load() >= h.mark: // the answers went out in time
		if !h.started {
			h.arm(idleDue, h.idleFrom, idle)
		}
	default:
		if kind == writeDue {
			h.srv.opts.Observer.Dropped(SlowTimeout)
		}
		h.closeLocked() // idle, header, whole request or write deadline: net/http closes too
	}
}

// drained: nbio wrote all it had (under nc's lock, maybe in a write
// made under h.mu: it takes no lock).
func (h *httpConn) drained() {
	if b := h.bridge.Load(); b != nil {
		wake(b.writable)
	}
	if h.waitDrain.CompareAndSwap(true, false) {
		h.srv.work.add(h.resume)
	}
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

// pollerResponse is the http.ResponseWriter of a request served on the
// poller: the answer is put together, then written whole (with its
// Content-Length) when the handler returns, or later (deferred).
type pollerResponse struct {
	h      *httpConn
	header http.Header
	status int
	body   []byte
	// Under h.mu: the handler still runs; the answer comes later; it
	// came.
	inHandler, deferred, done bool
}

func (r *pollerResponse) Header() http.Header { return r.header }

func (r *pollerResponse) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *pollerResponse) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.body = append(r.body, b...)
	return len(b), nil
}

// Flush does nothing: the answer is written whole.
func (r *pollerResponse) Flush() {}

// bytes is the answer on the wire, as net/http would write it.
func (r *pollerResponse) bytes(date []byte) []byte {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	h := r.header
	bodyless := status == http.StatusNoContent || status == http.StatusNotModified || status < 200
	if !bodyless {
		if h.Get("Content-Type") == "" && len(r.body) > 0 {
			h.Set("Content-Type", http.DetectContentType(r.body))
		}
		h.Set("Content-Length", strconv.Itoa(len(r.body)))
	}
	b := appendHead(make([]byte, 0, 256+len(r.body)), h, status, date)
	b = append(b, "\r\n"...)
	if !bodyless {
		b = append(b, r.body...)
	}
	return b
}

// pollerResponseOf is w's pollerResponse, through the writers that wrap
// it (as Gin's does); nil when net/http serves the request.
func pollerResponseOf(w http.ResponseWriter) *pollerResponse {
	for {
		switch v := w.(type) {
		case *pollerResponse:
			return v
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
}

// appendHead appends an HTTP/1.1 status line and the headers of h, in
// the order and form http.Header.Write gives them (keys sorted, line
// breaks in values made spaces), without allocating for a few headers;
// then Date, when date is set and h has none (as net/http adds it).
func appendHead(b []byte, h http.Header, status int, date []byte) []byte {
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
	if _, ok := h["Date"]; !ok && date != nil {
		b = appendDate(b, date)
	}
	return b
}

// appendDate appends a Date header line.
func appendDate(b, date []byte) []byte {
	b = append(b, "Date: "...)
	b = append(b, date...)
	return append(b, "\r\n"...)
}

// rawResponse is a whole response: h must hold Content-Length.
func rawResponse(h http.Header, status int, body, date []byte) []byte {
	b := appendHead(make([]byte, 0, 256+len(body)), h, status, date)
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// date is the Date of answers written now, made once a second.
func (s *Server) date() []byte {
	now := time.Now().Unix()
	if d := s.dateCache.Load(); d != nil && d.unix == now {
		return d.text
	}
	d := &dateText{unix: now, text: []byte(time.Unix(now, 0).UTC().Format(http.TimeFormat))}
	s.dateCache.Store(d)
	return d.text
}

// dateText is a second's Date header value.
type dateText struct {
	unix int64
	text []byte
}
