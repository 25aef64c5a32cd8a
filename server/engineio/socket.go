package engineio

import (
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Session states, as Node's readyState strings.
type state uint8

const (
	stateOpening state = iota
	stateOpen
	stateClosed
)

var stateNames = [...]string{"opening", "open", "closed"}

// Socket is one Engine.IO session.
type Socket struct {
	engine.Socket // not implemented: see the package comment

	srv      *Server
	id       string
	seq      uint64 // the server's count of sessions when this one opened
	protocol int
	req      *handshakeRequest
	view     transportView

	// mu guards the session: its state, transports and buffers. Every
	// write to a client happens under it, so packets keep one order
	// whichever path (broadcast, Socket.IO layer, heartbeat) sends them.
	mu        sync.Mutex
	state     state
	ws        *wsConn  // the WebSocket in use, nil while on polling
	probe     *wsConn  // a WebSocket being probed for the upgrade
	poll      *polling // nil on a session opened on WebSocket
	upgrading bool     // the probe answered; polling GETs are answered at once
	hb        timer    // ping, pong deadline, or a closing session's last wait
	slow      bool     // dropped for not taking its data

	// The packet queue (exec): what the client sent, run in order on a
	// goroutine of its own. inBytes is what waits there; a WebSocket stops
	// reading (paused) while it is past MaxPayload.
	imu      sync.Mutex
	inbox    []queuedJob
	inHead   int
	draining bool
	inBytes  atomic.Int64
	paused   atomic.Pointer[wsConn]

	lmu       sync.Mutex
	listeners []listener
	// announcedDone is set once the "connection" listeners have run; a
	// session that closed before keeps its reason in closedEarly until
	// then (both under lmu), so that the listeners they added hear of
	// the close.
	announcedDone bool
	closedEarly   string
	// announced is done once the "connection" listeners have run: a
	// client may answer the open packet before they have, and its
	// packets must wait for the listeners that take them.
	announced sync.WaitGroup

	// While the listeners of the connection or of a packet run, Request
	// rebuilds the handshake request once and hands out that copy (the
	// Socket.IO layer asks five times per namespace it connects); the
	// copy is dropped when they return.
	reqScope atomic.Bool
	reqCopy  atomic.Pointer[types.HttpContext]
}

// listener is one registered event listener.
type listener struct {
	event types.EventName
	fn    types.EventListener
	once  bool
}

func newSocket(srv *Server, id string, protocol int, req *handshakeRequest) *Socket {
	c := &Socket{srv: srv, id: id, seq: srv.opened.Add(1), protocol: protocol, req: req}
	c.view.c = c
	c.hb = newTimer(c.onTimer)
	c.announced.Add(1)
	return c
}

// open sends the open packet, starts the heartbeat and announces the
// session.
func (c *Socket) open() {
	// As Node's getAvailableUpgrades: polling's one upgrade, when
	// upgrades are allowed and WebSocket is one of the transports.
	upgrades := []string{}
	if c.poll != nil && c.srv.opts.AllowUpgrades && c.srv.websocket {
		upgrades = []string{"websocket"}
	}
	c.mu.Lock()
	c.state = stateOpen
	c.sendLocked(outPacket{typ: typeOpen, data: c.srv.openPacket(c.id, upgrades)})
	now := time.Now()
	if c.protocol == 3 {
		c.srv.sched.arm(&c.hb, pongDue, now.Add(c.srv.opts.PingInterval+c.srv.opts.PingTimeout))
	} else {
		c.srv.sched.arm(&c.hb, pingDue, now.Add(c.srv.opts.PingInterval))
	}
	transport := c.transportLocked()
	c.mu.Unlock()
	c.srv.opts.Observer.Opened(transport, c.protocol)
	c.withRequestCopy(func() { c.srv.emitConnection(c) })
	c.lmu.Lock()
	c.announcedDone = true
	reason, closed := c.closedEarly, c.closedEarly != ""
	c.lmu.Unlock()
	c.announced.Done()
	if closed { // before its listeners were there: they hear of it now
		c.emit("close", reason)
	}
}

// Id is the session id.
func (c *Socket) Id() string { return c.id }

// Protocol is the Engine.IO protocol revision, 3 or 4.
func (c *Socket) Protocol() int { return c.protocol }

// ReadyState is "opening", "open" or "closed".
func (c *Socket) ReadyState() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return stateNames[c.state]
}

