package redisstreams

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// offsetBroadcaster is a local adapter that appends a given recovery
// offset to the packets it delivers (realtime's fan-out adapter).
type offsetBroadcaster interface {
	BroadcastWithOffset(p *parser.Packet, opts *socket.BroadcastOptions, offset string)
}

// Adapter is the adapter of one namespace. It embeds a local adapter
// (Options.Local), which keeps the rooms and delivers to the local
// sockets, and adds the cluster: each broadcast is appended to the
// stream once, and what other servers append is delivered here.
type Adapter struct {
	socket.Adapter

	c        *Cluster
	nsp      socket.Namespace
	uid      string // this server's id in the namespace
	objects  bool   // the server's encoder is nodewire.Parser's
	recovery int64  // connection state recovery's window in ms; 0: off

	publicChannel  string // prefix#nsp#
	privateChannel string // prefix#nsp#uid#

	// Two subscriptions, each read by a goroutine of its own: requests
	// (the namespace's channel) are handled in order, and answers (this
	// server's channel) at once, also while a request handler waits for
	// some (a serverSideEmit listener calling fetchSockets).
	requestSub, answerSub *redis.PubSub
	closed                chan struct{}
	wg                    sync.WaitGroup
	once                  sync.Once

	// req is the requests and answers of the cluster protocol
	// (fetchSockets, serverSideEmit, broadcast acks) over this adapter.
	req redisbase.ClusterRequests

	liveMu sync.Mutex
	live   map[socket.SocketId]*liveSession // connected sockets' sessions kept in Redis
}

var _ socket.Adapter = (*Adapter)(nil)

func newAdapter(c *Cluster, nsp socket.Namespace) *Adapter {
	base := socket.MakeAdapter()
	if c.opts.Local != nil {
		base = c.opts.Local()
	}
	a := &Adapter{Adapter: base, c: c, uid: redisbase.RandomID(), closed: make(chan struct{}), live: map[socket.SocketId]*liveSession{}}
	base.Prototype(a)
	a.Construct(nsp)
	a.req.Local, a.req.Nsp, a.req.Count = base, nsp, a.serverCount
	a.req.Publish, a.req.Respond, a.req.Tell = a.publish, a.respond, a.tell
	a.req.Timeout, a.req.Observer = c.opts.RequestsTimeout, c.opts.Observer
	a.req.Closed, a.req.ErrClosed = a.closed, errClosed
	return a
}

// Construct names the namespace's channels as the Node adapter does.
func (a *Adapter) Construct(nsp socket.Namespace) {
	a.nsp = nsp
	a.Adapter.Construct(nsp)
	a.objects = nodewire.IsObjectEncoder(nsp.Server().Encoder())
	if csr := nsp.Server().Opts().ConnectionStateRecovery(); csr != nil {
		a.recovery = max(csr.MaxDisconnectionDuration(), 1)
		if window := time.Duration(a.recovery) * time.Millisecond; a.c.opts.SessionRefresh >= window {
			a.c.opts.Logger.Warn("the session refresh is not shorter than the recovery window: connected sockets' sessions expire between refreshes",
				"session_refresh", a.c.opts.SessionRefresh, "recovery_window", window)
		}
	}
	a.publicChannel = a.c.opts.ChannelPrefix + "#" + nsp.Name() + "#"
	a.privateChannel = a.publicChannel + a.uid + "#"
}

// Init subscribes to the namespace's channel and this server's. If
// Redis is down, go-redis subscribes once it is back.
func (a *Adapter) Init() {
	a.Adapter.Init()
	a.requestSub = a.subscribe(a.publicChannel)
	a.answerSub = a.subscribe(a.privateChannel)
}

// subscribe reads channel on a goroutine of its own until Close.
func (a *Adapter) subscribe(channel string) *redis.PubSub {
	ctx, cancel := a.c.CommandContext()
	defer cancel()
	sub := a.c.RDB.Subscribe(ctx)
	if err := sub.Subscribe(ctx, channel); err != nil {
		a.c.Log.Warn("subscribe", "Redis unavailable: serving local sockets only until it is back", "channel", channel, "err", err)
	}
	msgs := sub.Channel(redis.WithChannelSize(1024), redis.WithChannelHealthCheckInterval(time.Second))
	a.wg.Go(func() {
		for raw := range msgs {
			a.c.opts.Observer.Received()
			m, err := decodePubSub([]byte(raw.Payload))
			if err != nil {
				a.c.Log.Warn("decode", "malformed cluster message skipped", "channel", raw.Channel, "err", err)
				continue
			}
			a.onMessage(m, "")
		}
	})
	return sub
}

