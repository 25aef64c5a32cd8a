package server

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The WebSocket transport, tuned for fan-out.
//
// The library's own transport (transports.(*websocket).send) turns every
// broadcast into, per socket: a new goroutine (its write queue starts one
// per write), a new gorilla PreparedMessage built from the broadcast's
// pre-encoded frame (allocating and framing the payload again), and a
// write. Profiles of 5 000 sockets put most of the broadcast CPU and
// garbage there. This transport keeps the library's for reading and
// everything else, and replaces the writing side with:
//   - one queue per socket, which broadcast frames can also join straight
//     from the adapter (fanoutAdapter, sendFrame);
//   - one PreparedMessage per broadcast, shared by all sockets (gorilla
//     frames it once and each socket's write is a plain copy to the wire);
//   - a fixed pool of writer goroutines instead of one new goroutine per
//     write, so stacks are grown once, not per socket per broadcast;
//   - a write deadline and a cap on what a socket may have queued, so a
//     client that stops reading is dropped instead of holding a writer;
//   - a close that waits for the queue to be written (DoClose).

const (
	wsMaxQueued           = 1024             // writes waiting for one socket
	wsWriters             = 64               // pooled writer goroutines
	defaultWSWriteTimeout = 10 * time.Second // one writer turn for one socket
)

// fastWebSocketBuilder makes fastWebSocket transports.
type fastWebSocketBuilder struct {
	transports.WebSocketBuilder
	writeTimeout time.Duration // 0: defaultWSWriteTimeout
}

// New builds the transport around the library's.
func (b *fastWebSocketBuilder) New(ctx *types.HttpContext) transports.Transport {
	w := transports.MakeWebSocket()
	timeout := b.writeTimeout
	if timeout <= 0 {
		timeout = defaultWSWriteTimeout
	}
	fw := &fastWebSocket{Websocket: w, conn: ctx.Websocket, writeTimeout: timeout}
	w.Prototype(fw)
	w.Construct(ctx)
	return fw
}

// fastWebSocket is the library's WebSocket transport with Send replaced.
// It is always writable: the Engine.IO socket hands every packet over at
// once (it never holds a write buffer of its own), and this transport
// keeps the one queue, so a broadcast frame queued straight from the
// adapter (sendFrame) stays in order with everything else.
type fastWebSocket struct {
	transports.Websocket
	conn         *types.WebSocketConn
	writeTimeout time.Duration

	mu      sync.Mutex
	queue   []wsItem // queue[head:] is waiting; the array is reused
	head    int
	running bool // a writer owns the queue
	failed  bool // a write failed, the queue overflowed or it is closed
	// closeFn, set while a writer runs, closes the connection once the
	// writer has emptied the queue (see DoClose).
	closeFn func()
	// direct: the Engine.IO socket has sent a message through this
	// transport, so it is the socket's transport and everything the
	// socket buffered before (e.g. during an upgrade) is queued here:
	// broadcast frames may now skip the socket.
	direct bool
}

// wsItem is one queued write: a batch from the Engine.IO socket (after
// which the transport emits "drain", as the library's does) or a
// broadcast frame from the adapter.
type wsItem struct {
	batch []*packet.Packet
	frame *websocket.PreparedMessage
	ping  bool // batch holds the Engine.IO socket's heartbeat ping
}

// pingWriteDelay holds back the write of a heartbeat ping that starts a
// writer turn. The library's ping timer sends the ping and only then arms
// the pong timeout (servers/engine/v3 socket.go, schedulePing: sendPacket
// before resetPingTimeout); a pong that arrives in between clears nothing,
// and the timeout armed after it closes a healthy connection ("ping
// timeout"). Node is single-threaded and cannot see that order. Writing
// the ping a little later lets the timer goroutine arm the timeout first.
const pingWriteDelay = 5 * time.Millisecond

// Send queues packets for this socket's writer and returns at once.
func (w *fastWebSocket) Send(packets []*packet.Packet) {
	if w.PerMessageDeflate() != nil { // never set by this server; keep the library's path
		w.Websocket.Send(packets)
		return
	}
	it, direct := wsItem{batch: packets}, false
	for _, p := range packets {
		switch p.Type {
		case packet.MESSAGE:
			direct = true
		case packet.PING:
			it.ping = true
		}
	}
	w.enqueue(it, direct)
}

// sendFrame queues a broadcast's shared frame, skipping the Engine.IO
// socket. It reports false, queuing nothing, until the socket has sent a
// message through this transport: the caller then takes the socket's path.
func (w *fastWebSocket) sendFrame(pm *websocket.PreparedMessage) bool {
	w.mu.Lock()
	if !w.direct {
		w.mu.Unlock()
		return false
	}
	w.push(wsItem{frame: pm})
	return true
}

func (w *fastWebSocket) enqueue(it wsItem, direct bool) {
	w.mu.Lock()
	if direct {
		w.direct = true
	}
	w.push(it)
}

