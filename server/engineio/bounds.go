package engineio

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"
)

// What the server holds for clients that have not taken it yet is
// bounded twice. Per connection (Options.MaxQueued): a WebSocket's queue
// with nbio's copy, a polling session's buffer between two GETs; past it
// the client is dropped at once. In all (Options.MaxQueuedTotal):
// Server.queued counts the memory every queue, buffer and nbio copy
// holds, a broadcast's shared message once however many queues hold it;
// past it the sessions (and poller HTTP connections) holding the most
// are dropped until the total is back under seven eighths of the bound.

// SlowCause is why the server dropped a client that did not take what
// was sent to it (Observer.Closed), or SlowNone.
type SlowCause uint8

const (
	SlowNone SlowCause = iota
	// SlowConnection: its queue passed Options.MaxQueued.
	SlowConnection
	// SlowTotal: the server's total passed Options.MaxQueuedTotal and it
	// was among those holding the most.
	SlowTotal
	// SlowTimeout: bytes waited for it Options.WriteTimeout.
	SlowTimeout
)

// holdQueued counts n bytes queued for a client: a message's memory
// once, however many queues hold it, or n bytes of the client's own.
func (s *Server) holdQueued(m *Message, n int64) {
	if m == nil {
		s.queued.Add(n)
		return
	}
	m.mu.Lock()
	if m.refs++; m.refs == 1 {
		s.queued.Add(m.mem())
	}
	m.mu.Unlock()
}

// releaseQueued takes back what holdQueued counted.
func (s *Server) releaseQueued(m *Message, n int64) {
	if m == nil {
		s.queued.Add(-n)
		return
	}
	m.mu.Lock()
	if m.refs--; m.refs == 0 {
		s.queued.Add(-m.mem())
	}
	m.mu.Unlock()
}

// holdZipped adds a compressed answer of n bytes to m's memory, counted
// now if a queue holds m, else when one takes it.
func (s *Server) holdZipped(m *Message, n int64) {
	m.mu.Lock()
	m.zipMem += n
	if m.refs > 0 {
		s.queued.Add(n)
	}
	m.mu.Unlock()
}

// QueuedBytes is the memory held now for clients that have not taken it.
func (s *Server) QueuedBytes() int64 { return s.queued.Load() }

// checkTotal drops the heaviest clients when the total is past its bound
// (called after a write, outside any session's lock).
func (s *Server) checkTotal() {
	if s.queued.Load() > s.opts.MaxQueuedTotal {
		s.evict()
	}
}

// evict drops the sessions and HTTP connections holding the most until
// the total is back under 7/8 of its bound. One eviction runs at a time;
// writes meanwhile go on.
func (s *Server) evict() {
	if !s.evicting.CompareAndSwap(false, true) {
		return
	}
	defer s.evicting.Store(false)
	type holder struct {
		held   int64 // all it holds
		copied int64 // of which nbio's copy
		drop   func()
	}
	var hs []holder
	for _, c := range s.sessions() {
		c.mu.Lock()
		n := c.heldLocked()
		var copied int64
		if c.ws != nil {
			copied = c.ws.w.backlog()
		}
		c.mu.Unlock()
		if n > 0 {
			hs = append(hs, holder{n, copied, func() { c.dropSlow(SlowTotal) }})
		}
	}
	s.httpConns.Range(func(k, _ any) bool {
		h := k.(*httpConn)
		if n := h.w.backlog(); n > 0 {
			hs = append(hs, holder{n, n, h.dropSlow})
		}
		return true
	})
	slices.SortFunc(hs, func(a, b holder) int { return cmp.Compare(b.held, a.held) })
	target := s.opts.MaxQueuedTotal / 8 * 7
	// A dropped connection's queue is given back at once (shared frames
	// only once no queue holds them); nbio gives its copy back after the
	// close: what is on its way back is counted off.
	var returning int64
	for _, h := range hs {
		if s.queued.Load()-returning <= target {
			break
		}
		h.drop()
		returning += h.copied
	}
}

// logDrop logs a dropped client, at most one line a second (a flood of
// slow clients must not flood the log): the line counts the drops since
// the last one. The metrics count every drop.
func (s *Server) logDrop(sid string, cause SlowCause) {
	now := time.Now().Unix()
	if last := s.dropLogged.Load(); now > last && s.dropLogged.CompareAndSwap(last, now) {
		s.log.Warn("Engine.IO client dropped: it does not take what is sent", "sid", sid, "cause", cause.String(),
			"unlogged_before", s.dropsUnlogged.Swap(0))
		return
	}
	s.dropsUnlogged.Add(1)
}

// sessions is a copy of the open sessions.
func (s *Server) sessions() []*Socket {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Collect(maps.Values(s.clients))
}

// worker runs, on one goroutine per server, what must not run where it
// is found: a queue refill that nbio asks for under a connection's lock,
// an HTTP connection resuming after a held request.
type worker struct {
	loop
	mu    sync.Mutex
	jobs  []func()
	spare []func()
}

func newWorker() *worker { return &worker{loop: newLoop()} }

// add queues job.
func (w *worker) add(job func()) {
	w.mu.Lock()
	w.jobs = append(w.jobs, job)
	w.mu.Unlock()
	wake(w.wake)
}

// run runs jobs until close.
func (w *worker) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		jobs := w.jobs
		w.jobs, w.spare = w.spare[:0], nil
		w.mu.Unlock()
		for i, job := range jobs {
			job()
			jobs[i] = nil
		}
		w.mu.Lock()
		if w.spare == nil {
			w.spare = jobs[:0]
		}
		idle := len(w.jobs) == 0
		w.mu.Unlock()
		if !idle {
			continue
		}
		select {
		case <-w.wake:
		case <-w.stop:
			return
		}
	}
}

// String names the cause as the metrics do.
func (c SlowCause) String() string {
	switch c {
	case SlowConnection:
		return "connection"
	case SlowTotal:
		return "total"
	case SlowTimeout:
		return "timeout"
	}
	return "none"
}