// Close unsubscribes, ends the requests still waiting, and releases the
// embedded adapter. Nothing goes on the wire, as with Node's adapter.
func (a *Adapter) Close() {
	a.once.Do(func() {
		close(a.closed)
		a.c.forget(a)
		for _, sub := range []*redis.PubSub{a.requestSub, a.answerSub} {
			if sub != nil {
				_ = sub.Close()
			}
		}
		a.wg.Wait()
		if !a.req.Callbacks.Close(2 * a.c.opts.CommandTimeout) {
			a.c.opts.Logger.Warn("redis streams adapter: acknowledgement callbacks still running at close", "nsp", a.nsp.Name())
		}
		a.Adapter.Close()
	})
}

// UID is this server's id in the namespace's messages.
func (a *Adapter) UID() string { return a.uid }

// Broadcast appends the packet to the stream (unless the Local flag is
// set); the local sockets get it when the process reads it back from the
// stream, like every other server's, so that they get the stream's
// entries in the stream's order (a recoverable packet with its entry id
// as offset, as with Node's adapter). Delivering on XADD's answer instead
// (as Node's adapter does) could put an entry after later ones another
// server added meanwhile: a client whose last offset is then an older one
// would get those later entries twice when it recovers. When the entry
// cannot be added (encoding, a full queue, Redis down) the local sockets
// get the packet at once, without offset. The caller never waits for
// Redis.
func (a *Adapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	p.Nsp = a.nsp.Name()
	if redisbase.IsLocal(opts) {
		a.deliver(p, opts, "")
		return
	}
	fields, err := entryFields(a.uid, p.Nsp, typeBroadcast, nodewire.Obj("packet", nodewire.PacketObject(p), "opts", nodewire.OptsObject(opts)))
	if err != nil {
		a.c.Log.Warn("encode", "broadcast not published to the cluster", "err", err)
		a.deliver(p, opts, "")
		return
	}
	cmd := a.xadd(fields)
	cmd.Done = func(cmd redis.Cmder) {
		if cmd.Err() != nil {
			a.deliver(p, opts, "")
		}
	}
	if !a.c.Pub.Do(cmd) {
		a.deliver(p, opts, "")
	}
}

// xadd is the command appending an entry of fields to the stream.
func (a *Adapter) xadd(fields []any) redisbase.Command {
	o := a.c.opts
	return redisbase.Command{Add: func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder {
		return pipe.XAdd(ctx, &redis.XAddArgs{Stream: o.StreamName, MaxLen: o.MaxLen, Approx: true, ID: "*", Values: fields})
	}}
}

// tell appends a message that gets no answer to the stream.
func (a *Adapter) tell(typ messageType, data *nodewire.Object) {
	fields, err := entryFields(a.uid, a.nsp.Name(), typ, data)
	if err != nil {
		a.c.Log.Warn("encode", "cluster message not published", "type", typ, "err", err)
		return
	}
	a.c.Pub.Do(a.xadd(fields))
}

// recoverable reports whether a broadcast is kept for connection state
// recovery: an event without acknowledgement that is not volatile (Node's
// addOffsetIfNecessary).
func recoverable(p *parser.Packet, opts *socket.BroadcastOptions) bool {
	volatile := opts != nil && opts.Flags != nil && opts.Flags.Volatile
	return p.Type == parser.EVENT && p.Id == nil && !volatile
}

// deliver hands a broadcast to the local adapter; offset, if not empty,
// goes last in a recoverable packet's data.
func (a *Adapter) deliver(p *parser.Packet, opts *socket.BroadcastOptions, offset string) {
	if ob, ok := a.Adapter.(offsetBroadcaster); ok {
		ob.BroadcastWithOffset(p, opts, offset)
		return
	}
	if offset != "" && recoverable(p, opts) {
		if data, ok := p.Data.([]any); ok {
			p.Data = append(data, offset)
		}
	}
	a.Adapter.Broadcast(p, opts)
}

// BroadcastWithAck delivers locally and asks the other servers to deliver
// too and to forward their clients' acknowledgements.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, clientCount func(uint64), ack socket.Ack) {
	p.Nsp = a.nsp.Name()
	a.req.BroadcastWithAck(p, opts, clientCount, ack)
}

// AddSockets makes the matching sockets of every server join rooms.
func (a *Adapter) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	a.req.AddSockets(opts, rooms)
}

