package redisbase

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
)

// Transport is how an adapter sends the messages of ClusterAdapter's
// protocol (the streams adapter: its stream and channels; the sharded
// one: its sharded channels) and counts the servers.
type Transport struct {
	Publish func(typ MessageType, data *nodewire.Object) bool       // to every server of the namespace; false if not sent
	Respond func(to string, typ MessageType, data *nodewire.Object) // to the server whose uid is to
	Tell    func(typ MessageType, data *nodewire.Object)            // what gets no answer (rooms, disconnects)
	Count   func() (int64, error)                                   // the servers of the namespace, this one included
}

// ClusterRequests is socket.io-adapter's ClusterAdapter less its
// transport, shared by the streams and the sharded adapters, which embed
// it. It embeds the adapter's local part (this server's sockets and
// rooms) and makes what must reach every server do so: fetchSockets,
// serverSideEmit, broadcasts with acknowledgements, room joins and
// leaves, disconnects; and it serves what the other servers send
// (Handle). The adapter's own Broadcast sends a plain broadcast its way.
type ClusterRequests struct {
	socket.Adapter
	// Objects: the server's encoder is nodewire.Parser's, which sends
	// binary held in a *nodewire.Object as attachments (else such
	// objects are delivered as maps; see nodewire.Deliverable).
	Objects bool

	t         Transport
	uid       string
	name      string           // the adapter's, for errors and the log
	nsp       socket.Namespace // where serverSideEmit's listeners are
	opts      Common
	closed    <-chan struct{} // closed when the adapter closes: requests still waiting end
	errClosed error
	callbacks Callbacks // the application's acknowledgements, which the adapter's Close waits for

	requests sync.Map // request id → *pendingRequest: requests of ours awaiting answers
	acks     sync.Map // request id → *ackRequest: broadcasts of ours awaiting acks
}

// NewClusterRequests is the protocol of the adapter named name (in its
// errors and log lines) for nsp, whose local part is local, with the
// adapter's settings opts, its messages sent by t. Requests still waiting
// when closed is closed end with an error.
func NewClusterRequests(name string, local socket.Adapter, nsp socket.Namespace, closed <-chan struct{}, opts Common, t Transport) *ClusterRequests {
	return &ClusterRequests{
		Adapter: local,
		Objects: nodewire.IsObjectEncoder(nsp.Server().Encoder()),
		t:       t,
		uid:     RandomID(),
		name:    name, nsp: nsp, opts: opts,
		closed:    closed,
		errClosed: errors.New(name + " closed"),
	}
}

// UID is this server's id in the namespace's messages (a RandomID).
func (r *ClusterRequests) UID() string { return r.uid }

// CloseCallbacks waits for the application callbacks still running, at
// most twice CommandTimeout (application code could block for ever), and
// logs those that outlast it. The adapter's Close calls it once nothing
// reads Redis for it any more.
func (r *ClusterRequests) CloseCallbacks() {
	if !r.callbacks.Close(2 * r.opts.CommandTimeout) {
		r.opts.Logger.Warn(r.name+": acknowledgement callbacks still running at close", "nsp", r.nsp.Name())
	}
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
	if !r.t.Publish(typ, data) {
		return p, errors.New("request not published")
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		r.opts.Observer.RequestDone(want, want, false)
		return p, nil
	case <-t.C:
		p.mu.Lock()
		got := p.got
		p.mu.Unlock()
		r.opts.Observer.RequestDone(got, want, true)
		return p, fmt.Errorf("timeout reached: only %d responses received out of %d", got, want)
	case <-r.closed:
		return p, r.errClosed
	}
}

// FetchSockets returns the matching sockets of every server: the local
// ones, then those the others send within the timeout (the Timeout flag,
// else RequestsTimeout). On a timeout or with Redis down the callback gets what
// arrived and an error.
func (r *ClusterRequests) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return FetchAcross(r.Adapter, opts, r.t.Count, func(n int64) ([]socket.SocketDetails, error) {
		timeout := r.opts.RequestsTimeout
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
// not answer within RequestsTimeout).
func (r *ClusterRequests) ServerSideEmit(packet []any) error {
	if args, ack, ok := SplitAck(packet); ok {
		ask := func(n int64) ([]any, error) {
			id := RandomID()
			p, err := r.ask(TypeServerSideEmit, id, nodewire.Obj("requestId", id, "packet", args), int(n-1), r.opts.RequestsTimeout)
			p.mu.Lock()
			defer p.mu.Unlock()
			return append([]any{}, p.responses...), err
		}
		r.callbacks.Go(func() { EmitAcross(r.t.Count, ask, ack) })
		return nil
	}
	if !r.t.Publish(TypeServerSideEmit, nodewire.Obj("packet", packet)) {
		return errors.New("serverSideEmit: not published")
	}
	return nil
}

// ServerCount is the number of servers of the namespace, this one
// included; 1 if Redis does not answer.
func (r *ClusterRequests) ServerCount() int64 {
	n, err := r.t.Count()
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

// BroadcastWithAck asks the other servers (unless opts has the Local
// flag) to deliver p too and to forward their clients' acknowledgements,
// then delivers it to this server's sockets. Nothing tells when every
// remote client has answered, so the forwarding ends with the
// broadcast's timeout.
func (r *ClusterRequests) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, clientCount func(uint64), ack socket.Ack) {
	p.Nsp = r.nsp.Name()
	if !IsLocal(opts) {
		id := RandomID()
		timeout := r.opts.RequestsTimeout
		if opts != nil && opts.Flags != nil && opts.Flags.Timeout != nil {
			timeout = *opts.Flags.Timeout
		}
		r.awaitAcks(id, clientCount, ack, timeout)
		r.t.Publish(TypeBroadcast, nodewire.Obj("packet", nodewire.PacketObject(p), "requestId", id, "opts", nodewire.OptsObject(opts)))
	}
	r.Adapter.BroadcastWithAck(p, opts, clientCount, ack)
}

// AddSockets makes the matching sockets of every server join rooms.
func (r *ClusterRequests) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	if !IsLocal(opts) {
		r.t.Tell(TypeSocketsJoin, nodewire.Obj("opts", nodewire.OptsObject(opts), "rooms", RoomNames(rooms)))
	}
	r.Adapter.AddSockets(opts, rooms)
}

// DelSockets makes the matching sockets of every server leave rooms.
func (r *ClusterRequests) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	if !IsLocal(opts) {
		r.t.Tell(TypeSocketsLeave, nodewire.Obj("opts", nodewire.OptsObject(opts), "rooms", RoomNames(rooms)))
	}
	r.Adapter.DelSockets(opts, rooms)
}

// DisconnectSockets disconnects the matching sockets of every server.
func (r *ClusterRequests) DisconnectSockets(opts *socket.BroadcastOptions, closeConn bool) {
	if !IsLocal(opts) {
		r.t.Tell(TypeDisconnectSockets, nodewire.Obj("opts", nodewire.OptsObject(opts), "close", closeConn))
	}
	r.Adapter.DisconnectSockets(opts, closeConn)
}

// IsLocal reports the Local flag (io.Local()): this server only.
func IsLocal(opts *socket.BroadcastOptions) bool {
	return opts != nil && opts.Flags != nil && opts.Flags.Local
}
