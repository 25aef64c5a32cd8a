package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

// The WebSocket transport on nbio's poller. net/http serves the upgrade
// request (Gin keeps the port); nbio's upgrader hijacks the connection,
// answers 101 and moves the file descriptor onto the server's own nbio
// engine, which reads it when bytes arrive and runs each connection's
// messages in order on a small pool. Writes never block: what the kernel
// does not take at once waits in nbio's buffer for the connection, whose
// size is bounded (MaxBuffered) and whose age is watched (WriteTimeout).
//
// A TLS connection from crypto/tls cannot move to the poller; nbio then
// reads it on a goroutine of its own. Terminate TLS in front of the server.

// messagePool bounds the goroutines that run connections' messages.
const messagePool = 64

// startPoller starts the server's nbio engine and upgrader.
func (s *Server) startPoller() error {
	logging.SetLevel(logging.LevelError) // nbio logs every start at info, to stdout
	s.nb = nbhttp.NewEngine(nbhttp.Config{
		Name:                   "engineio",
		MaxWriteBufferSize:     s.opts.MaxBacklog,
		MessageHandlerPoolSize: messagePool,
		SupportServerOnly:      true, // no nbio client: no pool for one
		Handler:                http.HandlerFunc(s.serveTaken),
	})
	s.nb.OnClose(func(c net.Conn, _ error) { s.connClosed(c) })
	s.nb.Engine.OnWrittenSize(func(c *nbio.Conn, _ []byte, n int) {
		if wsc, ok := c.Session().(*nbws.Conn); ok {
			if t, ok := wsc.Session().(*wsConn); ok {
				t.wrote(n)
			}
		}
	})
	if err := s.nb.Start(); err != nil {
		return err
	}
	up := nbws.NewUpgrader()
	up.Engine = s.nb
	up.KeepaliveTime = 0 // the heartbeat watches the connection
	up.MessageLengthLimit = int(s.opts.MaxPayload)
	up.CheckOrigin = func(*http.Request) bool { return true } // checked before (Options.CheckOrigin)
	up.OnMessage(func(wsc *nbws.Conn, mt nbws.MessageType, data []byte) {
		if t := sessionOf(wsc); t != nil {
			t.c.onWebSocketMessage(t, data, mt == nbws.BinaryMessage)
		}
	})
	up.OnClose(func(wsc *nbws.Conn, err error) {
		if t := sessionOf(wsc); t != nil {
			t.c.onWebSocketClose(t, err)
		}
	})
	s.up = up
	return nil
}

// sessionOf is the transport of an upgraded connection. The upgrader
// writes 101 before it returns the connection, so a fast client's first
// message can run before the session is set; it waits that moment out.
func sessionOf(wsc *nbws.Conn) *wsConn {
	for range 10000 {
		if t, ok := wsc.Session().(*wsConn); ok {
			return t
		}
		runtime.Gosched()
	}
	return nil
}

// wsConn is one WebSocket connection of a session.
type wsConn struct {
	c    *Socket
	conn *nbws.Conn
	// queued counts the bytes handed to nbio, written those nbio wrote to
	// the socket; the difference is the backlog. mark and wd watch it
	// (under c.mu): the backlog present when wd was armed must be gone
	// when it fires, else the client is too slow.
	queued, written atomic.Int64
	mark            int64
	watching        bool // wd is armed for the write deadline
	wd              timer
	closing         atomic.Bool // the close frame is queued; close when written
	closed          atomic.Bool
}

// acceptWebSocket upgrades r for c: the session's first transport
// (fresh) or a probe for the upgrade from polling.
func (s *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request, c *Socket, fresh bool) *wsConn {
	if s.opts.CheckOrigin != nil && !s.opts.CheckOrigin(r) {
		s.refuse(w, r, errForbidden)
		return nil
	}
	t := &wsConn{c: c}
	t.wd = newTimer(t.onTimer)
	if fresh {
		c.ws = t // before anything can be sent
	}
	wsc, err := upgradeToPoller(s.up, w, r)
	if err != nil { // the upgrader has answered
		if fresh {
			c.ws = nil
		}
		return nil
	}
	t.conn = wsc
	s.wsOpen.Add(1)
	wsc.SetSession(t)
	return t
}

// upgradeToPoller answers 101 and moves the connection to the poller. nbio
// duplicates the connection's file descriptor without close-on-exec, so
// a process started meanwhile (os/exec) would inherit it: the TCP
// connection would outlive the server's close, and the poller, which
// keys connections by descriptor number, would take that connection's
// later events for whichever connection next gets the number. The
// upgrade holds syscall.ForkLock (as creating any descriptor must) until
// the new descriptor is marked close-on-exec.
func upgradeToPoller(up *nbws.Upgrader, w http.ResponseWriter, r *http.Request) (*nbws.Conn, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	wsc, err := up.UpgradeAndTransferConnToPoller(w, r, nil)
	if err != nil {
		return nil, err
	}
	if nc, ok := wsc.Conn.(*nbio.Conn); ok {
		closeOnExec(nc)
	}
	return wsc, nil
}

