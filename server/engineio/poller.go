package engineio

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/mempool"
)

// The poller. Connections leave net/http for the poller of
// github.com/lesismal/nbio: a WebSocket after its upgrade, a keep-alive
// HTTP connection after its first long-polling request (keepalive.go).
// There an idle connection has no goroutine and no buffer.
//
// The poller runs edge-triggered and the server reads for it (OnRead):
// a connection is read only when its owner can take what comes (an HTTP
// connection between two requests, a WebSocket whose session is not
// behind on what it received). What is not read stays in the kernel,
// where TCP's flow control slows the client down; nothing read waits in
// the server unbounded. Writes never block: nbio writes what the kernel
// takes and copies the rest (wire.go); copies come from the Go heap, not
// from a pool that would keep them after the connection is gone.
//
// A TLS connection from crypto/tls cannot move to the poller: terminate
// TLS in front of the server.

// pollerConn is what a connection on the poller is to the server: its
// nbio session.
type pollerConn interface {
	// readable: the kernel has bytes for it (run by the poller, with its
	// buffer).
	readable(buf []byte)
	// gone: nbio closed the connection (either side).
	gone()
	wire() *wire
}

// newPoller builds the server's nbio engine; startPoller starts it.
func (s *Server) newPoller() {
	logging.SetLevel(logging.LevelError) // nbio logs every start at info, to stdout
	s.nb = nbio.NewEngine(nbio.Config{
		Name:          "engineio",
		EpollMod:      nbio.EPOLLET,
		BodyAllocator: mempool.NewSTD(),
	})
	s.nb.OnRead(func(c *nbio.Conn) {
		if p, ok := c.Session().(pollerConn); ok {
			p.readable(s.nb.PollerBuffer(c))
		}
	})
	// Open and close come in pairs for every connection the poller took.
	s.nb.OnOpen(func(*nbio.Conn) { s.onPoller.Add(1) })
	s.nb.OnClose(func(c *nbio.Conn, _ error) {
		s.onPoller.Add(-1)
		if p, ok := c.Session().(pollerConn); ok {
			p.gone()
		}
	})
	s.nb.OnWrittenSize(func(c *nbio.Conn, _ []byte, n int) {
		if p, ok := c.Session().(pollerConn); ok {
			p.wire().wrote(n)
		}
	})
	s.readBufs.New = func() any { b := make([]byte, 16<<10); return &b }
}

// startPoller starts the nbio engine and returns once every one of its
// pollers has run its loop. nbio v1.6.8 loses a Stop that comes before a
// poller's loop has begun (the loop clears the stop flag as it starts,
// and then waits for events for ever), so a server closed right after
// New, or right after its first connection, would hang in Close. Each
// poller is shown a probe connection carrying one byte; once as many
// reads as pollers have come, every loop is past that point. The probes
// are then closed, and startPoller waits until nbio has closed each of
// them: left to close when their peers' EOF came, they stayed counted in
// PollerConns (so in MAX_CONNECTIONS) for a moment after New returned.
func (s *Server) startPoller() error {
	n := s.nb.NPoller
	probe := pollerProbe{read: make(chan struct{}, n), closed: make(chan struct{}, 8*n+8)} // before Start: see pollerProbe
	if err := s.nb.Start(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("engineio: poller probe: %w", err)
	}
	defer ln.Close()
	var probes []net.Conn   // the writing ends
	var polled []*nbio.Conn // nbio's ends
	defer func() {
		for _, c := range probes {
			_ = c.Close()
		}
	}()
	covered := map[int]bool{}
	for try := 0; len(covered) < n; try++ {
		if try == 8*n+8 { // descriptors come in order: this never runs out
			return errors.New("engineio: poller probe found no descriptor for every poller")
		}
		w, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return fmt.Errorf("engineio: poller probe: %w", err)
		}
		probes = append(probes, w)
		r, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("engineio: poller probe: %w", err)
		}
		nc, err := s.addToPoller(r, func(*nbio.Conn) pollerConn { return probe })
		if err != nil {
			return fmt.Errorf("engineio: poller probe: %w", err)
		}
		polled = append(polled, nc)
		if p := nc.Hash() % n; !covered[p] {
			covered[p] = true
			if _, err := w.Write([]byte{0}); err != nil {
				return fmt.Errorf("engineio: poller probe: %w", err)
			}
		}
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for range n {
		select {
		case <-probe.read:
		case <-timeout.C:
			return errors.New("engineio: a poller did not start within 10 s")
		}
	}
	for _, nc := range polled {
		_ = nc.Close()
	}
	for range polled {
		select {
		case <-probe.closed:
		case <-timeout.C:
			return errors.New("engineio: the poller did not close its probes within 10 s")
		}
	}
	return nil
}

// pollerProbe is a poller connection of startPoller's: each read of it
// sends on read, its close on closed. Channels made before the engine
// started: the poller's goroutine learns of the probe through the
// kernel, which the race detector cannot see, and needs nothing written
// after it started.
type pollerProbe struct{ read, closed chan struct{} }

func (p pollerProbe) readable([]byte) {
	select {
	case p.read <- struct{}{}:
	default:
	}
}

func (p pollerProbe) gone() {
	select {
	case p.closed <- struct{}{}:
	default:
	}
}

func (pollerProbe) wire() *wire { return nil } // nothing is written to it

// addToPoller moves conn, hijacked from net/http, to the poller as p,
// which make builds for its nbio connection. nbio duplicates the
// descriptor without close-on-exec, so a process started meanwhile
// (os/exec) would inherit it: the TCP connection would outlive the
// server's close, and the poller, which keys connections by descriptor
// number, would take that connection's later events for whichever
// connection next gets the number. The move holds syscall.ForkLock (as
// creating any descriptor must) until the new descriptor is marked
// close-on-exec. conn is closed either way.
func (s *Server) addToPoller(conn net.Conn, make func(*nbio.Conn) pollerConn) (*nbio.Conn, error) {
	syscall.ForkLock.RLock()
	nc, err := nbio.NBConn(conn)
	if err == nil {
		closeOnExec(nc)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	nc.SetSession(make(nc))
	if _, err := s.nb.AddConn(nc); err != nil { // nbio closed it (OnClose)
		return nil, err
	}
	return nc, nil
}

// errStopped is what a connection's reading ends with when its owner
// stopped taking bytes while the kernel may hold more (the last read
// filled the buffer): the owner reads again later, since no new edge
// comes for what is there already.
var errStopped = errors.New("engineio: not reading now")

// readConn reads what the kernel holds for nc into buf, handing each
// read to take, until the kernel has no more (nil), take stops (nil
// when that read did not fill buf: the kernel had no more then, and
// whatever comes later brings a new edge; else errStopped) or the
// connection fails or ends (the error; the caller closes it).
func readConn(nc *nbio.Conn, buf []byte, take func([]byte) bool) error {
	for {
		n, err := nc.Read(buf)
		if n > 0 && !take(buf[:n]) {
			if n < len(buf) {
				return nil
			}
			return errStopped
		}
		switch {
		case errors.Is(err, syscall.EINTR):
		case errors.Is(err, syscall.EAGAIN):
			return nil
		case err != nil:
			return err
		case n == 0:
			return net.ErrClosed // the peer closed its side
		}
	}
}

// withReadBuffer runs fn with a buffer for reads off the poller's
// goroutine (a connection resuming; the poller lends its own when it
// calls). As many exist as such reads run at once.
func (s *Server) withReadBuffer(fn func([]byte)) {
	bp := s.readBufs.Get().(*[]byte)
	fn(*bp)
	s.readBufs.Put(bp)
}
