package redisbase

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
)

// MessageType is a message type of socket.io-adapter's ClusterAdapter,
// the protocol the streams and the sharded adapters speak (Node's
// RedisStreamsAdapter and ShardedRedisAdapter both extend it; 1, 2 and 13
// are ClusterAdapterWithHeartbeat's heartbeats, which neither uses).
type MessageType int

// The types, with socket.io-adapter's numbers.
const (
	TypeBroadcast MessageType = iota + 3
	TypeSocketsJoin
	TypeSocketsLeave
	TypeDisconnectSockets
	TypeFetchSockets
	TypeFetchSocketsResponse
	TypeServerSideEmit
	TypeServerSideEmitResponse
	TypeBroadcastClientCount
	TypeBroadcastAck
)

// ClusterRequests is the request-and-answer half of ClusterAdapter,
// shared by the streams and the sharded adapters: fetchSockets and
// serverSideEmit across the servers, the answers to the other servers'
// requests, and the acknowledgements of broadcasts. The adapter sets the
// exported fields (its transport) before the first message, and routes
// requests and answers for it here.
type ClusterRequests struct {
	Local     socket.Adapter   // the adapter's local part: this server's sockets
	Nsp       socket.Namespace // where serverSideEmit's listeners are
	Publish   func(typ MessageType, data *nodewire.Object) bool
	Respond   func(to string, typ MessageType, data *nodewire.Object) // to another server's uid
	Tell      func(typ MessageType, data *nodewire.Object)            // what gets no answer (rooms, disconnects)
	Count     func() (int64, error)                                   // the servers of the namespace, this one included
	Timeout   time.Duration                                           // RequestsTimeout
	Observer  Observer
	Closed    <-chan struct{} // closed when the adapter closes: requests still waiting end with ErrClosed
	ErrClosed error

	// Callbacks runs the application's acknowledgements; the adapter's
	// Close waits for them.
	Callbacks Callbacks

	requests sync.Map // request id → *pendingRequest: requests of ours awaiting answers
	acks     sync.Map // request id → *ackRequest: broadcasts of ours awaiting acks
}

// pendingRequest is a request of ours waiting for the other servers'
// answers: as many as Count counted other servers (Node's serverCount() -
// 1), or until the timeout.
type pendingRequest struct {
	want int
	done chan struct{} // closed by finish
	once sync.Once

	mu        sync.Mutex
	got       int
	sockets   []socket.SocketDetails // fetchSockets
	responses []any                  // serverSideEmit
}

func (p *pendingRequest) finish() { p.once.Do(func() { close(p.done) }) }

// answered counts one answer, and reports whether it was the last one.
func (p *pendingRequest) answered() bool {
	p.got++
	return p.got >= p.want
}

// ackRequest is a broadcast of ours whose remote acks are forwarded.
type ackRequest struct {
	clientCount func(uint64)
	ack         socket.Ack
}

// ask publishes a request and waits for its answers; it returns what
// arrived, with an error if not all of it did within timeout.
func (r *ClusterRequests) ask(typ MessageType, id string, data *nodewire.Object, want int, timeout time.Duration) (*pendingRequest, error) {
	p := &pendingRequest{want: want, done: make(chan struct{})}
	r.requests.Store(id, p)
	defer r.requests.Delete(id)
	if !r.Publish(typ, data) {
		return p, errors.New("request not published")
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		r.Observer.RequestDone(want, want, false)
		return p, nil
	case <-t.C:
		p.mu.Lock()
		got := p.got
		p.mu.Unlock()
		r.Observer.RequestDone(got, want, true)
		return p, fmt.Errorf("timeout reached: only %d responses received out of %d", got, want)
	case <-r.Closed:
		return p, r.ErrClosed
	}
}

