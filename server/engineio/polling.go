package engineio

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// upgradeCheck is how long a GET that comes during an upgrade waits for
// it to end (Node checks every 100 ms).
const upgradeCheck = 100 * time.Millisecond

// clientCloseLinger is how long a session the client closed waits for
// a GET that raced the close.
const clientCloseLinger = time.Second

// polling is a session's HTTP long-polling transport. Its fields are
// guarded by the Socket's mu. A GET that finds packets (or the end of
// the session) waiting is answered at once; else it is held on the
// poller (keepalive.go) and answered by whoever brings something, or,
// where it cannot be held, parks on its goroutine until woken. Whatever
// the order of concurrent GET, POST and close, each GET is answered
// exactly once.
type polling struct {
	supportsBinary bool
	max            int64 // bytes the buffer may hold
	buf            []outPacket
	bufBytes       int64
	waiting        bool          // a GET waits: held on the poller, or parked on its goroutine
	held           *httpConn     // the connection of the GET held on the poller
	heldHead       []byte        // the status line and headers of its answer
	late           http.Header   // the held GET came during the upgrade: its answer's headers
	heldEnc        encoding      // the encoding the held GET's answer may take
	wake           chan struct{} // wakes the parked GET; capacity 1
	posting        bool          // a POST is being read
	// last is set once the session has closed: the packet a GET gets at
	// the end (close, or noop when the client closed), after the buffer
	// when the close flushes.
	last  byte
	flush bool
	// head is the status line and headers of the last GET held (see
	// headFor); a session's GETs nearly always get the same ones.
	head []byte
}

// headFor is the head of a held GET's answer with the headers h: the one
// of the session's previous GET when it is the same (under c.mu).
func (p *polling) headFor(h http.Header) []byte {
	var buf [512]byte
	if head := appendHead(buf[:0], h, http.StatusOK, nil); !bytes.Equal(head, p.head) {
		p.head = bytes.Clone(head) // held GETs keep the old one
	}
	return p.head
}

// startPolling makes polling the session's transport.
func (c *Socket) startPolling(supportsBinary bool) {
	c.poll = &polling{supportsBinary: supportsBinary, max: c.srv.opts.MaxQueued, wake: make(chan struct{}, 1)}
}

// push buffers pk for the next GET; false once the buffer is past the
// session's bound (the caller closes the session).
func (p *polling) push(s *Server, pk outPacket) bool {
	n := int64(pk.size())
	p.buf = append(p.buf, pk)
	p.bufBytes += n
	s.holdQueued(pk.m, n)
	return p.bufBytes <= p.max
}