// RemoteAddress is the client's address as the handshake request had it.
func (c *Socket) RemoteAddress() string { return c.req.remoteAddr }

// Request rebuilds the handshake request (see handshakeRequest).
func (c *Socket) Request() *types.HttpContext {
	if !c.reqScope.Load() {
		return c.req.httpContext()
	}
	if h := c.reqCopy.Load(); h != nil {
		return h
	}
	h := c.req.httpContext()
	if !c.reqCopy.CompareAndSwap(nil, h) {
		return c.reqCopy.Load()
	}
	return h
}

// withRequestCopy runs fn (the listeners of the connection or of a
// packet) with one copy of the handshake request for all its Request
// calls.
func (c *Socket) withRequestCopy(fn func()) {
	c.reqScope.Store(true)
	fn()
	c.reqScope.Store(false)
	c.reqCopy.Store(nil)
}

// Transport describes the transport in use: its Name and whether it can
// take a packet now (Writable), which volatile emits check.
func (c *Socket) Transport() transports.Transport { return &c.view }

// Upgraded reports whether the session moved from polling to WebSocket.
func (c *Socket) Upgraded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.poll != nil && c.ws != nil
}

// Write sends a message: r is the Socket.IO layer's encoded packet, a
// *types.StringBuffer (text) or another types.BufferInterface (binary);
// o's Compress false (the layer's compress(false)) keeps a polling
// answer of it alone uncompressed, as in Node. The callback is not
// supported (the Socket.IO layer passes none).
func (c *Socket) Write(r io.Reader, o *packet.Options, _ engine.SendCallback) engine.Socket {
	p := outPacket{typ: typeMessage, plain: o != nil && o.Compress != nil && !*o.Compress}
	switch d := r.(type) {
	case *types.StringBuffer:
		p.data = d.Bytes()
	case types.BufferInterface:
		p.binary, p.data = true, d.Bytes()
	default:
		p.data, _ = io.ReadAll(r)
	}
	c.send(p)
	return c
}

// Send is Write.
func (c *Socket) Send(r io.Reader, o *packet.Options, cb engine.SendCallback) engine.Socket {
	return c.Write(r, o, cb)
}

// Seq orders sessions by when they opened: a later session has a larger
// one. Sessions opened close in time also sit close in memory (the
// server's and the kernel's), so a broadcast that walks them in this
// order (as Node walks its sockets, in the order they connected) reads
// memory in fewer, more predictable places.
func (c *Socket) Seq() uint64 { return c.seq }

// WriteMessage sends a message encoded once for many sockets: its frame
// (WebSocket) or packet (polling) is shared, not copied.
func (c *Socket) WriteMessage(m *Message) {
	if m.binary && c.protocol == 3 {
		// Protocol 3 frames binary with the packet type in front: framed
		// here, the data still shared.
		c.send(outPacket{typ: typeMessage, binary: true, data: m.data})
		return
	}
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	var ok bool
	if c.ws != nil {
		ok = c.ws.send(c.ws.messageFrame(m), m)
	} else {
		ok = c.poll.push(c.srv, outPacket{typ: typeMessage, binary: m.binary, data: m.data, m: m})
		c.wakeGET()
	}
	c.mu.Unlock()
	if !ok {
		c.dropSlow(SlowConnection)
	}
	c.srv.checkTotal()
}

func (c *Socket) send(p outPacket) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	ok := c.sendLocked(p)
	c.mu.Unlock()
	if !ok {
		c.dropSlow(SlowConnection)
	}
	c.srv.checkTotal()
}

