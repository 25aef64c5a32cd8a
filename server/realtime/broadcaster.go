package realtime

import (
	"log/slog"
	"sync"
)

// event is one queued broadcast.
type event struct {
	name    string
	payload any
}

// Broadcaster implements handlers.Broadcaster on a Socket.IO server. An
// emit to thousands of sockets takes hundreds of milliseconds, so HTTP
// handlers only queue the event and one goroutine emits, in order, which
// keeps create/update/delete events in the order they were stored.
//
// The queue is bounded. When it is full, Broadcast waits for room: the
// change is already stored and must be announced, so the requests that
// make changes slow down to the pace of the emits instead of the queue
// growing without bound (or events being dropped).
type Broadcaster struct {
	emit func(name string, payload any) // to every socket of "/"
	log  *slog.Logger

	// mu guards closing queue: senders hold it shared, close exclusively.
	mu     sync.RWMutex
	closed bool
	queue  chan event
	done   chan struct{} // closed when the emitting goroutine has exited
}

// NewBroadcaster starts the goroutine that calls emit for each queued
// event; size bounds the queue. Close stops it.
func NewBroadcaster(emit func(name string, payload any), log *slog.Logger, size int) *Broadcaster {
	if size <= 0 {
		panic("realtime: the broadcast queue needs a positive size")
	}
	b := &Broadcaster{emit: emit, log: log, queue: make(chan event, size), done: make(chan struct{})}
	go b.run()
	return b
}

// Broadcast queues an event for every connected socket of namespace "/",
// waiting for room if the queue is full. After Close it is dropped: the
// sockets are gone anyway.
func (b *Broadcaster) Broadcast(name string, payload any) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		b.log.Warn("broadcast after shutdown dropped", "event", name)
		return
	}
	select {
	case b.queue <- event{name, payload}:
	default:
		b.log.Warn("broadcast queue full: the request waits for room", "event", name, "queued", cap(b.queue))
		b.queue <- event{name, payload} // run always drains, so room comes
	}
}

func (b *Broadcaster) run() {
	defer close(b.done)
	for ev := range b.queue {
		b.emit(ev.name, ev.payload)
	}
}

// Close stops taking events, emits those already queued, and waits for
// that to finish, so a post stored just before shutdown is still announced.
func (b *Broadcaster) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.done
}
