package redissharded

import (
	"sync"
	"unicode/utf16"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// Adapter is the adapter of one namespace. It embeds the cluster
// protocol (redisbase.ClusterRequests), which embeds a local adapter
// (Options.Local) that keeps the rooms and delivers to the local sockets:
// each broadcast is published once (SPUBLISH), and what other servers
// publish is delivered here.
type Adapter struct {
	*redisbase.ClusterRequests

	link *redisbase.Link
	opts Options
	nsp  socket.Namespace
	mode string

	channel         string // P#nsp#
	responseChannel string // P#nsp#uid#

	subs   *subscriptions
	work   chan *redisbase.Message // messages other than answers, handled in order
	closed chan struct{}
	done   chan struct{} // closed when the worker has returned
	once   sync.Once

	roomsMu sync.Mutex // room changes and their channels, one at a time
}

var _ socket.Adapter = (*Adapter)(nil)

func newAdapter(link *redisbase.Link, opts Options, nsp socket.Namespace) *Adapter {
	base := opts.LocalAdapter(nsp)
	a := &Adapter{link: link, opts: opts, nsp: nsp, mode: opts.SubscriptionMode, closed: make(chan struct{}), done: make(chan struct{})}
	tell := func(t redisbase.MessageType, d *nodewire.Object) { a.publish(t, d) }
	a.ClusterRequests = redisbase.NewClusterRequests("redis sharded adapter", base, nsp, a.closed, opts.Common,
		redisbase.Transport{Publish: a.publish, Respond: a.respond, Tell: tell, Count: a.serverCount})
	// The namespace's channels, named as the Node adapter names them.
	a.channel = opts.ChannelPrefix + "#" + nsp.Name() + "#"
	a.responseChannel = a.channel + a.UID() + "#"
	base.Prototype(a)
	base.Construct(nsp)
	return a
}

// Init subscribes to the namespace's channel and this server's.
func (a *Adapter) Init() {
	a.Adapter.Init()
	a.work = make(chan *redisbase.Message, 1024)
	a.subs = newSubscriptions(a.link.RDB, a.opts.CommandTimeout, a.onRaw, func(channel string, err error) {
		a.link.Log.Warn("subscribe", "Redis unavailable: serving local sockets only until it is back", "channel", channel, "err", err)
	})
	a.subs.add(a.channel)
	a.subs.add(a.responseChannel)
	go a.process()
}

// onRaw decodes a message of a subscription: answers are handled at once
// (a request waiting for them may be holding the worker), the rest in
// order by the worker.
func (a *Adapter) onRaw(channel, payload string) {
	a.opts.Observer.Received()
	m, err := decode([]byte(payload))
	if err != nil {
		a.link.Log.Warn("decode", "malformed cluster message skipped", "channel", channel, "err", err)
		return
	}
	if channel == a.responseChannel {
		a.OnResponse(m.Type, m.Data)
		return
	}
	select {
	case a.work <- m:
	case <-a.closed:
	}
}

// process handles the queued messages until Close.
func (a *Adapter) process() {
	defer close(a.done)
	for {
		select {
		case m := <-a.work:
			a.onMessage(m)
		case <-a.closed:
			return
		}
	}
}

// Close unsubscribes, ends the requests still waiting, and releases the
// embedded adapter.
func (a *Adapter) Close() {
	a.once.Do(func() {
		close(a.closed)
		if a.subs != nil {
			a.subs.close()
			<-a.done
		}
		a.CloseCallbacks()
		a.Adapter.Close()
	})
}

// dynamicChannel is a room's own channel, P#nsp#room#.
func (a *Adapter) dynamicChannel(room socket.Room) string {
	return a.channel + string(room) + "#"
}

// hasRoom reports whether a local socket is in room.
func (a *Adapter) hasRoom(room socket.Room) bool {
	_, ok := a.Rooms().Load(room)
	return ok
}

// separate reports whether a room has a channel of its own: any room in
// dynamic-private; in the dynamic mode a public room (no socket's id),
// and also a socket's own room whose name does not look like a socket id
// to Node (20 characters): the library's ids have 24, so a Node server
// in the dynamic mode publishes a broadcast to one of this server's
// sockets on that room's channel.
func (a *Adapter) separate(room socket.Room) bool {
	switch a.mode {
	case Dynamic:
		_, private := a.Sids().Load(socket.SocketId(room))
		return !private || !looksLikeASocketID(room)
	case DynamicPrivate:
		return true
	}
	return false
}

// AddAll adds the socket id to rooms; in the dynamic modes a room that
// comes into being here gets its channel subscribed to.
func (a *Adapter) AddAll(id socket.SocketId, rooms *types.Set[socket.Room]) {
	if a.mode == Static {
		a.Adapter.AddAll(id, rooms)
		return
	}
	a.roomsMu.Lock()
	defer a.roomsMu.Unlock()
	var fresh []socket.Room
	for _, r := range rooms.Keys() {
		if !a.hasRoom(r) {
			fresh = append(fresh, r)
		}
	}
	a.Adapter.AddAll(id, rooms)
	for _, r := range fresh {
		if a.hasRoom(r) && a.separate(r) {
			a.subs.add(a.dynamicChannel(r))
		}
	}
}

// Del removes the socket id from room; a room gone from here is
// unsubscribed from in the dynamic modes.
func (a *Adapter) Del(id socket.SocketId, room socket.Room) {
	if a.mode == Static {
		a.Adapter.Del(id, room)
		return
	}
	a.roomsMu.Lock()
	defer a.roomsMu.Unlock()
	sep := a.separate(room)
	a.Adapter.Del(id, room)
	if sep && !a.hasRoom(room) {
		a.subs.remove(a.dynamicChannel(room))
	}
}

// DelAll removes the socket id from every room, unsubscribing from the
// channels of the rooms that are gone.
func (a *Adapter) DelAll(id socket.SocketId) {
	if a.mode == Static {
		a.Adapter.DelAll(id)
		return
	}
	a.roomsMu.Lock()
	defer a.roomsMu.Unlock()
	var sep []socket.Room
	if rooms, ok := a.Sids().Load(id); ok {
		for _, r := range rooms.Keys() {
			if a.separate(r) {
				sep = append(sep, r)
			}
		}
	}
	a.Adapter.DelAll(id)
	for _, r := range sep {
		if !a.hasRoom(r) {
			a.subs.remove(a.dynamicChannel(r))
		}
	}
}

// looksLikeASocketID is the Node adapter's test: a room of 20 (UTF-16)
// characters is taken for a socket's own room.
func looksLikeASocketID(room socket.Room) bool {
	return len(utf16.Encode([]rune(string(room)))) == 20
}

// broadcastChannel is where a broadcast without acknowledgement goes: a
// broadcast to exactly one room goes to the room's channel in the
// dynamic modes (not for a socket id's room in the dynamic mode), all
// else to the namespace's.
func (a *Adapter) broadcastChannel(opts *socket.BroadcastOptions) string {
	if a.mode == Static || opts == nil || opts.Rooms == nil || opts.Rooms.Len() != 1 {
		return a.channel
	}
	room := opts.Rooms.Keys()[0]
	if a.mode == DynamicPrivate || !looksLikeASocketID(room) {
		return a.dynamicChannel(room)
	}
	return a.channel
}

// Broadcast publishes the packet (unless the Local flag is set) and
// delivers it to the local sockets. The caller never waits for Redis.
func (a *Adapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	p.Nsp = a.nsp.Name()
	if !redisbase.IsLocal(opts) {
		a.publishTo(a.broadcastChannel(opts), redisbase.TypeBroadcast, nodewire.Obj("packet", nodewire.PacketObject(p), "opts", nodewire.OptsObject(opts)))
	}
	a.Adapter.Broadcast(p, opts)
}

// publish sends a message to every server of the namespace.
func (a *Adapter) publish(typ redisbase.MessageType, data *nodewire.Object) bool {
	return a.publishTo(a.channel, typ, data)
}

// respond sends an answer to the server whose uid is to.
func (a *Adapter) respond(to string, typ redisbase.MessageType, data *nodewire.Object) {
	a.publishTo(a.channel+to+"#", typ, data)
}

// publishTo queues the SPUBLISH of a message to channel; false if it was
// not queued.
func (a *Adapter) publishTo(channel string, typ redisbase.MessageType, data *nodewire.Object) bool {
	raw, err := encode(a.UID(), a.nsp.Name(), typ, data)
	if err != nil {
		a.link.Log.Warn("encode", "cluster message not published", "type", typ, "err", err)
		return false
	}
	return a.link.Pub.SPublish(channel, raw)
}

// onMessage handles another server's message.
func (a *Adapter) onMessage(m *redisbase.Message) {
	if m.UID != a.UID() {
		a.Handle(m, a.Adapter.Broadcast)
	}
}

// serverCount is the number of servers subscribed to the namespace's
// channel, this one included (PUBSUB SHARDNUMSUB of its channel).
func (a *Adapter) serverCount() (int64, error) {
	return redisbase.ShardSubscribers(a.link.RDB, a.channel, a.opts.CommandTimeout)
}