// push appends to the queue and starts a writer if none runs; w.mu is
// held and push releases it. A socket with wsMaxQueued writes waiting is
// not reading: it is dropped rather than buffered without bound.
func (w *fastWebSocket) push(it wsItem) {
	if w.failed {
		w.mu.Unlock()
		return
	}
	if len(w.queue)-w.head >= wsMaxQueued {
		w.failed = true
		w.queue, w.head = nil, 0
		w.mu.Unlock()
		w.conn.Emit("error", errors.New("slow client: send queue full"))
		return
	}
	w.queue = append(w.queue, it)
	if w.running {
		w.mu.Unlock()
		return
	}
	w.running = true
	w.mu.Unlock()
	if it.ping {
		time.AfterFunc(pingWriteDelay, func() { writers.schedule(w) })
		return
	}
	writers.schedule(w)
}

// DoClose closes the connection once what is queued is written (within
// the write deadline), as Node's transport does: a disconnect packet sent
// just before closing, or a burst of broadcasts, must reach the client.
// The library's closes at once and drops the queue.
func (w *fastWebSocket) DoClose(fn types.Callable) {
	w.mu.Lock()
	if w.running && !w.failed {
		w.closeFn = func() { w.Websocket.DoClose(fn) }
		w.mu.Unlock()
		return
	}
	w.failed = true
	w.mu.Unlock()
	w.Websocket.DoClose(fn)
}

// drain writes the queued items in order. The deadline covers the whole
// turn: one deadline per turn, not per write.
func (w *fastWebSocket) drain() {
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.writeTimeout))
	for {
		w.mu.Lock()
		if w.head == len(w.queue) || w.failed {
			// Keep a small array for the next turn (no allocation per
			// broadcast); let a large one, left by a burst, go.
			if cap(w.queue) > 16 || w.failed {
				w.queue = nil
			} else {
				w.queue = w.queue[:0]
			}
			w.head, w.running = 0, false
			closeFn := w.closeFn
			if closeFn != nil {
				w.closeFn, w.failed = nil, true
			}
			w.mu.Unlock()
			if closeFn != nil {
				closeFn()
			}
			return
		}
		it := w.queue[w.head]
		w.queue[w.head] = wsItem{}
		w.head++
		w.mu.Unlock()

		var err error
		if it.frame != nil {
			err = w.conn.WritePreparedMessage(it.frame)
		} else {
			err = w.write(it.batch)
			w.Emit("drain")
		}
		if err != nil {
			w.mu.Lock()
			w.failed = true
			w.mu.Unlock()
			if websocket.IsUnexpectedCloseError(err) || errors.Is(err, net.ErrClosed) {
				w.conn.Emit("close")
			} else {
				w.conn.Emit("error", err)
			}
		}
	}
}

// write sends one batch from the Engine.IO socket: a broadcast's shared
// frame as a prepared message, anything else encoded for this socket.
func (w *fastWebSocket) write(batch []*packet.Packet) error {
	for _, p := range batch {
		if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
			pm, err := prepared.get(p.Options.WsPreEncodedFrame)
			if err != nil {
				return err
			}
			if err := w.conn.WritePreparedMessage(pm); err != nil {
				return err
			}
			continue
		}
		data, err := w.Parser().EncodePacket(p, w.SupportsBinary())
		if err != nil {
			return err
		}
		kind := websocket.BinaryMessage
		if _, ok := data.(*types.StringBuffer); ok {
			kind = websocket.TextMessage
		}
		if err := w.conn.WriteMessage(kind, data.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// writerPool runs socket writers on long-lived goroutines.
type writerPool struct {
	once sync.Once
	jobs chan *fastWebSocket
}

var writers writerPool

// schedule hands w to a pooled writer, or to a new goroutine when all of
// them are busy and the hand-over queue is full: never blocks the caller.
func (p *writerPool) schedule(w *fastWebSocket) {
	p.once.Do(func() {
		p.jobs = make(chan *fastWebSocket, 1<<16)
		for range wsWriters {
			go func() {
				for w := range p.jobs {
					w.drain()
				}
			}()
		}
	})
	select {
	case p.jobs <- w:
	default:
		go w.drain()
	}
}

// preparedCache maps a broadcast's shared pre-encoded frame (the same
// buffer for every socket of one broadcast) to one PreparedMessage. It
// keeps the most recent few: a socket that falls further behind simply
// prepares its own.
type preparedCache struct {
	mu    sync.Mutex
	byBuf map[types.BufferInterface]*websocket.PreparedMessage
	order []types.BufferInterface
}

const preparedKeep = 64

var prepared = preparedCache{byBuf: map[types.BufferInterface]*websocket.PreparedMessage{}}

func (c *preparedCache) get(frame types.BufferInterface) (*websocket.PreparedMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pm, ok := c.byBuf[frame]; ok {
		return pm, nil
	}
	kind := websocket.BinaryMessage
	if _, ok := frame.(*types.StringBuffer); ok {
		kind = websocket.TextMessage
	}
	pm, err := websocket.NewPreparedMessage(kind, frame.Bytes())
	if err != nil {
		return nil, err
	}
	if len(c.order) == preparedKeep {
		delete(c.byBuf, c.order[0])
		c.order = c.order[1:]
	}
	c.byBuf[frame] = pm
	c.order = append(c.order, frame)
	return pm, nil
}
