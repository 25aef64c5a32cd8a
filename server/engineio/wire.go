package engineio

import (
	"sync/atomic"

	"github.com/lesismal/nbio"
)

// wire is the writing end of a connection on the poller. nbio writes
// what the kernel takes at once and copies the rest, writing it as the
// kernel takes more; that copy is the only memory a client that does
// not read holds in nbio, and it counts in the server's queued total
// (Server.queued) until it is written or the connection closes.
//
// Writers of one connection are serialized by its owner (a session's
// lock, an HTTP connection's); nbio calls wrote under the connection's
// own lock, which settle takes too.
type wire struct {
	nc      *nbio.Conn
	srv     *Server
	handed  atomic.Int64 // bytes handed to nbio
	written atomic.Int64 // bytes nbio wrote to the socket
	// copied is nbio's copy as counted in the total (under nc's lock);
	// gone is set once the connection closed and its count was returned.
	copied int64
	gone   bool
	// drained, when set, runs when nbio's copy is all written (under
	// nc's lock: it must not write).
	drained func()
}

// backlog is what nbio has been handed and not written yet.
func (w *wire) backlog() int64 { return w.handed.Load() - w.written.Load() }

// write hands b to nbio; false if nbio refused it (the connection is
// closed or failing: its close follows).
func (w *wire) write(b []byte) bool {
	w.handed.Add(int64(len(b)))
	if _, err := w.nc.Write(b); err != nil {
		return false
	}
	if w.backlog() != 0 {
		w.settle()
	}
	return true
}

// settle counts what nbio kept of the last write. nbio's writes since
// then (wrote) found the bytes uncounted and took nothing off; the count
// is made after them, of what is left.
func (w *wire) settle() {
	w.nc.Lock()
	if closed, _ := w.nc.IsClosed(); !closed && !w.gone {
		kept := w.backlog()
		w.srv.queued.Add(kept - w.copied)
		w.copied = kept
	}
	w.nc.Unlock()
}

// wrote counts n bytes nbio wrote (nbio holds nc's lock).
func (w *wire) wrote(n int) {
	w.written.Add(int64(n))
	if w.copied > 0 {
		d := min(w.copied, int64(n))
		w.copied -= d
		w.srv.queued.Add(-d)
	}
	if w.drained != nil && w.backlog() == 0 {
		w.drained()
	}
}

// release returns the count of a closed connection's copy (nbio has
// dropped it).
func (w *wire) release() {
	w.nc.Lock()
	if !w.gone {
		w.gone = true
		w.srv.queued.Add(-w.copied)
		w.copied = 0
	}
	w.nc.Unlock()
}
