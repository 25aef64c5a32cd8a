package redisstreams

import (
	"sync"
	"sync/atomic"
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

// Adapter is the adapter of one namespace. It embeds the cluster
// protocol (redisbase.ClusterRequests), which embeds a local adapter
// (Options.Local) that keeps the rooms and delivers to the local sockets:
// each broadcast is appended to the stream once, and what other servers
// append is delivered here.
type Adapter struct {
	*redisbase.ClusterRequests

	c        *Cluster
	nsp      socket.Namespace
	recovery int64 // connection state recovery's window in ms; 0: off

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

	liveMu sync.Mutex
	live   map[socket.SocketId]*liveSession // connected sockets' sessions kept in Redis

	seq atomic.Uint64 // the number of the last broadcast (seqField)
	own ownEntries
}

var _ socket.Adapter = (*Adapter)(nil)

func newAdapter(c *Cluster, nsp socket.Namespace) *Adapter {
	base := socket.MakeAdapter()
	if c.opts.Local != nil {
		base = c.opts.Local()
	}
	a := &Adapter{c: c, nsp: nsp, closed: make(chan struct{}), live: map[socket.SocketId]*liveSession{}}
	a.own.now = time.Now
	a.ClusterRequests = redisbase.NewClusterRequests("redis streams adapter", base, nsp, a.closed, c.opts.Common,
		redisbase.Transport{Publish: a.publish, Respond: a.respond, Tell: a.tell, Count: a.serverCount})
	// The namespace's channels, named as the Node adapter names them.
	a.publicChannel = c.opts.ChannelPrefix + "#" + nsp.Name() + "#"
	a.privateChannel = a.publicChannel + a.UID() + "#"
	a.recovery = recoveryWindow(nsp, c.opts)
	base.Prototype(a)
	base.Construct(nsp)
	return a
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
	sub, msgs := a.c.Subscribe(nil, channel)
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
		a.CloseCallbacks()
		a.Adapter.Close()
	})
}

// Broadcast appends the packet to the stream (unless the Local flag is
// set); the local sockets get it when the process reads it back from the
// stream, like every other server's, so that they get the stream's
// entries in the stream's order (a recoverable packet with its entry id
// as offset, as with Node's adapter). Delivering on XADD's answer instead
// (as Node's adapter does) could put an entry after later ones another
// server added meanwhile: a client whose last offset is then an older one
// would get those later entries twice when it recovers. When the entry
// cannot be added (encoding, a full queue, Redis down), or the reader
// has not yet found where it starts, the local sockets get the packet at
// once, without offset, and once only even if the entry turns out to be
// in the stream (see ownEntries). The caller never waits for Redis.
func (a *Adapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	p.Nsp = a.nsp.Name()
	if redisbase.IsLocal(opts) {
		a.deliver(p, opts, "")
		return
	}
	args, err := appendEntry(a.c.xaddHead(), a.UID(), p.Nsp, redisbase.TypeBroadcast, nodewire.Obj("packet", nodewire.PacketObject(p), "opts", nodewire.OptsObject(opts)))
	if err != nil {
		a.c.Log.Warn("encode", "broadcast not published to the cluster", "err", err)
		a.deliver(p, opts, "")
		return
	}
	seq := a.seq.Add(1)
	args = append(args, seqField, seq)
	// Before the reader has read the stream's last entry, the entry may
	// go in before it, where the reader will not see it.
	early := !a.c.reading.Load()
	if early {
		a.own.fallBack(seq)
		a.deliver(p, opts, "")
	}
	cmd := a.xadd(args)
	cmd.Done = func(cmd redis.Cmder) {
		switch err := cmd.Err(); {
		case early, err == nil:
			return
		case redisbase.MayHaveRun(err) && !a.own.fallBack(seq):
			return // read back already
		}
		a.deliver(p, opts, "")
	}
	if !a.c.Pub.Do(cmd) && !early {
		a.deliver(p, opts, "")
	}
}

// tell appends a message that gets no answer to the stream.
func (a *Adapter) tell(typ redisbase.MessageType, data *nodewire.Object) {
	args, err := appendEntry(a.c.xaddHead(), a.UID(), a.nsp.Name(), typ, data)
	if err != nil {
		a.c.Log.Warn("encode", "cluster message not published", "type", typ, "err", err)
		return
	}
	a.c.Pub.Do(a.xadd(args))
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

// onMessage handles another server's message; offset is its stream entry
// id ("" for a channel message).
func (a *Adapter) onMessage(m *redisbase.Message, offset string) {
	if m.UID == a.UID() && (m.Type != redisbase.TypeBroadcast || m.RequestID() != "") {
		return // this server's own message; its own broadcasts are delivered here (see Broadcast)
	}
	if a.recovery == 0 {
		offset = ""
	}
	a.Handle(m, func(p *parser.Packet, opts *socket.BroadcastOptions) { a.deliver(p, opts, offset) })
}

// publish sends a message not kept in the stream to every server of the
// namespace.
func (a *Adapter) publish(typ redisbase.MessageType, data *nodewire.Object) bool {
	raw, err := encodePubSub(a.UID(), a.nsp.Name(), typ, data)
	if err != nil {
		a.c.Log.Warn("encode", "cluster message not published", "type", typ, "err", err)
		return false
	}
	return a.c.Pub.Publish(a.publicChannel, raw)
}

// respond sends an answer to the server whose uid is to.
func (a *Adapter) respond(to string, typ redisbase.MessageType, data *nodewire.Object) {
	raw, err := encodePubSub(a.UID(), a.nsp.Name(), typ, data)
	if err != nil {
		a.c.Log.Warn("encode", "cluster answer not sent", "type", typ, "err", err)
		return
	}
	a.c.Pub.Publish(a.c.opts.ChannelPrefix+"#"+a.nsp.Name()+"#"+to+"#", raw)
}

// serverCount is the number of servers subscribed to the namespace's
// channel, this one included (PUBSUB NUMSUB of its channel).
func (a *Adapter) serverCount() (int64, error) {
	return redisbase.Subscribers(a.c.RDB, a.publicChannel, a.c.opts.CommandTimeout)
}