// FetchSockets returns the matching sockets of every server: the local
// ones, then those the others send within the timeout (the Timeout flag,
// else Timeout). On a timeout or with Redis down the callback gets what
// arrived and an error.
func (r *ClusterRequests) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return FetchAcross(r.Local, opts, r.Count, func(n int64) ([]socket.SocketDetails, error) {
		timeout := r.Timeout
		if opts != nil && opts.Flags != nil && opts.Flags.Timeout != nil && *opts.Flags.Timeout > 0 {
			timeout = *opts.Flags.Timeout
		}
		id := RandomID()
		p, err := r.ask(TypeFetchSockets, id, nodewire.Obj("opts", nodewire.OptsObject(opts), "requestId", id), int(n-1), timeout)
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.sockets, err
	})
}

// ServerSideEmit sends [event, args...] to the other servers' namespace
// listeners. With a socket.Ack as last element, it returns at once and
// calls the ack with one answer per other server (an error if some did
// not answer within Timeout).
func (r *ClusterRequests) ServerSideEmit(packet []any) error {
	if args, ack, ok := SplitAck(packet); ok {
		ask := func(n int64) ([]any, error) {
			id := RandomID()
			p, err := r.ask(TypeServerSideEmit, id, nodewire.Obj("requestId", id, "packet", args), int(n-1), r.Timeout)
			p.mu.Lock()
			defer p.mu.Unlock()
			return append([]any{}, p.responses...), err
		}
		r.Callbacks.Go(func() { EmitAcross(r.Count, ask, ack) })
		return nil
	}
	if !r.Publish(TypeServerSideEmit, nodewire.Obj("packet", packet)) {
		return errors.New("serverSideEmit: not published")
	}
	return nil
}

// ServerCount is the number of servers of the namespace, this one
// included; 1 if Redis does not answer.
func (r *ClusterRequests) ServerCount() int64 {
	n, err := r.Count()
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// awaitAcks forwards the acknowledgements the other servers' clients send
// for our broadcast id (a client count per server, then each client's
// answer) to clientCount and ack, for timeout.
func (r *ClusterRequests) awaitAcks(id string, clientCount func(uint64), ack socket.Ack, timeout time.Duration) {
	r.acks.Store(id, &ackRequest{clientCount: clientCount, ack: ack})
	time.AfterFunc(timeout, func() { r.acks.Delete(id) })
}

// AnswerFetch answers another server's (from) fetchSockets request id
// with the local sockets opts matches.
func (r *ClusterRequests) AnswerFetch(from, id string, opts *socket.BroadcastOptions) {
	r.Local.FetchSockets(opts)(func(sockets []socket.SocketDetails, _ error) {
		out := make([]any, 0, len(sockets))
		for _, s := range sockets {
			out = append(out, nodewire.SocketOf(s))
		}
		r.Respond(from, TypeFetchSocketsResponse, nodewire.Obj("requestId", id, "sockets", out))
	})
}

// OnServerSideEmit hands another server's (from) serverSideEmit, data
// holding its packet, to the namespace's listeners, with an
// acknowledgement that answers once when the sender wants one (id set).
func (r *ClusterRequests) OnServerSideEmit(from, id string, data map[string]any) {
	args, _ := data["packet"].([]any)
	if len(args) == 0 {
		return
	}
	if id == "" {
		r.Nsp.OnServerSideEmit(args)
		return
	}
	var once sync.Once
	ack := socket.Ack(func(res []any, _ error) {
		once.Do(func() {
			var arg any
			if len(res) > 0 {
				arg = res[0]
			}
			r.Respond(from, TypeServerSideEmitResponse, nodewire.Obj("requestId", id, "packet", arg))
		})
	})
	r.Nsp.OnServerSideEmit(append(args, ack))
}

// OnResponse files an answer of type typ to one of our requests or
// broadcasts. Callbacks into application code run on their own goroutine
// (Callbacks).
func (r *ClusterRequests) OnResponse(typ MessageType, data map[string]any) {
	id, _ := data["requestId"].(string)
	if id == "" {
		return
	}
	if v, ok := r.acks.Load(id); ok {
		ar := v.(*ackRequest)
		switch typ {
		case TypeBroadcastClientCount:
			if n, ok := data["clientCount"].(float64); ok && n >= 0 {
				r.Callbacks.Go(func() { ar.clientCount(uint64(n)) })
			}
		case TypeBroadcastAck:
			r.Callbacks.Go(func() { ar.ack([]any{data["packet"]}, nil) })
		}
		return
	}
	v, ok := r.requests.Load(id)
	if !ok {
		return
	}
	p := v.(*pendingRequest)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch typ {
	case TypeFetchSocketsResponse:
		items, _ := data["sockets"].([]any)
		for _, it := range items {
			raw, err := nodewire.MarshalJSON(it)
			if err != nil {
				continue
			}
			if s := nodewire.RemoteSocket(raw); s != nil {
				p.sockets = append(p.sockets, s)
			}
		}
	case TypeServerSideEmitResponse:
		p.responses = append(p.responses, data["packet"])
	default:
		return
	}
	if p.answered() {
		p.finish()
	}
}

// RandomID is 16 hex characters, as Node's randomBytes(8).toString("hex"):
// the form of socket.io-adapter's uids and request ids.
func RandomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MayContainBinary reports the types whose data the Node adapters write
// as msgpack when it holds binary (JSON otherwise).
func (t MessageType) MayContainBinary() bool {
	switch t {
	case TypeBroadcast, TypeFetchSocketsResponse, TypeServerSideEmit, TypeServerSideEmitResponse, TypeBroadcastAck:
		return true
	}
	return false
}

// BroadcastWithAck asks the other servers (unless opts has the Local
// flag) to deliver p too and to forward their clients' acknowledgements,
// then delivers it to this server's sockets. Nothing tells when every
// remote client has answered, so the forwarding ends with the
// broadcast's timeout.
func (r *ClusterRequests) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, clientCount func(uint64), ack socket.Ack) {
	if !IsLocal(opts) {
		id := RandomID()
		timeout := r.Timeout
		if opts != nil && opts.Flags != nil && opts.Flags.Timeout != nil {
			timeout = *opts.Flags.Timeout
		}
		r.awaitAcks(id, clientCount, ack, timeout)
		r.Publish(TypeBroadcast, nodewire.Obj("packet", nodewire.PacketObject(p), "requestId", id, "opts", nodewire.OptsObject(opts)))
	}
	r.Local.BroadcastWithAck(p, opts, clientCount, ack)
}

