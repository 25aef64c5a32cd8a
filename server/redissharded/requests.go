package redissharded

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// errClosed answers requests still waiting when the adapter closes.
var errClosed = errors.New("redis sharded adapter closed")

// pending is a request of ours waiting for the other servers' answers:
// as many as PUBSUB SHARDNUMSUB counted other subscribers of the namespace's
// channel (Node's serverCount() - 1), or until the timeout.
type pending struct {
	want int
	done chan struct{} // closed by finish
	once sync.Once

	mu        sync.Mutex
	got       int
	sockets   []socket.SocketDetails // fetchSockets
	responses []any                  // serverSideEmit
}

func (p *pending) finish() { p.once.Do(func() { close(p.done) }) }

// answered counts one answer, and reports whether it was the last one.
func (p *pending) answered() bool {
	p.got++
	return p.got >= p.want
}

// ackRequest is a broadcast of ours whose remote acks are forwarded.
type ackRequest struct {
	clientCount func(uint64)
	ack         socket.Ack
}

// serverCount is the number of servers subscribed to the namespace's
// channel, this one included.
func (a *Adapter) serverCount() (int64, error) {
	return redisbase.ShardSubscribers(a.c.rdb, a.channel, a.c.opts.CommandTimeout)
}

// ask publishes a request and waits for its answers; it returns what
// arrived, with an error if not all of it did within timeout.
func (a *Adapter) ask(typ messageType, id string, data *nodewire.Object, want int, timeout time.Duration) (*pending, error) {
	p := &pending{want: want, done: make(chan struct{})}
	a.requests.Store(id, p)
	defer a.requests.Delete(id)
	if !a.publish(typ, data) {
		return p, errors.New("request not published")
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		a.c.opts.Observer.RequestDone(want, want, false)
		return p, nil
	case <-t.C:
		p.mu.Lock()
		got := p.got
		p.mu.Unlock()
		a.c.opts.Observer.RequestDone(got, want, true)
		return p, fmt.Errorf("timeout reached: only %d responses received out of %d", got, want)
	case <-a.closed:
		return p, errClosed
	}
}

// FetchSockets returns the matching sockets of every server: the local
// ones, then those the others send within the timeout (the Timeout flag,
// else RequestsTimeout). On a timeout or with Redis down the callback
// gets what arrived and an error.
func (a *Adapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return redisbase.FetchAcross(a.Adapter, opts, a.serverCount, func(n int64) ([]socket.SocketDetails, error) {
		timeout := a.c.opts.RequestsTimeout
		if opts != nil && opts.Flags != nil && opts.Flags.Timeout != nil && *opts.Flags.Timeout > 0 {
			timeout = *opts.Flags.Timeout
		}
		id := randomID()
		p, err := a.ask(typeFetchSockets, id, nodewire.Obj("opts", nodewire.OptsObject(opts), "requestId", id), int(n-1), timeout)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.sockets, err
	})
}

// ServerSideEmit sends [event, args...] to the other servers' namespace
// listeners. With a socket.Ack as last element, it returns at once and
// calls the ack with one answer per other server (an error if some did
// not answer within RequestsTimeout).
func (a *Adapter) ServerSideEmit(packet []any) error {
	if args, ack, ok := redisbase.SplitAck(packet); ok {
		ask := func(n int64) ([]any, error) {
			id := randomID()
			p, err := a.ask(typeServerSideEmit, id, nodewire.Obj("requestId", id, "packet", args), int(n-1), a.c.opts.RequestsTimeout)
			p.mu.Lock()
			defer p.mu.Unlock()
			return append([]any{}, p.responses...), err
		}
		a.callbacks.Go(func() { redisbase.EmitAcross(a.serverCount, ask, ack) })
		return nil
	}
	if !a.publish(typeServerSideEmit, nodewire.Obj("packet", packet)) {
		return errors.New("serverSideEmit: not published")
	}
	return nil
}

// answerFetch answers another server's fetchSockets with the matching
// local sockets.
func (a *Adapter) answerFetch(m *message) {
	id := m.requestID()
	a.Adapter.FetchSockets(m.opts())(func(sockets []socket.SocketDetails, _ error) {
		out := make([]any, 0, len(sockets))
		for _, s := range sockets {
			out = append(out, nodewire.SocketOf(s))
		}
		a.respond(m.uid, typeFetchSocketsResponse, nodewire.Obj("requestId", id, "sockets", out))
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
			a.respond(m.uid, typeServerSideEmitResponse, nodewire.Obj("requestId", id, "packet", arg))
		})
	})
	a.nsp.OnServerSideEmit(append(args, ack))
}

// onResponse files an answer to one of our requests. Callbacks into
// application code run on their own goroutine (a.callbacks).
func (a *Adapter) onResponse(m *message) {
	id := m.requestID()
	if id == "" {
		return
	}
	if v, ok := a.acks.Load(id); ok {
		ar := v.(*ackRequest)
		switch m.typ {
		case typeBroadcastClientCount:
			if n, ok := m.data["clientCount"].(float64); ok && n >= 0 {
				a.callbacks.Go(func() { ar.clientCount(uint64(n)) })
			}
		case typeBroadcastAck:
			a.callbacks.Go(func() { ar.ack([]any{m.data["packet"]}, nil) })
		}
		return
	}
	v, ok := a.requests.Load(id)
	if !ok {
		return
	}
	p := v.(*pending)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch m.typ {
	case typeFetchSocketsResponse:
		items, _ := m.data["sockets"].([]any)
		for _, it := range items {
			raw, err := nodewire.MarshalJSON(it)
			if err != nil {
				continue
			}
			if s := nodewire.RemoteSocket(raw); s != nil {
				p.sockets = append(p.sockets, s)
			}
		}
	case typeServerSideEmitResponse:
		p.responses = append(p.responses, m.data["packet"])
	default:
		return
	}
	if p.answered() {
		p.finish()
	}
}

// ServerCount is the number of servers of the namespace, this one
// included (PUBSUB SHARDNUMSUB of its channel); 1 if Redis does not answer.
func (a *Adapter) ServerCount() int64 {
	n, err := a.serverCount()
	if err != nil || n < 1 {
		return 1
	}
	return n
}
