package server

import (
	"log/slog"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// newSocketIO builds the Socket.IO server with Node's defaults and the
// features a socket.io-client app of any version 2 to 4 expects.
func newSocketIO(policy corsPolicy, recovery bool) *socket.Server {
	opts := socket.DefaultServerOptions()
	opts.SetPingInterval(PingInterval)
	opts.SetPingTimeout(PingTimeout)
	opts.SetMaxHttpBufferSize(MaxHTTPBufferSize)
	// WebTransport needs HTTP/3, which this server does not listen on.
	opts.SetTransports(types.NewSet(socket.Polling, socket.WebSocket))
	opts.SetAllowUpgrades(true)
	opts.SetAllowEIO3(true) // socket.io-client 2.x
	opts.SetServeClient(false)
	opts.SetCors(policy.socketIO())
	if recovery {
		csr := &socket.ConnectionStateRecovery{}
		csr.SetMaxDisconnectionDuration(int64((2 * time.Minute) / time.Millisecond))
		csr.SetSkipMiddlewares(true)
		opts.SetConnectionStateRecovery(csr)
	}
	return socket.NewServer(nil, opts)
}

// event is one queued broadcast.
type event struct {
	name    string
	payload any
}

// broadcaster implements handlers.Broadcaster on a Socket.IO server. An
// emit to thousands of sockets takes hundreds of milliseconds, so HTTP
// handlers only append to an unbounded queue and one goroutine emits, in
// order, which keeps create/update/delete events in the order they were
// stored.
type broadcaster struct {
	io  *socket.Server
	log *slog.Logger

	mu     sync.Mutex
	queue  []event
	closed bool
	wake   chan struct{} // capacity 1: "there is work"
	done   chan struct{} // closed when the emitting goroutine has exited
}

func newBroadcaster(io *socket.Server, log *slog.Logger) *broadcaster {
	b := &broadcaster{io: io, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go b.run()
	return b
}

// Broadcast queues an event for every connected socket of namespace "/".
// After close it is dropped: the sockets are gone anyway.
func (b *broadcaster) Broadcast(name string, payload any) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.log.Warn("broadcast after shutdown dropped", "event", name)
		return
	}
	b.queue = append(b.queue, event{name, payload})
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default: // already signalled
	}
}

func (b *broadcaster) run() {
	defer close(b.done)
	for range b.wake {
		for {
			b.mu.Lock()
			batch := b.queue
			b.queue = nil
			closed := b.closed
			b.mu.Unlock()
			for _, ev := range batch {
				b.io.Emit(ev.name, ev.payload)
			}
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
		}
	}
}

// close stops taking events, emits those already queued, and waits for
// that to finish, so a post stored just before shutdown is still announced.
func (b *broadcaster) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		return
	}
	b.closed = true
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	case <-b.done: // it saw closed on its own
	}
	<-b.done
}
