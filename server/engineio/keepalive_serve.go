package engineio

import (
	"bytes"
	"net/http"
	"time"
)

// Reading and serving the requests of a keep-alive connection on the
// poller (keepalive.go), with net/http's deadlines.

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