// write queues a frame (under c.mu).
func (t *wsConn) write(frame []byte) {
	if t.closed.Load() {
		return
	}
	q := t.queued.Add(int64(len(frame)))
	if _, err := t.conn.Conn.Write(frame); err != nil {
		return // nbio closes the connection (full buffer or dead peer): onWebSocketClose follows
	}
	if t.written.Load() < q && !t.watching {
		t.watch(q, time.Now())
	}
}

// watch arms the write deadline for the backlog up to mark (under c.mu).
func (t *wsConn) watch(mark int64, now time.Time) {
	t.mark, t.watching = mark, true
	t.c.srv.sched.arm(&t.wd, writeDue, now.Add(t.c.srv.opts.WriteTimeout))
}

// wrote counts bytes nbio wrote; a closing connection ends once all
// queued bytes are out.
func (t *wsConn) wrote(n int) {
	if t.written.Add(int64(n)) >= t.queued.Load() && t.closing.Load() && t.closed.CompareAndSwap(false, true) {
		go t.conn.Conn.Close() // not from inside nbio's write path, which holds the connection's lock
	}
}

// onTimer: the write deadline, or the upgrade deadline of a probe.
func (t *wsConn) onTimer(kind timerKind, now time.Time) {
	c := t.c
	c.mu.Lock()
	if kind == upgradeDue {
		probing := c.probe == t
		if probing {
			c.probe, c.upgrading = nil, false
		}
		c.mu.Unlock()
		if probing {
			c.srv.opts.Observer.Refused(-1, true)
			t.shut()
		}
		return
	}
	t.watching = false
	if t.written.Load() >= t.mark { // what was waiting went out
		if q := t.queued.Load(); t.written.Load() < q {
			t.watch(q, now)
		}
		c.mu.Unlock()
		return
	}
	active := c.ws == t && !t.closing.Load()
	c.mu.Unlock()
	if active {
		c.dropSlow()
	}
	t.shut()
}

// close ends the connection (under c.mu): at once, or after what is
// queued and a close frame.
func (t *wsConn) close(flush bool) {
	if !flush || t.conn == nil {
		t.shut()
		return
	}
	t.write(t.c.srv.frames.close)
	t.closing.Store(true)
	t.wrote(0)
	if !t.closed.Load() && !t.watching { // bound the wait for a client that does not read
		t.watch(t.queued.Load(), time.Now())
	}
}

// shut closes the connection now.
func (t *wsConn) shut() {
	t.closed.Store(true)
	t.c.srv.sched.disarm(&t.wd)
	if t.conn != nil {
		_ = t.conn.Conn.Close()
	}
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
		t.write(c.srv.frames.probe)
		c.upgrading = true
		c.wakeGET()
		c.mu.Unlock()
	case ok && p.typ == typeUpgrade && c.state == stateOpen:
		c.srv.sched.disarm(&t.wd)
		t.watching = false
		c.probe, c.ws, c.upgrading = nil, t, false
		for _, pk := range c.poll.take() {
			t.write(packetFrame(pk, c.protocol))
		}
		c.wakeGET() // a GET still waiting gets a noop
		c.mu.Unlock()
		c.srv.opts.Observer.Upgraded(c.protocol)
		c.emit("upgrade", c.Transport())
	default:
		c.probe, c.upgrading = nil, false
		c.mu.Unlock()
		t.shut()
	}
}

// onWebSocketClose: the connection is gone.
func (c *Socket) onWebSocketClose(t *wsConn, err error) {
	t.closed.Store(true)
	c.srv.sched.disarm(&t.wd)
	c.srv.wsClosed()
	c.mu.Lock()
	switch {
	case c.probe == t: // the probe failed; the session stays on polling
		c.probe, c.upgrading = nil, false
		c.mu.Unlock()
	case c.ws == t:
		c.mu.Unlock()
		reason := "transport close"
		if err != nil && !isCloseError(err) {
			reason = "transport error"
		}
		c.close(reason, false, typeClose)
	default:
		c.mu.Unlock()
	}
}

// isCloseError: the peer closed (close frame or end of stream).
func isCloseError(err error) bool {
	var ce *nbws.CloseError
	return errors.As(err, &ce) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)
}

// upgradeTo takes a WebSocket request for an existing session: the probe
// of its upgrade from polling. As in Node, a session that cannot take a
// probe (already upgraded, or probing) gets the WebSocket opened and
// closed at once; a closing session's sid is refused.
func (c *Socket) upgradeTo(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	open := c.state == stateOpen
	c.mu.Unlock()
	if !open {
		c.srv.refuse(w, r, errBadRequest)
		return
	}
	t := c.srv.acceptWebSocket(w, r, c, false)
	if t == nil {
		return
	}
	c.mu.Lock()
	if c.state != stateOpen || c.poll == nil || c.ws != nil || c.probe != nil {
		t.close(true)
		c.mu.Unlock()
		c.srv.opts.Observer.Refused(errBadRequest, true)
		return
	}
	c.probe = t
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