// DelSockets makes the matching sockets of every server leave rooms.
func (a *Adapter) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	a.req.DelSockets(opts, rooms)
}

// DisconnectSockets disconnects the matching sockets of every server.
func (a *Adapter) DisconnectSockets(opts *socket.BroadcastOptions, closeConn bool) {
	a.req.DisconnectSockets(opts, closeConn)
}

// onMessage handles another server's message; offset is its stream entry
// id ("" for a channel message).
func (a *Adapter) onMessage(m *message, offset string) {
	if m.nsp != a.nsp.Name() {
		return
	}
	if m.uid == a.uid && (m.typ != typeBroadcast || m.requestID() != "") {
		return // this server's own message; its own broadcasts are delivered here (see Broadcast)
	}
	switch m.typ {
	case typeBroadcast:
		p := m.packet()
		if p == nil {
			return
		}
		p.Data = nodewire.Deliverable(p.Data, a.objects)
		if id := m.requestID(); id != "" {
			a.broadcastForAck(m, p, id)
			return
		}
		if a.recovery == 0 {
			offset = ""
		}
		a.deliver(p, m.opts(), offset)
	case typeSocketsJoin:
		a.Adapter.AddSockets(m.opts(), m.rooms())
	case typeSocketsLeave:
		a.Adapter.DelSockets(m.opts(), m.rooms())
	case typeDisconnectSockets:
		c, _ := m.data["close"].(bool)
		a.Adapter.DisconnectSockets(m.opts(), c)
	case typeFetchSockets:
		a.req.AnswerFetch(m.uid, m.requestID(), m.opts())
	case typeServerSideEmit:
		a.req.OnServerSideEmit(m.uid, m.requestID(), m.data)
	case typeFetchSocketsResponse, typeServerSideEmitResponse, typeBroadcastClientCount, typeBroadcastAck:
		a.req.OnResponse(m.typ, m.data)
	}
}

// broadcastForAck delivers another server's broadcast that wants
// acknowledgements, and sends them back.
func (a *Adapter) broadcastForAck(m *message, p *parser.Packet, id string) {
	a.Adapter.BroadcastWithAck(p, m.opts(), func(n uint64) {
		a.respond(m.uid, typeBroadcastClientCount, nodewire.Obj("requestId", id, "clientCount", n))
	}, func(args []any, _ error) {
		var arg any
		if len(args) > 0 {
			arg = args[0]
		}
		a.respond(m.uid, typeBroadcastAck, nodewire.Obj("requestId", id, "packet", arg))
	})
}

// publish sends a message not kept in the stream to every server of the
// namespace.
func (a *Adapter) publish(typ messageType, data *nodewire.Object) bool {
	raw, err := encodePubSub(a.uid, a.nsp.Name(), typ, data)
	if err != nil {
		a.c.Log.Warn("encode", "cluster message not published", "type", typ, "err", err)
		return false
	}
	return a.c.Pub.Publish(a.publicChannel, raw)
}

// respond sends an answer to the server whose uid is to.
func (a *Adapter) respond(to string, typ messageType, data *nodewire.Object) {
	raw, err := encodePubSub(a.uid, a.nsp.Name(), typ, data)
	if err != nil {
		a.c.Log.Warn("encode", "cluster answer not sent", "type", typ, "err", err)
		return
	}
	a.c.Pub.Publish(a.c.opts.ChannelPrefix+"#"+a.nsp.Name()+"#"+to+"#", raw)
}

// errClosed answers requests still waiting when the adapter closes.
var errClosed = errors.New("redis streams adapter closed")

// serverCount is the number of servers subscribed to the namespace's
// channel, this one included (PUBSUB NUMSUB of its channel).
func (a *Adapter) serverCount() (int64, error) {
	return redisbase.Subscribers(a.c.RDB, a.publicChannel, a.c.opts.CommandTimeout)
}

// FetchSockets returns the matching sockets of every server (see
// redisbase.ClusterRequests).
func (a *Adapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return a.req.FetchSockets(opts)
}

// ServerSideEmit sends [event, args...] to the other servers' namespace
// listeners, with an acknowledgement when the last element is one (see
// redisbase.ClusterRequests).
func (a *Adapter) ServerSideEmit(packet []any) error { return a.req.ServerSideEmit(packet) }

// ServerCount is the number of servers of the namespace, this one
// included; 1 if Redis does not answer.
func (a *Adapter) ServerCount() int64 { return a.req.ServerCount() }
