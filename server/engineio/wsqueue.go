package engineio

import "time"

// A WebSocket's queue (websocket.go): what waits for the client, as
// references to frames, handed to nbio a batch at a time; its bounds,
// its write deadline and its close.

// refillBatch is how much of a connection's queue is handed to nbio at
// once (at least one frame): what nbio may copy of a client that stopped
// reading.
const refillBatch = 32 << 10

// queuedFrame is a frame waiting in a queue: a broadcast's (m set,
// shared by every queue holding it) or this connection's own.
type queuedFrame struct {
	b []byte
	m *Message
}

// send queues a frame (under c.mu): written at once when nothing waits
// before it, else queued. false when the connection would hold more than
// MaxQueued: the caller drops it.
func (t *wsConn) send(frame []byte, m *Message) bool {
	if t.closed.Load() || t.closing.Load() {
		return true // nothing goes after the close frame
	}
	s := t.c.srv
	n := int64(len(frame))
	if t.queueBytes+t.w.backlog()+n > s.opts.MaxQueued {
		return false
	}
	t.enq += n
	if t.head == len(t.queue) && t.w.backlog() == 0 {
		t.w.write(frame)
	} else {
		t.queue = append(t.queue, queuedFrame{frame, m})
		t.queueBytes += n
		s.holdQueued(m, n)
		t.hasQueue.Store(true)
		if t.w.backlog() == 0 { // nbio emptied meanwhile: drained may have found no queue
			t.refill()
		}
	}
	if !t.watching && t.w.written.Load() < t.enq {
		t.watch(t.enq, time.Now())
	}
	return true
}

// drained: nbio wrote all it had (it holds nc's lock: the refill, or the
// close of a closing connection, runs on the server's worker).
func (t *wsConn) drained() {
	switch {
	case t.hasQueue.Load():
		t.c.srv.work.add(t.refillNow)
	case t.closing.Load():
		t.c.srv.work.add(t.closeWhenWritten)
	}
}

// refillNow refills from the server's worker.
func (t *wsConn) refillNow() {
	t.c.mu.Lock()
	t.refill()
	t.c.mu.Unlock()
}

// refill hands nbio the next batch of the queue, if nbio has written
// all it had (under c.mu). A batch of one frame is the frame itself;
// more are copied into one buffer of the server's (nbio keeps no
// reference to what it is handed).
func (t *wsConn) refill() {
	if t.head == len(t.queue) || t.w.backlog() != 0 || t.closed.Load() {
		return
	}
	s := t.c.srv
	end, size := t.head, 0
	for end < len(t.queue) && (end == t.head || size+len(t.queue[end].b) <= refillBatch) {
		size += len(t.queue[end].b)
		end++
	}
	if end == t.head+1 {
		t.w.write(t.queue[t.head].b)
	} else {
		bp := s.batches.Get().(*[]byte)
		batch := (*bp)[:0]
		for _, f := range t.queue[t.head:end] {
			batch = append(batch, f.b...)
		}
		t.w.write(batch)
		*bp = batch
		s.batches.Put(bp)
	}
	for i := t.head; i < end; i++ {
		f := t.queue[i]
		t.queueBytes -= int64(len(f.b))
		s.releaseQueued(f.m, int64(len(f.b)))
		t.queue[i] = queuedFrame{}
	}
	t.head = end
	t.compact()
}

// compact drops the written part of the queue (under c.mu).
func (t *wsConn) compact() {
	switch {
	case t.head == len(t.queue):
		clear(t.queue)
		t.queue, t.head = t.queue[:0], 0
		t.hasQueue.Store(false)
		if cap(t.queue) > 64 {
			t.queue = nil
		}
	case t.head > len(t.queue)/2:
		n := copy(t.queue, t.queue[t.head:])
		clear(t.queue[n:])
		t.queue, t.head = t.queue[:n], 0
	}
}

// dropQueue forgets what waits in the queue (under c.mu).
func (t *wsConn) dropQueue() {
	for _, f := range t.queue[t.head:] {
		t.c.srv.releaseQueued(f.m, int64(len(f.b)))
	}
	t.queue, t.head, t.queueBytes = nil, 0, 0
	t.hasQueue.Store(false)
}

// held is what the connection holds for its client: its queue and
// nbio's copy (under c.mu).
func (t *wsConn) held() int64 { return t.queueBytes + t.w.backlog() }

// watch arms the write deadline for what is owed up to mark (under c.mu).
func (t *wsConn) watch(mark int64, now time.Time) {
	t.mark, t.watching = mark, true
	t.c.srv.sched.arm(&t.wd, writeDue, now.Add(t.c.srv.opts.WriteTimeout))
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
	if t.w.written.Load() >= t.mark { // what was owed went out
		if t.w.written.Load() < t.enq {
			t.watch(t.enq, now)
		}
		c.mu.Unlock()
		return
	}
	active := c.ws == t && !t.closing.Load()
	c.mu.Unlock()
	if active {
		c.dropSlow(SlowTimeout)
	}
	t.shut()
}

// close ends the connection (under c.mu): at once, or after what is
// queued and a close frame. A close already under way (a close frame
// queued) goes on.
func (t *wsConn) close(flush bool) {
	switch {
	case t.closing.Load():
	case !flush || t.w.nc == nil:
		t.shutLocked()
	default:
		t.closeWith(t.c.srv.frames.close)
	}
}

// closeWith queues a close frame and closes the connection once it is
// written (under c.mu), within the write deadline.
func (t *wsConn) closeWith(frame []byte) {
	if t.closing.Load() || t.closed.Load() {
		return
	}
	ok := t.send(frame, nil)
	t.closing.Store(true)
	if !ok {
		t.shutLocked()
		return
	}
	t.c.srv.work.add(t.closeWhenWritten)
}

// closeWhenWritten closes a closing connection once everything queued is
// written; else drained calls it again when nbio has written more (the
// write deadline bounds the wait).
func (t *wsConn) closeWhenWritten() {
	c := t.c
	c.mu.Lock()
	t.refill()
	done := t.head == len(t.queue) && t.w.backlog() == 0
	if done {
		t.shutLocked()
	}
	c.mu.Unlock()
}

// shut closes the connection now.
func (t *wsConn) shut() {
	t.c.mu.Lock()
	t.shutLocked()
	t.c.mu.Unlock()
}

func (t *wsConn) shutLocked() {
	t.closed.Store(true)
	t.c.srv.sched.disarm(&t.wd)
	t.dropQueue()
	if t.w.nc != nil {
		_ = t.w.nc.Close()
	}
}
