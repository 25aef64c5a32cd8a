package engineio

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/lesismal/nbio"
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
// poller (see adopt.go) and answered by whoever brings something, or,
// where it cannot be held, parks on its goroutine until woken. Whatever
// the order of concurrent GET, POST and close, each GET is answered
// exactly once.
type polling struct {
	supportsBinary bool
	max            int // bytes the buffer may hold
	buf            []outPacket
	bufBytes       int
	waiting        bool          // a GET waits: held on the poller, or parked on its goroutine
	held           *heldGET      // the GET held on the poller
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
	if head := appendHead(buf[:0], h, http.StatusOK); !bytes.Equal(head, p.head) {
		p.head = bytes.Clone(head) // held GETs keep the old one
	}
	return p.head
}

// startPolling makes polling the session's transport.
func (c *Socket) startPolling(supportsBinary bool) {
	c.poll = &polling{supportsBinary: supportsBinary, max: c.srv.opts.MaxBuffered, wake: make(chan struct{}, 1)}
}

// push buffers p for the next GET; false once the buffer is past the
// session's bound (the caller closes the session).
func (p *polling) push(pk outPacket) bool {
	p.buf = append(p.buf, pk)
	p.bufBytes += pk.size()
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
func (p *polling) close(flush bool, last byte) bool {
	p.last, p.flush = last, flush
	if !flush {
		p.buf, p.bufBytes = nil, 0
	}
	if p.waiting {
		return false
	}
	return flush || last == typeNoop
}

// take empties the buffer into an answer.
func (p *polling) take() []outPacket {
	out := p.buf
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
	body, text := encodePayload(out, c.protocol, p.supportsBinary)
	c.srv.answerPoll(w, r, pollContentType(text), body)
}

// answerPacketsLocked empties the buffer into a GET's answer: what is
// buffered, then the end of the session if it ended, or a noop when
// there is nothing else (probing, or upgraded meanwhile).
func (c *Socket) answerPacketsLocked() (out []outPacket, ended bool) {
	p := c.poll
	out = p.take()
	ended = p.last != 0
	switch {
	case ended:
		out = append(out, outPacket{typ: p.last})
	case c.ws != nil || len(out) == 0:
		out = append(out, outPacket{typ: typeNoop})
	}
	return out, ended
}

// wakeGET lets the waiting GET, if any, collect what there is now (under
// c.mu): a held one is answered here, a parked one is woken.
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
	p.held, p.waiting = nil, false
	out, _ := c.answerPacketsLocked()
	c.srv.release(h, out, c.protocol, p.supportsBinary)
}

// heldGone: the connection of the held GET closed before its answer. As
// an aborted parked GET, it ends the session unless the session is
// moving to its WebSocket.
func (c *Socket) heldGone(nc *nbio.Conn) {
	c.mu.Lock()
	p := c.poll
	if p == nil || p.held == nil || p.held.conn != nc {
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
// parse closes the session after the packets before the fault.
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
	defer func() {
		c.mu.Lock()
		p.posting = false
		c.mu.Unlock()
	}()

	max := c.srv.opts.MaxPayload
	if r.ContentLength > max {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if int64(len(body)) > max {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	packets, ok := decodePayload(body, isBinary, c.protocol)
	for _, pk := range packets {
		c.onPacket(pk)
	}
	if !ok {
		c.close("parse error", false, typeClose)
	}
	c.srv.answerPoll(w, r, "text/html", []byte("ok"))
}