// sendLocked writes p to the transport in use; false if the client
// would hold more than MaxQueued.
func (c *Socket) sendLocked(p outPacket) bool {
	if c.ws != nil {
		return c.ws.send(c.ws.packetFrame(p), nil)
	}
	ok := c.poll.push(c.srv, p)
	c.wakeGET()
	return ok
}

// heldLocked is what the session holds for its client (under mu).
func (c *Socket) heldLocked() int64 {
	switch {
	case c.state == stateClosed:
		return 0
	case c.ws != nil:
		return c.ws.held()
	case c.poll != nil:
		return c.poll.bufBytes
	}
	return 0
}

// dropSlow closes a session whose client does not take what is sent to it.
func (c *Socket) dropSlow(cause SlowCause) {
	c.mu.Lock()
	dropping := c.state != stateClosed
	c.slow = c.slow || dropping
	c.mu.Unlock()
	if !dropping {
		return
	}
	c.srv.logDrop(c.id, cause)
	c.srv.opts.Observer.Dropped(cause)
	c.close("transport error", false, typeClose)
}

// Close closes the session ("forced close"); queued packets are written
// first unless discard.
func (c *Socket) Close(discard bool) { c.close("forced close", !discard, typeClose) }

// close ends the session once. flush: what is queued still goes out
// (polling: on the next GET, with the close packet; WebSocket: before
// the close frame). last is what a waiting polling GET is answered with
// at the end: the close packet, or noop when the client closed.
func (c *Socket) close(reason string, flush bool, last byte) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	c.upgrading = false
	transport, slow := c.transportLocked(), c.slow
	lingers := false
	if c.ws != nil {
		c.ws.close(flush)
	} else if c.poll != nil {
		lingers = c.poll.close(c.srv, flush, last)
		c.wakeGET()
	}
	if c.probe != nil {
		c.probe.close(false)
		c.probe = nil
	}
	if lingers { // wait for the GET that collects the rest
		wait := c.srv.opts.PingInterval + c.srv.opts.PingTimeout
		if !flush {
			wait = clientCloseLinger
		}
		c.srv.sched.arm(&c.hb, closeDue, time.Now().Add(wait))
	} else {
		c.srv.sched.disarm(&c.hb)
	}
	c.mu.Unlock()
	if !lingers {
		c.srv.forget(c)
	}
	c.srv.opts.Observer.Closed(transport, c.protocol, reason, slow)
	c.lmu.Lock()
	early := !c.announcedDone
	if early {
		c.closedEarly = reason
	}
	c.lmu.Unlock()
	if !early {
		c.emit("close", reason)
	}
}

// onTimer handles the session's deadlines.
func (c *Socket) onTimer(kind timerKind, now time.Time) {
	switch kind {
	case pingDue:
		c.mu.Lock()
		if c.state != stateOpen {
			c.mu.Unlock()
			return
		}
		// The pong deadline first, then the ping: a pong can never
		// arrive before the deadline it answers.
		c.srv.sched.arm(&c.hb, pongDue, now.Add(c.srv.opts.PingTimeout))
		ok := c.sendLocked(outPacket{typ: typePing})
		c.mu.Unlock()
		if !ok {
			c.dropSlow(SlowConnection)
		}
	case pongDue:
		c.close("ping timeout", false, typeClose)
	case closeDue:
		c.srv.forget(c)
	}
}

// timedOut closes the session if its ping timeout has passed by now
// though the schedule has not fired it yet (it runs late under load):
// a request that comes after the deadline finds the session gone, as in
// Node, whose due timers run before the I/O of the same turn.
func (c *Socket) timedOut(now time.Time) bool {
	if !c.srv.sched.lapsed(&c.hb, pongDue, now) {
		return false
	}
	c.close("ping timeout", false, typeClose)
	return true
}

