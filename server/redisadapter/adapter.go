package redisadapter

import (
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// Adapter is the adapter of one namespace. It embeds a local adapter
// (Options.Local, by default the library's own), which keeps the rooms
// and delivers to the local sockets, and adds the cluster: every
// broadcast is also published once, and what other servers publish is
// delivered here through the embedded adapter.
//
// Reach it with io.Of(name).Adapter().(*redisadapter.Adapter) for the
// cluster-wide queries the socket.Adapter interface lacks (AllRooms,
// AllSockets).
type Adapter struct {
	socket.Adapter

	link *redisbase.Link
	opts Options
	nsp  socket.Namespace
	uid  string // this server's id in the namespace's channels
	// objects: the server's encoder is nodewire.Parser's, which sends binary held
	// in a *nodewire.Object as attachments (else such objects go out as maps).
	objects bool

	channel         string // key#nsp#
	requestChannel  string // key-request#nsp#
	responseChannel string // key-response#nsp#
	ownResponses    string // key-response#nsp#uid#

	ps     *redis.PubSub
	work   chan *redis.Message // broadcasts and requests, in order
	closed chan struct{}
	done   chan struct{} // closed when both goroutines have returned
	once   sync.Once

	mu       sync.Mutex
	requests map[string]*pending    // requests of ours awaiting answers
	acks     map[string]*ackRequest // broadcasts of ours awaiting acks

	callbacks redisbase.Callbacks // the application's acks, on goroutines Close waits for
}

var _ socket.Adapter = (*Adapter)(nil)

func newAdapter(link *redisbase.Link, opts Options, nsp socket.Namespace) *Adapter {
	base := opts.LocalAdapter(nsp)
	a := &Adapter{
		Adapter:  base,
		link:     link,
		opts:     opts,
		uid:      newUID(),
		closed:   make(chan struct{}),
		done:     make(chan struct{}),
		requests: map[string]*pending{},
		acks:     map[string]*ackRequest{},
	}
	base.Prototype(a)
	a.Construct(nsp)
	return a
}

// Construct names the namespace's channels as the Node adapter does.
func (a *Adapter) Construct(nsp socket.Namespace) {
	a.Adapter.Construct(nsp)
	a.nsp = nsp
	a.objects = nodewire.IsObjectEncoder(nsp.Server().Encoder())
	key, name := a.opts.Key, nsp.Name()
	a.channel = key + "#" + name + "#"
	a.requestChannel = key + "-request#" + name + "#"
	a.responseChannel = key + "-response#" + name + "#"
	a.ownResponses = a.responseChannel + a.uid + "#"
}

// Init subscribes to the namespace's channels. If Redis is down, go-redis
// subscribes once it is back.
func (a *Adapter) Init() {
	a.Adapter.Init()
	var msgs <-chan *redis.Message
	a.ps, msgs = a.link.Subscribe([]string{escapeGlob(a.channel) + "*"}, a.requestChannel, a.responseChannel, a.ownResponses)
	a.work = make(chan *redis.Message, 1024)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.route(msgs) }()
	go func() { defer wg.Done(); a.process() }()
	go func() { wg.Wait(); close(a.done) }()
}

// route answers responses at once (a request waiting for them may be
// blocking the processing goroutine) and queues everything else.
func (a *Adapter) route(msgs <-chan *redis.Message) {
	defer close(a.work)
	for m := range msgs {
		a.opts.Observer.Received()
		if strings.HasPrefix(m.Channel, a.responseChannel) {
			a.onResponse([]byte(m.Payload))
			continue
		}
		select {
		case a.work <- m:
		case <-a.closed:
			return
		}
	}
}

// process handles broadcasts and requests of the other servers in order.
func (a *Adapter) process() {
	for m := range a.work {
		if m.Pattern != "" {
			a.onBroadcast(m.Channel, []byte(m.Payload))
		} else if m.Channel == a.requestChannel {
			a.onRequest([]byte(m.Payload))
		}
	}
}

// Close unsubscribes, fails the requests still waiting, and releases the
// embedded adapter.
func (a *Adapter) Close() {
	a.once.Do(func() {
		close(a.closed)
		if a.ps != nil {
			_ = a.ps.Close()
			select {
			case <-a.done:
			case <-time.After(2 * a.opts.CommandTimeout):
				a.opts.Logger.Warn("redis adapter: goroutines still busy at close", "nsp", a.nsp.Name())
			}
		}
		a.failPending()
		if !a.callbacks.Close(2 * a.opts.CommandTimeout) {
			a.opts.Logger.Warn("redis adapter: acknowledgement callbacks still running at close", "nsp", a.nsp.Name())
		}
		a.Adapter.Close()
	})
}

