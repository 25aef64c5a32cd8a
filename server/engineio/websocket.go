package engineio

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
)

// The WebSocket transport on the poller. net/http serves the upgrade
// request (Gin keeps the port); the engine checks it, hijacks the
// connection, moves it to the poller and answers 101 there. Frames from
// the client are read by wsReader (wsframe.go); messages go to the
// session's packet queue (Socket.exec).
//
// What is written to a client waits in one queue per connection:
// references to frames, never copies, so a broadcast's one frame serves
// every socket however far behind each is. Frames leave the queue for
// nbio only when nbio has written what it had, a batch at a time; nbio
// copies what the kernel does not take of that batch and no more. A
// client whose queue, with nbio's copy, passes Options.MaxQueued, or
// that leaves bytes unwritten for Options.WriteTimeout, is dropped as a
// slow consumer.

// wsConn is one WebSocket connection of a session.
type wsConn struct {
	c *Socket
	w wire

	// deflate: permessage-deflate was negotiated (wsdeflate.go); set
	// before the connection is on the poller, never changed.
	deflate bool

	// Reading, on the poller's goroutine or a resuming one (rmu).
	rmu     sync.Mutex
	rd      wsReader
	paused  bool // the session's packet queue is full: not reading
	unread  bool // the kernel may hold bytes not read yet
	readEnd bool // the client's close frame or a fault came: read no more

	// The queue (under c.mu): frames waiting for nbio, from head on.
	queue      []queuedFrame
	head       int
	queueBytes int64
	hasQueue   atomic.Bool // the queue is not empty (read by wire.drained)
	// enq counts every byte queued, written those nbio wrote; mark and
	// wd watch the difference (under c.mu): what was owed when wd was
	// armed must be written when it fires, else the client is too slow.
	enq      int64
	mark     int64
	watching bool // wd is armed for the write deadline
	wd       timer
	closing  atomic.Bool // the close frame is queued; close when written
	closed   atomic.Bool
	faulted  atomic.Bool // the client broke the protocol: its session ends with "transport error"
}

func (t *wsConn) wire() *wire { return &t.w }

