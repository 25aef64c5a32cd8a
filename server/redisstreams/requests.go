package redisstreams

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisadapter"
)

// errClosed answers requests still waiting when the adapter closes.
var errClosed = errors.New("redis streams adapter closed")

// pending is a request of ours waiting for the other servers' answers:
// as many as PUBSUB NUMSUB counted other subscribers of the namespace's
// channel (Node's serverCount() - 1), or until the timeout.
type pending struct {
	want   int
	got    int
	done   chan struct{}
	closed bool

	sockets   []socket.SocketDetails // fetchSockets
	responses []any                  // serverSideEmit
}

// ackRequest is a broadcast of ours whose remote acks are forwarded.
type ackRequest struct {
	clientCount func(uint64)
	ack         socket.Ack
}

// serverCount is the number of servers subscribed to the namespace's
// channel, this one included.
func (a *Adapter) serverCount() (int, error) {
	ctx, cancel := a.c.commandContext()
	defer cancel()
	res, err := a.c.rdb.PubSubNumSub(ctx, a.publicChannel).Result()
	if err != nil {
		return 0, err
	}
	return int(res[a.publicChannel]), nil
}

// ask publishes a request and waits for its answers; it returns what
// arrived, with an error if not all of it did within timeout.
func (a *Adapter) ask(typ messageType, id string, data *redisadapter.Object, want int, timeout time.Duration) (*pending, error) {
	p := &pending{want: want, done: make(chan struct{})}
	a.mu.Lock()
	a.requests[id] = p
	a.mu.Unlock()
	if !a.publish(typ, data) {
		a.forget(id)
		return p, errors.New("request not published")
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		a.c.opts.Observer.RequestDone(want, want, false)
		return p, nil
	case <-t.C:
		a.forget(id)
		a.mu.Lock()
		got := p.got
		a.mu.Unlock()
		a.c.opts.Observer.RequestDone(got, want, true)
		return p, fmt.Errorf("timeout reached: only %d responses received out of %d", got, want)
	case <-a.closed:
		return p, errClosed
	}
}

func (a *Adapter) forget(id string) {
	a.mu.Lock()
	delete(a.requests, id)
	a.mu.Unlock()
}

// failPending releases every waiter at close.
func (a *Adapter) failPending() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, p := range a.requests {
		delete(a.requests, id)
		if !p.closed {
			p.closed = true
			close(p.done)
		}
	}
}

// FetchSockets returns the matching sockets of every server: the local
// ones, then those the others send within the timeout (the Timeout flag,
// else RequestsTimeout). On a timeout or with Redis down the callback
// gets what arrived and an error.
func (a *Adapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return func(cb func([]socket.SocketDetails, error)) {
		a.Adapter.FetchSockets(opts)(func(local []socket.SocketDetails, err error) {
			if err != nil || isLocal(opts) {
				cb(local, err)
				return
			}
			n, err := a.serverCount()
			if err != nil || n <= 1 {
				cb(local, err)
				return
			}
			timeout := a.c.opts.RequestsTimeout
			if opts != nil && opts.Flags != nil && opts.Flags.Timeout != nil && *opts.Flags.Timeout > 0 {
				timeout = *opts.Flags.Timeout
			}
			id := randomID()
			p, err := a.ask(typeFetchSockets, id, object("opts", optsObject(opts), "requestId", id), n-1, timeout)
			a.mu.Lock()
			remote := p.sockets
			a.mu.Unlock()
			cb(append(local, remote...), err)
		})
	}
}

// ServerSideEmit sends [event, args...] to the other servers' namespace
// listeners. With a socket.Ack as last element, it returns at once and
// calls the ack with one answer per other server (an error if some did
// not answer within RequestsTimeout).
func (a *Adapter) ServerSideEmit(packet []any) error {
	if n := len(packet); n > 0 {
		if ack, ok := packet[n-1].(func([]any, error)); ok {
			go a.serverSideEmitWithAck(packet[:n-1], ack)
			return nil
		}
	}
	if !a.publish(typeServerSideEmit, object("packet", packet)) {
		return errors.New("serverSideEmit: not published")
	}
	return nil
}

func (a *Adapter) serverSideEmitWithAck(packet []any, ack socket.Ack) {
	n, err := a.serverCount()
	if err != nil {
		ack(nil, fmt.Errorf("serverSideEmit: %w", err))
		return
	}
	if n <= 1 {
		ack([]any{}, nil)
		return
	}
	id := randomID()
	p, err := a.ask(typeServerSideEmit, id, object("requestId", id, "packet", packet), n-1, a.c.opts.RequestsTimeout)
	a.mu.Lock()
	responses := append([]any{}, p.responses...)
	a.mu.Unlock()
	ack(responses, err)
}

// answerFetch answers another server's fetchSockets with the matching
// local sockets.
func (a *Adapter) answerFetch(m *message) {
	id := m.requestID()
	a.Adapter.FetchSockets(m.opts())(func(sockets []socket.SocketDetails, _ error) {
		out := make([]any, 0, len(sockets))
		for _, s := range sockets {
			out = append(out, redisadapter.SocketOf(s))
		}
		a.respond(m.uid, typeFetchSocketsResponse, object("requestId", id, "sockets", out))
	})
}

// onServerSideEmit hands another server's serverSideEmit to the
// namespace's listeners, with an acknowledgement that answers once when
// the sender wants one.
func (a *Adapter) onServerSideEmit(m *message) {
	args, _ := m.data["packet"].([]any)
	if len(args) == 0 {
		return
	}
	id := m.requestID()
	if id == "" {
		a.nsp.OnServerSideEmit(args)
		return
	}
	var once sync.Once
	ack := socket.Ack(func(res []any, _ error) {
		once.Do(func() {
			var arg any
			if len(res) > 0 {
				arg = res[0]
			}
			a.respond(m.uid, typeServerSideEmitResponse, object("requestId", id, "packet", arg))
		})
	})
	a.nsp.OnServerSideEmit(append(args, ack))
}

// onResponse files an answer to one of our requests. Callbacks into
// application code run on their own goroutine.
func (a *Adapter) onResponse(m *message) {
	id := m.requestID()
	if id == "" {
		return
	}
	a.mu.Lock()
	if ar, ok := a.acks[id]; ok {
		a.mu.Unlock()
		switch m.typ {
		case typeBroadcastClientCount:
			if n, ok := m.data["clientCount"].(float64); ok && n >= 0 {
				go ar.clientCount(uint64(n))
			}
		case typeBroadcastAck:
			go ar.ack([]any{m.data["packet"]}, nil)
		}
		return
	}
	defer a.mu.Unlock()
	p, ok := a.requests[id]
	if !ok || p.closed {
		return
	}
	switch m.typ {
	case typeFetchSocketsResponse:
		items, _ := m.data["sockets"].([]any)
		for _, it := range items {
			raw, err := redisadapter.MarshalJSON(it)
			if err != nil {
				continue
			}
			if s := redisadapter.RemoteSocket(raw); s != nil {
				p.sockets = append(p.sockets, s)
			}
		}
	case typeServerSideEmitResponse:
		p.responses = append(p.responses, m.data["packet"])
	default:
		return
	}
	p.got++
	if p.got >= p.want {
		delete(a.requests, id)
		p.closed = true
		close(p.done)
	}
}

// ServerCount is the number of servers of the namespace, this one
// included (PUBSUB NUMSUB of its channel); 1 if Redis does not answer.
func (a *Adapter) ServerCount() int64 {
	n, err := a.serverCount()
	if err != nil || n < 1 {
		return 1
	}
	return int64(n)
}