// AddSockets makes the matching sockets of every server join rooms.
func (r *ClusterRequests) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	if !IsLocal(opts) {
		r.Tell(TypeSocketsJoin, nodewire.Obj("opts", nodewire.OptsObject(opts), "rooms", RoomNames(rooms)))
	}
	r.Local.AddSockets(opts, rooms)
}

// DelSockets makes the matching sockets of every server leave rooms.
func (r *ClusterRequests) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	if !IsLocal(opts) {
		r.Tell(TypeSocketsLeave, nodewire.Obj("opts", nodewire.OptsObject(opts), "rooms", RoomNames(rooms)))
	}
	r.Local.DelSockets(opts, rooms)
}

// DisconnectSockets disconnects the matching sockets of every server.
func (r *ClusterRequests) DisconnectSockets(opts *socket.BroadcastOptions, closeConn bool) {
	if !IsLocal(opts) {
		r.Tell(TypeDisconnectSockets, nodewire.Obj("opts", nodewire.OptsObject(opts), "close", closeConn))
	}
	r.Local.DisconnectSockets(opts, closeConn)
}

// IsLocal reports the Local flag (io.Local()): this server only.
func IsLocal(opts *socket.BroadcastOptions) bool {
	return opts != nil && opts.Flags != nil && opts.Flags.Local
}

// RoomNames is rooms as the strings the messages carry.
func RoomNames(rooms []socket.Room) []any {
	out := make([]any, len(rooms))
	for i, r := range rooms {
		out[i] = string(r)
	}
	return out
}
