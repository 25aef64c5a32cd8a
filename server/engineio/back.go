package engineio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// A keep-alive connection on the poller goes back to net/http for a
// request the engine does not serve itself: it is lent, as a
// bridgeConn, to the http.Server of KeepAlive, which serves it like any
// connection it accepted (the engine runs its Serve on backListener; its
// Shutdown, or the engine's Close, closes that). The descriptor stays
// with the poller the whole time, so nothing about it changes hands:
// net/http's goroutine reads it (the poller only wakes it) and writes
// through nbio. A polling request on a lent connection takes it back
// (moveToPoller), a WebSocket upgrade makes it a WebSocket
// (acceptWebSocket).

// backListener hands net/http the connections lent to it.
type backListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newBackListener() *backListener {
	return &backListener{addr: &net.TCPAddr{IP: net.IPv4zero}, conns: make(chan net.Conn, 1024), done: make(chan struct{})}
}

// Accept waits for a connection lent.
func (l *backListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept; no connection is lent afterwards.
func (l *backListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *backListener) Addr() net.Addr { return l.addr }

// deliver lends c to net/http; false when the listener is closed or
// net/http is not taking them (the caller closes c).
func (l *backListener) deliver(c net.Conn) bool {
	select {
	case <-l.done:
		return false
	default:
	}
	select {
	case l.conns <- c:
		return true
	default:
		return false
	}
}

// bridgeMaxBacklog is how much of what net/http writes may wait in nbio
// before its Write blocks (as a socket's send buffer makes it block).
const bridgeMaxBacklog = 64 << 10

// bridgeConn is a connection on the poller as net/http sees it.
type bridgeConn struct {
	h        *httpConn
	readable chan struct{} // the poller saw bytes come (capacity 1)
	writable chan struct{} // nbio wrote all it had (capacity 1)
	done     chan struct{} // closed, or taken back
	once     sync.Once

	mu       sync.Mutex
	pre      []byte // read before the connection was lent
	rdl, wdl time.Time
	taken    bool // taken back by the engine: net/http has let go of it
}

var errTaken = errors.New("engineio: connection taken back")

func newBridge(h *httpConn, pre []byte) *bridgeConn {
	return &bridgeConn{h: h, pre: pre, readable: make(chan struct{}, 1), writable: make(chan struct{}, 1), done: make(chan struct{})}
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Read reads what came, waiting (up to the read deadline) for the poller
// to see more.
func (b *bridgeConn) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		if len(b.pre) > 0 {
			n := copy(p, b.pre)
			b.pre = b.pre[n:]
			b.mu.Unlock()
			return n, nil
		}
		dl := b.rdl
		b.mu.Unlock()
		if err := b.expired(dl); err != nil {
			return 0, err
		}
		n, err := b.h.w.nc.Read(p)
		switch {
		case n > 0:
			return n, nil
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
			if err := b.wait(b.readable, dl); err != nil {
				return 0, err
			}
		case err != nil:
			return 0, err
		default:
			return 0, io.EOF
		}
	}
}

// Write hands p to nbio, waiting (up to the write deadline) while more
// than bridgeMaxBacklog of earlier writes is still unwritten.
func (b *bridgeConn) Write(p []byte) (int, error) {
	for b.h.w.backlog() > bridgeMaxBacklog {
		b.mu.Lock()
		dl := b.wdl
		b.mu.Unlock()
		if err := b.wait(b.writable, dl); err != nil {
			return 0, err
		}
	}
	select {
	case <-b.done:
		return 0, net.ErrClosed
	default:
	}
	if !b.h.w.write(p) {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

// wait waits for ch, the close, or the deadline dl.
func (b *bridgeConn) wait(ch chan struct{}, dl time.Time) error {
	var expire <-chan time.Time
	if !dl.IsZero() {
		t := time.NewTimer(time.Until(dl))
		defer t.Stop()
		expire = t.C
	}
	select {
	case <-ch:
		return nil
	case <-b.done:
		if b.isTaken() {
			return errTaken
		}
		return net.ErrClosed
	case <-expire:
		return os.ErrDeadlineExceeded
	}
}

func (b *bridgeConn) expired(dl time.Time) error {
	select {
	case <-b.done:
		return net.ErrClosed
	default:
	}
	if !dl.IsZero() && !time.Now().Before(dl) {
		return os.ErrDeadlineExceeded
	}
	return nil
}

func (b *bridgeConn) isTaken() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.taken
}

// Close closes the connection (net/http is done with it).
func (b *bridgeConn) Close() error {
	if b.isTaken() {
		return nil
	}
	b.h.mu.Lock()
	if b.h.bridge.Load() == b {
		b.h.closeLocked()
	}
	b.h.mu.Unlock()
	b.end()
	return nil
}

// end stops every wait.
func (b *bridgeConn) end() { b.once.Do(func() { close(b.done) }) }

// takeBack: the engine takes the connection back (net/http hijacked it);
// what was read and not used is returned.
func (b *bridgeConn) takeBack() []byte {
	b.mu.Lock()
	b.taken = true
	pre := b.pre
	b.pre = nil
	b.mu.Unlock()
	b.end()
	return pre
}

// OnPoller says that the connection, though net/http serves it now, is
// one of the engine's poller's (Server.PollerConns counts it).
func (b *bridgeConn) OnPoller() {}

func (b *bridgeConn) LocalAddr() net.Addr  { return b.h.w.nc.LocalAddr() }
func (b *bridgeConn) RemoteAddr() net.Addr { return b.h.w.nc.RemoteAddr() }

func (b *bridgeConn) SetDeadline(t time.Time) error {
	_ = b.SetReadDeadline(t)
	return b.SetWriteDeadline(t)
}

func (b *bridgeConn) SetReadDeadline(t time.Time) error { return b.setDeadline(&b.rdl, b.readable, t) }

func (b *bridgeConn) SetWriteDeadline(t time.Time) error { return b.setDeadline(&b.wdl, b.writable, t) }

// setDeadline sets one deadline and wakes a Read or Write waiting now, so
// it sees the new deadline (net/http ends a background read so).
func (b *bridgeConn) setDeadline(dl *time.Time, waiting chan struct{}, t time.Time) error {
	b.mu.Lock()
	*dl = t
	b.mu.Unlock()
	wake(waiting)
	return nil
}