func (p *polling) signal() {
	if p.waiting {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// close marks the end; it reports whether the session must linger for
// a GET that will collect the end: no GET waits now, and either flush
// is set or the client closed (its close POST may have overtaken the GET
// it sent with it, which then gets the noop).
func (p *polling) close(s *Server, flush bool, last byte) bool {
	p.last, p.flush = last, flush
	if !flush {
		p.take(s)
	}
	if p.waiting {
		return false
	}
	return flush || last == typeNoop
}

// take empties the buffer into an answer. Its packets no longer count
// as queued: the answer is the connection's to write.
func (p *polling) take(s *Server) []outPacket {
	out := p.buf
	for _, pk := range out {
		s.releaseQueued(pk.m, int64(pk.size()))
	}
	p.buf, p.bufBytes = nil, 0
	return out
}

// servePolling answers a polling request of the session.
func (c *Socket) servePolling(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		c.pollGET(w, r)
	case http.MethodPost:
		c.pollPOST(w, r)
	default:
		w.WriteHeader(http.StatusInternalServerError) // as Node's polling transport
	}
}

// pollGET answers with what is buffered, waiting for something if
// nothing is.
func (c *Socket) pollGET(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	p := c.poll
	if p == nil || c.ws != nil {
		c.mu.Unlock()
		c.srv.refuse(w, r, errBadRequest)
		return
	}
	if p.waiting { // a second GET while one waits: Node drops the session
		c.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		c.close("transport error", false, typeClose)
		return
	}
	// A GET that comes once the probe was answered waits a moment (as
	// Node's upgrade checks every 100 ms) for the upgrade to end: if the
	// session moved, it is refused like any polling request after the
	// upgrade (it may well have been sent after the client's "5"), else
	// it gets a noop. The GET that was waiting when the probe came is
	// let go with a noop at once, so that the client can pause.
	late := c.upgrading
	if late && pollerResponseOf(w) != nil && len(p.buf) == 0 && p.last == 0 {
		// On the poller nothing waits: the GET is held, and answered when
		// the upgrade ends or the wait is over (lateCheck).
		h, _, _ := c.srv.hold(w, r, c)
		p.held, p.waiting, p.late = h, true, w.Header()
		c.mu.Unlock()
		time.AfterFunc(upgradeCheck, func() { c.lateCheck(h) })
		return
	}
	if !late && len(p.buf) == 0 && p.last == 0 && c.ws == nil {
		h, answered, gone := c.srv.hold(w, r, c)
		if h != nil || answered {
			p.held, p.waiting = h, h != nil
			c.mu.Unlock()
			if gone { // as for a poll the client gave up (below)
				c.close("transport error", false, typeClose)
			}
			return
		}
	}
	var check <-chan time.Time
	if late {
		t := time.NewTimer(upgradeCheck)
		defer t.Stop()
		check = t.C
	}
	for len(p.buf) == 0 && p.last == 0 && c.ws == nil && (late || !c.upgrading) {
		p.waiting = true
		c.mu.Unlock()
		checked := false
		select {
		case <-p.wake:
		case <-check:
			checked = true
		case <-r.Context().Done():
		}
		c.mu.Lock()
		p.waiting = false
		if r.Context().Err() != nil {
			// The client gave up its poll: as Node, the session ends
			// (unless it is moving to its WebSocket).
			moving := c.upgrading || c.ws != nil
			c.mu.Unlock()
			if !moving {
				c.close("transport error", false, typeClose)
			}
			return
		}
		if checked {
			break
		}
	}
	if late && c.ws != nil {
		c.mu.Unlock()
		c.srv.refuse(w, r, errBadRequest)
		return
	}
	out, ended := c.answerPacketsLocked()
	c.mu.Unlock()
	if ended {
		c.srv.sched.disarm(&c.hb)
		c.srv.forget(c)
	}
	body, text, ce := c.srv.pollBody(out, c.protocol, p.supportsBinary, c.srv.requestEncoding(r))
	c.srv.answerPoll(w, r, pollContentType(text), ce, body)
}

// answerPacketsLocked empties the buffer into a GET's answer: what is
// buffered, then the end of the session if it ended, or a noop when
// there is nothing else (probing, or upgraded meanwhile).
func (c *Socket) answerPacketsLocked() (out []outPacket, ended bool) {
	p := c.poll
	out = p.take(c.srv)
	ended = p.last != 0
	switch {
	case ended:
		out = append(out, outPacket{typ: p.last, plain: true})
	case c.ws != nil || len(out) == 0:
		out = append(out, outPacket{typ: typeNoop, plain: true})
	}
	return out, ended
}

// wakeGET lets the waiting GET, if any, collect what there is now (under
// c.mu): a held one is answered here, a parked one is woken. A GET that
// came during the upgrade waits for its end (lateCheck).
func (c *Socket) wakeGET() {
	p := c.poll
	if p == nil || !p.waiting {
		return
	}
	h := p.held
	if h == nil {
		p.signal()
		return
	}
	if p.late != nil {
		if c.ws != nil { // upgraded: refused as any polling request now
			p.held, p.waiting = nil, false
			h.answer(refusal(p.late, errBadRequest, c.srv.date()))
			p.late = nil
		}
		return
	}
	p.held, p.waiting = nil, false
	out, _ := c.answerPacketsLocked()
	c.srv.release(h, p.heldHead, out, c.protocol, p.supportsBinary, p.heldEnc)
}

// lateCheck answers a GET held during the upgrade once the wait for the
// upgrade is over (as Node checks after 100 ms): with what there is, a
// noop at least.
func (c *Socket) lateCheck(h *httpConn) {
	c.mu.Lock()
	if p := c.poll; p != nil && p.held == h && p.late != nil {
		p.late = nil
		c.wakeGET()
	}
	c.mu.Unlock()
}

// heldGone: the connection of the held GET closed before its answer. As
// an aborted parked GET, it ends the session unless the session is
// moving to its WebSocket.
func (c *Socket) heldGone(h *httpConn) {
	c.mu.Lock()
	p := c.poll
	if p == nil || p.held != h {
		c.mu.Unlock()
		return
	}
	p.held, p.waiting = nil, false
	moving := c.upgrading || c.ws != nil
	c.mu.Unlock()
	if !moving {
		c.close("transport error", false, typeClose)
	}
}

// pollPOST reads a body of packets from the client: past MaxPayload it
// is refused (413) and none of it is processed; a body that does not
// parse closes the session after the packets before the fault. The
// packets run on the session's packet queue, in order with those that
// came before; "ok" answers once they have run (as Node answers once its
// listeners have), which paces a client that sends faster than its
// packets are handled.
func (c *Socket) pollPOST(w http.ResponseWriter, r *http.Request) {
	isBinary := r.Header.Get("Content-Type") == "application/octet-stream"
	c.mu.Lock()
	p := c.poll
	if p == nil || c.ws != nil || c.state != stateOpen {
		c.mu.Unlock()
		c.srv.refuse(w, r, errBadRequest)
		return
	}
	if p.posting || (isBinary && c.protocol == 4) { // overlap, or binary body in v4: Node drops the session
		c.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		c.close("transport error", false, typeClose)
		return
	}
	p.posting = true
	c.mu.Unlock()
	posted := func() {
		c.mu.Lock()
		p.posting = false
		c.mu.Unlock()
	}

	max := c.srv.opts.MaxPayload
	if r.ContentLength > max {
		posted()
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil || int64(len(body)) > max {
		posted()
		status := http.StatusBadRequest
		if err == nil {
			status = http.StatusRequestEntityTooLarge
		}
		w.WriteHeader(status)
		return
	}
	packets, ok := decodePayload(body, isBinary, c.protocol)
	run := func() {
		for _, pk := range packets {
			c.onPacket(pk)
		}
		if !ok {
			c.close("parse error", false, typeClose)
		}
		posted()
	}
	if resp := pollerResponseOf(w); resp != nil {
		h := w.Header()
		resp.h.mu.Lock()
		resp.h.deferAnswer(nil)
		resp.h.mu.Unlock()
		c.exec(len(body), func() {
			run()
			resp.h.answer(pollAnswer(h, "text/html", identity, okBody, false, c.srv.date()))
		})
		return
	}
	done := make(chan struct{})
	c.exec(len(body), func() { run(); close(done) })
	<-done
	c.srv.answerPoll(w, r, "text/html", identity, okBody)
}

// okBody is the answer to a POST.
var okBody = []byte("ok")

// hold holds r, a GET of c, for c (under c.mu): on the poller, where it
// came or where its connection moves now. nil if it is not held:
// answered when the connection could not move after all (it got a noop
// and was closed; gone when that write failed: the client had given the
// poll up), else the caller waits on its goroutine.
func (s *Server) hold(w http.ResponseWriter, r *http.Request, c *Socket) (h *httpConn, answered, gone bool) {
	if resp := pollerResponseOf(w); resp != nil {
		h = resp.h
		h.mu.Lock()
		h.deferAnswer(c)
		h.mu.Unlock()
	} else if h, answered, gone = s.moveToPoller(w, r, nil, c); h == nil {
		return nil, answered, gone
	}
	c.poll.heldHead = c.poll.headFor(w.Header())
	c.poll.heldEnc = s.requestEncoding(r)
	return h, false, false
}

// release answers a held GET with a polling payload of packets,
// compressed with enc where it is compressible. The answer is put
// together in a buffer of the server's, reused: nbio copies what the
// kernel does not take at once.
func (s *Server) release(h *httpConn, head []byte, packets []outPacket, protocol int, supportsBinary bool, enc encoding) {
	bp := s.answers.Get().(*[]byte)
	b := append((*bp)[:0], head...)
	b = appendDate(b, s.date())
	if n := payloadLen(packets); protocol == 4 && !s.compressible(packets, n, enc) {
		b = appendPollHeaders(b, true, identity, n)
		b = append(b, "\r\n"...)
		b = appendPayload(b, packets)
	} else {
		body, text, ce := s.pollBody(packets, protocol, supportsBinary, enc)
		b = appendPollHeaders(b, text, ce, len(body))
		b = append(b, "\r\n"...)
		b = append(b, body...)
	}
	h.answer(b)
	if cap(b) <= maxPooledAnswer {
		*bp = b
		s.answers.Put(bp)
	}
}

// maxPooledAnswer is the largest answer buffer kept for reuse.
const maxPooledAnswer = 64 << 10

// answerPoll writes a polling answer (200), not to be cached (as Node's
// engine.io answers GETs and POSTs), its body in the content encoding
// ce. A connection net/http serves moves to the poller first.
func (s *Server) answerPoll(w http.ResponseWriter, r *http.Request, contentType string, ce encoding, body []byte) {
	h := w.Header()
	if pollerResponseOf(w) == nil {
		answer := func(closing bool) []byte { return pollAnswer(h, contentType, ce, body, closing, s.date()) }
		if hc, answered, _ := s.moveToPoller(w, r, answer, nil); hc != nil || answered {
			return
		}
	}
	setPollAnswerHeaders(h, contentType, ce, len(body))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// pollAnswer is a whole polling answer with the headers h (Connection:
// close when closing).
func pollAnswer(h http.Header, contentType string, ce encoding, body []byte, closing bool, date []byte) []byte {
	setPollAnswerHeaders(h, contentType, ce, len(body))
	if closing {
		h.Set("Connection", "close")
	}
	return rawResponse(h, http.StatusOK, body, date)
}

func setPollAnswerHeaders(h http.Header, contentType string, ce encoding, n int) {
	h.Set("Content-Type", contentType)
	if ce != identity {
		h.Set("Content-Encoding", ce.String())
	}
	h.Set("Content-Length", strconv.Itoa(n))
	h.Set("Cache-Control", "no-store")
}

// appendPollHeaders appends the headers of a polling payload answer, as
// setPollAnswerHeaders sets them.
func appendPollHeaders(b []byte, text bool, ce encoding, n int) []byte {
	b = append(b, "Content-Type: "...)
	b = append(b, pollContentType(text)...)
	if ce != identity {
		b = append(b, "\r\nContent-Encoding: "...)
		b = append(b, ce.String()...)
	}
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