// UID is this server's id on the namespace's channels.
func (a *Adapter) UID() string { return a.uid }

// Broadcast delivers to the local sockets and publishes the packet once
// for the other servers (unless the Local flag is set).
func (a *Adapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	p.Nsp = a.nsp.Name()
	if !isLocal(opts) {
		a.publishBroadcast(p, opts)
	}
	a.Adapter.Broadcast(p, opts)
}

// publishBroadcast encodes before the local delivery, which may append a
// recovery offset to the packet's data (the offset is this server's own).
func (a *Adapter) publishBroadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	if opts == nil {
		opts = &socket.BroadcastOptions{}
	}
	raw, err := encodeBroadcast(a.uid, p, opts)
	if err != nil {
		a.link.Log.Warn("encode", "broadcast not published to the cluster", "err", err)
		return
	}
	ch := a.channel
	if opts.Rooms != nil && opts.Rooms.Len() == 1 {
		ch += string(opts.Rooms.Keys()[0]) + "#"
	}
	a.link.Pub.Publish(ch, raw)
}

// onBroadcast delivers another server's broadcast to the local sockets.
func (a *Adapter) onBroadcast(channel string, raw []byte) {
	if !strings.HasPrefix(channel, a.channel) {
		return
	}
	room := strings.TrimSuffix(channel[len(a.channel):], "#")
	if room != "" {
		if _, ok := a.Rooms().Load(socket.Room(room)); !ok {
			return // no local socket is in that room
		}
	}
	if fromUID(raw, a.uid) {
		return // our own, delivered locally already
	}
	uid, p, opts, err := decodeBroadcast(raw)
	if err != nil {
		a.link.Log.Warn("decode", "malformed cluster broadcast ignored", "channel", channel, "err", err)
		return
	}
	if uid == a.uid || p.Nsp != a.nsp.Name() {
		return
	}
	p.Data = a.deliverable(p.Data)
	a.Adapter.Broadcast(p, opts)
}

// deliverable is data another server sent, made fit for the local
// encoder: without nodewire.Parser's, objects holding binary become maps.
func (a *Adapter) deliverable(data any) any {
	return nodewire.Deliverable(data, a.objects)
}

// BroadcastWithAck delivers locally and asks the other servers to deliver
// too and to forward their clients' acknowledgements.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, clientCount func(uint64), ack socket.Ack) {
	p.Nsp = a.nsp.Name()
	if !isLocal(opts) {
		if opts == nil {
			opts = &socket.BroadcastOptions{}
		}
		id := newUID()
		raw, err := encodeBroadcastRequest(a.uid, id, p, opts)
		if err != nil {
			a.link.Log.Warn("encode", "broadcast not published to the cluster", "err", err)
		} else {
			timeout := a.opts.RequestsTimeout
			if opts.Flags != nil && opts.Flags.Timeout != nil {
				timeout = *opts.Flags.Timeout
			}
			a.mu.Lock()
			a.acks[id] = &ackRequest{clientCount: clientCount, ack: ack}
			a.mu.Unlock()
			// Nothing tells when every remote client has answered, so the
			// entry just expires with the broadcast's timeout.
			time.AfterFunc(timeout, func() {
				a.mu.Lock()
				delete(a.acks, id)
				a.mu.Unlock()
			})
			a.link.Pub.Publish(a.requestChannel, raw)
		}
	}
	a.Adapter.BroadcastWithAck(p, opts, clientCount, ack)
}

// isLocal reports the Local flag (io.Local()): this server only.
func isLocal(opts *socket.BroadcastOptions) bool {
	return opts != nil && opts.Flags != nil && opts.Flags.Local
}

// fromUID reports, without decoding, whether a broadcast message starts
// with [uid, ...]: the cheap way to skip our own echo.
func fromUID(raw []byte, uid string) bool {
	n := len(uid)
	return n < 32 && len(raw) > 2+n && raw[0] == 0x93 && raw[1] == 0xa0|byte(n) && string(raw[2:2+n]) == uid
}

// escapeGlob quotes the characters PSUBSCRIBE patterns treat specially,
// so a key or namespace containing them matches only itself.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