// onPacket handles a packet from the transport in use.
func (c *Socket) onPacket(p inPacket) {
	c.announced.Wait()
	if c.ReadyState() != "open" {
		return
	}
	o := c.srv.opts
	switch p.typ {
	case typePing:
		if c.protocol != 3 { // v4 clients answer pings, never send them
			c.close("transport error", false, typeClose)
			return
		}
		c.mu.Lock()
		c.srv.sched.arm(&c.hb, pongDue, time.Now().Add(o.PingInterval+o.PingTimeout))
		ok := c.sendLocked(outPacket{typ: typePong, data: p.data})
		c.mu.Unlock()
		if !ok {
			c.dropSlow(SlowConnection)
		}
	case typePong:
		if c.protocol == 3 {
			c.close("transport error", false, typeClose)
			return
		}
		c.srv.sched.rearmIf(&c.hb, pongDue, pingDue, time.Now().Add(o.PingInterval))
	case typeMessage:
		var data types.BufferInterface = types.NewStringBuffer(p.data)
		if p.binary {
			data = types.NewBytesBuffer(p.data)
		}
		c.withRequestCopy(func() { c.emit("data", data) })
	case typeClose:
		c.close("transport close", false, typeNoop)
	}
}

// Event listeners: the Socket.IO layer registers "data", "error" and
// "close" on every session and removes them when it lets go.

// On adds listeners for ev.
func (c *Socket) On(ev types.EventName, fns ...types.EventListener) error {
	c.lmu.Lock()
	for _, fn := range fns {
		c.listeners = append(c.listeners, listener{event: ev, fn: fn})
	}
	c.lmu.Unlock()
	return nil
}

// Once adds listeners for ev that run at most once.
func (c *Socket) Once(ev types.EventName, fns ...types.EventListener) error {
	c.lmu.Lock()
	for _, fn := range fns {
		c.listeners = append(c.listeners, listener{event: ev, fn: fn, once: true})
	}
	c.lmu.Unlock()
	return nil
}

// RemoveListener removes fn (compared by code pointer, so a method
// value matches another value of the same method) from ev.
func (c *Socket) RemoveListener(ev types.EventName, fn types.EventListener) bool {
	ptr := reflect.ValueOf(fn).Pointer()
	c.lmu.Lock()
	defer c.lmu.Unlock()
	for i, l := range c.listeners {
		if l.event == ev && reflect.ValueOf(l.fn).Pointer() == ptr {
			c.listeners = append(c.listeners[:i], c.listeners[i+1:]...)
			return true
		}
	}
	return false
}

// emit calls ev's listeners in order, outside any lock.
func (c *Socket) emit(ev types.EventName, args ...any) {
	c.lmu.Lock()
	var fns []types.EventListener
	kept := c.listeners[:0]
	for _, l := range c.listeners {
		if l.event == ev {
			fns = append(fns, l.fn)
			if l.once {
				continue
			}
		}
		kept = append(kept, l)
	}
	clear(c.listeners[len(kept):])
	c.listeners = kept
	c.lmu.Unlock()
	for _, fn := range fns {
		fn(args...)
	}
}

// Emit calls ev's listeners.
func (c *Socket) Emit(ev types.EventName, args ...any) { c.emit(ev, args...) }

// transportView is what Socket.Transport returns: the name of the
// transport in use and whether it can take a packet now.
type transportView struct {
	transports.Transport // not implemented: see the package comment
	c                    *Socket
}

// Name is "websocket" or "polling".
func (v *transportView) Name() string {
	v.c.mu.Lock()
	defer v.c.mu.Unlock()
	return v.c.transportLocked()
}

// transportLocked names the transport in use (under mu).
func (c *Socket) transportLocked() string {
	if c.ws != nil {
		return transports.WEBSOCKET
	}
	return transports.POLLING
}

// Writable: a WebSocket always is; polling only while a GET waits.
func (v *transportView) Writable() bool {
	v.c.mu.Lock()
	defer v.c.mu.Unlock()
	if v.c.state != stateOpen {
		return false
	}
	return v.c.ws != nil || v.c.poll.waiting
}
