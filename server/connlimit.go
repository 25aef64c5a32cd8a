package server

import (
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// The maximum of open connections (MAX_CONNECTIONS). Every client
// connection is a descriptor, and a process out of descriptors fails in
// places far from the cause (accept, the store's files, Redis). So the
// listener refuses a connection at once (closed with a reset) while the
// server holds its maximum: net/http's connections (counted by their
// states) and those on the Socket.IO engine's poller. Refusals are
// counted and logged, at most once a second.

// connCounter counts net/http's connections by their states.
type connCounter struct{ n atomic.Int64 }

// pollerConn is a connection the Socket.IO engine lends net/http while
// its poller keeps it (and counts it).
type pollerConn interface{ OnPoller() }

// track is an http.Server's ConnState: a connection counts from New to
// Closed, or to Hijacked (the engine's poller counts it then); one the
// engine lent is its already.
func (c *connCounter) track(conn net.Conn, s http.ConnState) {
	if _, lent := conn.(pollerConn); lent {
		return
	}
	switch s {
	case http.StateNew:
		c.n.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.n.Add(-1)
	}
}

// limitListener refuses connections past max.
type limitListener struct {
	net.Listener
	max     int64
	open    func() int64 // connections open now
	refused func()       // counts a refusal
	log     *slog.Logger
	logged  atomic.Int64 // unix seconds of the last log line
	skipped atomic.Int64 // refusals since it
}

// Accept returns the next connection the server has room for.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open() < l.max {
			return c, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset: nothing of it lingers in the kernel
		}
		_ = c.Close()
		l.refused()
		l.skipped.Add(1)
		now := time.Now().Unix()
		if last := l.logged.Load(); now > last && l.logged.CompareAndSwap(last, now) {
			l.log.Warn("connections refused: the server holds its maximum (MAX_CONNECTIONS)",
				"max", l.max, "open", l.open(), "refused", l.skipped.Swap(0))
		}
	}
}
