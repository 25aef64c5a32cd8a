package engineio

import "time"

// A session's packet queue: what its client sent (a POST's packets, a
// WebSocket's messages) runs in order on a goroutine of the session's
// own while there is any (the server waits for them at Close), never on
// the poller's goroutine, which only reads. A WebSocket stops reading while
// the queue holds more than MaxPayload (the kernel keeps the rest and TCP
// slows the client); a POST is answered once its packets have run.

// queuedJob is a job of the packet queue and the bytes it carries.
type queuedJob struct {
	size int64
	fn   func()
}

// exec runs fn on the session's packet queue: after the jobs queued
// before it, on the queue's goroutine, never on the poller's.
func (c *Socket) exec(size int, fn func()) {
	c.inBytes.Add(int64(size))
	c.imu.Lock()
	c.inbox = append(c.inbox, queuedJob{int64(size), fn})
	start := !c.draining
	c.draining = true
	c.imu.Unlock()
	if start {
		c.srv.inboxes.Go(c.drainInbox)
	}
}

// drainInbox runs the queued jobs until none is left.
func (c *Socket) drainInbox() {
	for {
		c.imu.Lock()
		if c.inHead == len(c.inbox) {
			clear(c.inbox)
			c.inbox, c.inHead, c.draining = c.inbox[:0], 0, false
			c.imu.Unlock()
			return
		}
		job := c.inbox[c.inHead]
		c.inbox[c.inHead] = queuedJob{}
		c.inHead++
		c.imu.Unlock()
		job.fn()
		if c.inBytes.Add(-job.size) <= c.srv.opts.MaxPayload {
			if t := c.paused.Swap(nil); t != nil {
				t.resume()
			}
		}
	}
}

// inboundFull: the packet queue holds more than MaxPayload; the
// WebSocket stops reading until it has run down.
func (c *Socket) inboundFull() bool { return c.inBytes.Load() > c.srv.opts.MaxPayload }

// waitInboxes waits, at most WriteTimeout, for the packets sessions were
// running when the server closed.
func (s *Server) waitInboxes() {
	done := make(chan struct{})
	go func() { s.inboxes.Wait(); close(done) }()
	t := time.NewTimer(s.opts.WriteTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Warn("Engine.IO: packets still being handled at close", "waited", s.opts.WriteTimeout)
	}
}