// acceptWebSocket upgrades r for c: the session's first transport
// (fresh) or the probe of an upgrade from polling (c.probe is t already,
// reserved by upgradeTo).
func (s *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request, c *Socket, t *wsConn, fresh bool) bool {
	if s.opts.CheckOrigin != nil && !s.opts.CheckOrigin(r) {
		s.refuse(w, r, errForbidden)
		return false
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 ||
		!headerHasToken(r.Header, "Sec-WebSocket-Version", "13") {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		s.opts.Observer.Refused(errBadRequest, !fresh)
		return false
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return false
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return false
	}
	// A client may send frames before it has the 101 (it must not):
	// they are read first.
	early := make([]byte, rw.Reader.Buffered())
	_, _ = io.ReadFull(rw.Reader, early)
	t.rd.max = int(s.opts.MaxPayload)
	var ext string
	if s.opts.PerMessageDeflate {
		if ext = acceptDeflate(r); ext != "" {
			t.deflate, t.rd.inflate = true, s.inflate
		}
	}
	t.wd = newTimer(t.onTimer)
	if fresh {
		c.ws = t // before anything can be sent
	}
	// The early bytes are read before anything the poller finds: it
	// waits for rmu.
	t.rmu.Lock()
	defer t.rmu.Unlock()
	if b, ok := conn.(*bridgeConn); ok { // lent by the poller: it becomes the WebSocket there
		early = append(early, b.takeBack()...)
		err = b.h.upgrade(b, t)
	} else {
		_, err = s.addToPoller(conn, func(nc *nbio.Conn) pollerConn {
			t.w = wire{nc: nc, srv: s, drained: t.drained}
			return t
		})
	}
	if err != nil {
		if fresh {
			c.ws = nil
		}
		return false
	}
	s.wsOpen.Add(1)
	if !t.w.write(acceptResponse(key, ext)) {
		return true // closing: onWebSocketClose follows
	}
	if len(early) > 0 && !t.take(early) {
		t.unread = true
	}
	return true
}

// acceptResponse is the 101 answer to a handshake with key, naming the
// extensions accepted (ext, "" for none).
func acceptResponse(key, ext string) []byte {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	b := make([]byte, 0, 160)
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = base64.StdEncoding.AppendEncode(b, h.Sum(nil))
	if ext != "" {
		b = append(b, "\r\nSec-WebSocket-Extensions: "...)
		b = append(b, ext...)
	}
	return append(b, "\r\n\r\n"...)
}

// readable reads the client's frames (the poller calls it; so does a
// session resuming a paused connection).
func (t *wsConn) readable(buf []byte) {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	if t.paused || t.readEnd {
		t.unread = true
		return
	}
	t.unread = false
	err := readConn(t.w.nc, buf, t.take)
	switch {
	case errors.Is(err, errStopped):
		t.unread = true
	case err != nil:
		_ = t.w.nc.Close()
	}
}

// take reads frames from b (under rmu); false to stop reading.
func (t *wsConn) take(b []byte) bool {
	done, err := t.rd.feed(b, t)
	var fault wsError
	if errors.As(err, &fault) {
		t.readEnd = true
		t.c.wsFault(t, uint16(fault))
		return false
	}
	if done {
		t.readEnd = true
		return false
	}
	if t.c.inboundFull() {
		// The queue's goroutine resumes the connection when it has run
		// down; if it did so before the connection was stored for it,
		// reading goes on.
		t.paused = true
		t.c.paused.Store(t)
		if t.c.inboundFull() || !t.c.paused.CompareAndSwap(t, nil) {
			return false
		}
		t.paused = false
	}
	return true
}

// resume reads again once the session's packet queue has room.
func (t *wsConn) resume() {
	t.rmu.Lock()
	t.paused = false
	again := t.unread
	t.rmu.Unlock()
	if again {
		t.c.srv.withReadBuffer(t.readable)
	}
}

// message, ping and closeFrame are the wsEvents of t's frames.
func (t *wsConn) message(payload []byte, binary bool) {
	t.c.exec(len(payload), func() { t.c.onWebSocketMessage(t, payload, binary) })
}

func (t *wsConn) ping(payload []byte) {
	c := t.c
	c.mu.Lock()
	ok := t.send(wsFrame(wsPong, payload), nil)
	c.mu.Unlock()
	if !ok {
		c.dropSlow(SlowConnection)
	}
}

func (t *wsConn) closeFrame(code uint16) {
	t.c.wsClosing(t, code)
}

// gone: nbio closed the connection.
func (t *wsConn) gone() {
	t.closed.Store(true)
	t.c.srv.sched.disarm(&t.wd)
	t.w.release()
	t.c.mu.Lock()
	t.dropQueue()
	t.c.mu.Unlock()
	t.c.srv.wsClosed()
	t.c.onWebSocketClose(t)
}

// onWebSocketMessage handles a message on t: the session's transport,
// or the probe of an upgrade.
func (c *Socket) onWebSocketMessage(t *wsConn, data []byte, binary bool) {
	p, ok := decodeFrame(data, binary, c.protocol)
	c.mu.Lock()
	switch {
	case c.ws == t:
		c.mu.Unlock()
		if !ok {
			c.close("parse error", false, typeClose)
			return
		}
		c.onPacket(p)
	case c.probe == t:
		c.onProbe(t, p, ok) // releases c.mu
	default: // a connection the session no longer uses
		c.mu.Unlock()
	}
}

// onProbe runs the upgrade from polling (called with c.mu held, releases
// it): "2probe" is answered "3probe" and the waiting GET is let go with a
// noop; "5" moves the session, and everything buffered for polling, to
// the WebSocket. Anything else ends the probe.
func (c *Socket) onProbe(t *wsConn, p inPacket, ok bool) {
	switch {
	case ok && p.typ == typePing && string(p.data) == "probe":
		t.send(c.srv.frames.probe, nil)
		c.upgrading = true
		c.wakeGET()
		c.mu.Unlock()
	case ok && p.typ == typeUpgrade && c.state == stateOpen:
		c.srv.sched.disarm(&t.wd)
		t.watching = false
		c.probe, c.ws, c.upgrading = nil, t, false
		full := false
		for _, pk := range c.poll.take(c.srv) {
			if pk.m != nil {
				full = full || !t.send(t.messageFrame(pk.m), pk.m)
			} else {
				full = full || !t.send(t.packetFrame(pk), nil)
			}
		}
		c.wakeGET() // a GET still waiting gets a noop
		c.mu.Unlock()
		c.srv.opts.Observer.Upgraded(c.protocol)
		c.emit("upgrade", c.Transport())
		if full {
			c.dropSlow(SlowConnection)
		}
	default:
		c.probe, c.upgrading = nil, false
		c.mu.Unlock()
		t.shut()
	}
}

// wsClosing: the client sent a close frame. It is answered with one (the
// client's status, or 1000) and the connection closes once that is out
// (within the write deadline); the session closes then, as when the
// connection drops.
func (c *Socket) wsClosing(t *wsConn, code uint16) {
	if code < closeNormal {
		code = closeNormal
	}
	c.mu.Lock()
	t.closeWith(closeFrame(code))
	c.mu.Unlock()
}

// wsFault: the client's frames broke the protocol; the connection closes
// with the status of the fault, the session then with "transport error".
func (c *Socket) wsFault(t *wsConn, code uint16) {
	t.faulted.Store(true)
	c.mu.Lock()
	t.closeWith(closeFrame(code))
	c.mu.Unlock()
}

// onWebSocketClose: the connection is gone.
func (c *Socket) onWebSocketClose(t *wsConn) {
	reason := "transport close"
	if t.faulted.Load() {
		reason = "transport error"
	}
	c.mu.Lock()
	switch {
	case c.probe == t: // the probe failed; the session stays on polling
		c.probe, c.upgrading = nil, false
		c.mu.Unlock()
	case c.ws == t:
		c.mu.Unlock()
		c.close(reason, false, typeClose)
	default:
		c.mu.Unlock()
	}
}

// upgradeTo takes a WebSocket request for an existing session: the probe
// of its upgrade from polling. As in Node, a session that cannot take a
// probe (already upgraded, or probing) gets the WebSocket opened and
// closed at once; a closing session's sid is refused.
func (c *Socket) upgradeTo(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		c.srv.refuse(w, r, errBadRequest)
		return
	}
	t := &wsConn{c: c}
	probe := c.poll != nil && c.ws == nil && c.probe == nil
	if probe {
		c.probe = t // before the client can send its "2probe"
	}
	c.mu.Unlock()
	if !c.srv.acceptWebSocket(w, r, c, t, false) {
		c.mu.Lock()
		if c.probe == t {
			c.probe = nil
		}
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	if !probe || c.probe != t {
		t.close(true)
		c.mu.Unlock()
		c.srv.opts.Observer.Refused(errBadRequest, true)
		return
	}
	t.watching = true // the upgrade deadline holds wd until the upgrade
	c.srv.sched.arm(&t.wd, upgradeDue, time.Now().Add(c.srv.opts.UpgradeTimeout))
	c.mu.Unlock()
}

// wsClosed counts a WebSocket connection gone and tells a closing server.
func (s *Server) wsClosed() {
	s.wsOpen.Add(-1)
	select {
	case s.wsGone <- struct{}{}:
	default:
	}
}

// waitWebSocketsFlushed waits, at most WriteTimeout, for the WebSocket
// connections closing with queued bytes to write them and close.
func (s *Server) waitWebSocketsFlushed() {
	deadline := time.NewTimer(s.opts.WriteTimeout)
	defer deadline.Stop()
	for s.wsOpen.Load() > 0 {
		select {
		case <-s.wsGone:
		case <-deadline.C:
			return
		}
	}
}
