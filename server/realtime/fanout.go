package realtime

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"

	"feedrt/server/engineio"
)

// The broadcast fan-out.
//
// The library's adapter encodes a broadcast once but then, for every
// socket, goes through Client.WriteToEngine (a lock and a copy of the
// encoded packet), the Engine.IO socket's sendPacket and flush (new
// packet and options values, four events on two emitters) and the
// transport's Send, and after the write two more events. At thousands
// of sockets that per-socket path costs more CPU than the writes. This
// adapter keeps the library's adapter for rooms and everything else and
// replaces Broadcast: it encodes and frames the packet once, then hands
// the frame straight to each WebSocket transport's queue. Sockets of
// another engine and packets with binary attachments take the library's
// path.
//
// It also holds connection state recovery's storage, since the library's
// session-aware adapter cannot be layered over another adapter.

// fanoutAdapters makes the fanoutAdapter of each namespace: it is the
// socket.AdapterConstructor of a single server, and the Redis cluster
// adapter's local base (Make).
type fanoutAdapters struct {
	recovery recoveryLimits // maxAge 0: connection state recovery off
	observer Observer
	now      func() time.Time // the recovery log's clock
}

// New builds and constructs the adapter of nsp.
func (b fanoutAdapters) New(nsp socket.Namespace) socket.Adapter {
	a := b.Make()
	a.Construct(nsp)
	return a
}

// Make builds an adapter that is not constructed yet (for embedding).
func (b fanoutAdapters) Make() socket.Adapter {
	a := &fanoutAdapter{Adapter: socket.MakeAdapter(), observer: b.observer}
	if b.recovery.maxAge > 0 {
		a.recovery = newRecoveryLog(b.recovery, b.now)
	}
	a.Prototype(a)
	return a
}

type fanoutAdapter struct {
	socket.Adapter // the library's: rooms, socket lookup, the slow path

	nsp      socket.Namespace
	encoder  parser.Encoder
	recovery *recoveryLog // nil: recovery off
	observer Observer

	// everyone is the list of sockets a broadcast to all (no rooms, no
	// except) goes to, kept from one broadcast to the next: members
	// counts the changes of the namespace's sockets (AddAll, DelAll), and
	// a list made at an older count is made again.
	members  atomic.Uint64
	everyone atomic.Pointer[socketList]
}

// socketList is the sockets of a namespace at a count of members, in
// the order their sessions opened.
type socketList struct {
	members uint64
	targets []target
}

// target is a socket a broadcast goes to, with its Engine.IO session when
// that is this package's engine's (nil: the library's path).
type target struct {
	s *socket.Socket
	c session
}

// session is an Engine.IO session of this package's engine
// (*engineio.Socket): it takes a message encoded once for many sockets,
// and tells its place in the order sessions opened.
type session interface {
	WriteMessage(*engineio.Message)
	Seq() uint64
}

// targetsOf resolves sockets to targets.
func targetsOf(sockets []socket.SocketDetails) []target {
	ts := make([]target, 0, len(sockets))
	for _, sd := range sockets {
		if s, ok := sd.(*socket.Socket); ok {
			c, _ := s.Conn().(session)
			ts = append(ts, target{s: s, c: c})
		}
	}
	return ts
}

// bySessionOrder sorts targets in the order their sessions opened (other
// engines' last): a broadcast then walks the server's and the kernel's
// per-connection memory roughly in the order it was allocated, which
// costs measurably fewer cache and TLB misses than a random order at
// thousands of sockets.
func bySessionOrder(ts []target) {
	order := func(t target) uint64 {
		if t.c == nil {
			return math.MaxUint64
		}
		return t.c.Seq()
	}
	slices.SortFunc(ts, func(a, b target) int { return cmp.Compare(order(a), order(b)) })
}

var _ socket.Adapter = (*fanoutAdapter)(nil)

func (a *fanoutAdapter) Construct(nsp socket.Namespace) {
	a.Adapter.Construct(nsp)
	a.nsp = nsp
	a.encoder = nsp.Server().Encoder()
}

// AddAll adds a socket to rooms (its own, when it connects).
func (a *fanoutAdapter) AddAll(id socket.SocketId, rooms *types.Set[socket.Room]) {
	a.Adapter.AddAll(id, rooms)
	a.members.Add(1)
}

// DelAll removes a socket from every room (it is leaving).
func (a *fanoutAdapter) DelAll(id socket.SocketId) {
	a.Adapter.DelAll(id)
	a.members.Add(1)
}

// sockets calls fn with the sockets opts selects.
func (a *fanoutAdapter) sockets(opts *socket.BroadcastOptions, fn func([]target)) {
	all := opts == nil || ((opts.Rooms == nil || opts.Rooms.Len() == 0) && (opts.Except == nil || opts.Except.Len() == 0))
	if !all {
		a.Adapter.FetchSockets(opts)(func(s []socket.SocketDetails, _ error) { fn(targetsOf(s)) })
		return
	}
	members := a.members.Load() // before the list is read: a change meanwhile makes it old
	if l := a.everyone.Load(); l != nil && l.members == members {
		fn(l.targets)
		return
	}
	a.Adapter.FetchSockets(opts)(func(s []socket.SocketDetails, _ error) {
		ts := targetsOf(s)
		bySessionOrder(ts)
		a.everyone.Store(&socketList{members: members, targets: ts})
		fn(ts)
	})
}

// Broadcast sends p to the sockets opts selects, recording it for
// recovery first when it is recoverable (an event without ack that is
// not volatile), as the library's session-aware adapter does.
func (a *fanoutAdapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	a.broadcast(p, opts, "", a.recovery != nil)
}

// BroadcastWithOffset is Broadcast for a cluster that keeps connection
// state recovery's log itself (server/redisstreams: the offset is the
// stream entry's id): a recoverable packet gets offset as last argument,
// as Node's cluster adapter does, and this adapter records nothing. An
// empty offset adds none.
func (a *fanoutAdapter) BroadcastWithOffset(p *parser.Packet, opts *socket.BroadcastOptions, offset string) {
	a.broadcast(p, opts, offset, false)
}

// broadcast delivers p; a recoverable packet carries offset, or with
// record a new offset of the recovery log, which keeps it.
func (a *fanoutAdapter) broadcast(p *parser.Packet, opts *socket.BroadcastOptions, offset string, record bool) {
	start := time.Now()
	if p.Type == parser.EVENT {
		name := ""
		if d := utils.TryCast[[]any](p.Data); len(d) > 0 {
			name, _ = d[0].(string)
		}
		a.observer.Broadcast(name)
		defer func() { a.observer.FanoutDone(time.Since(start)) }()
	}
	var flags socket.BroadcastFlags
	if opts != nil && opts.Flags != nil {
		flags = *opts.Flags
	}
	recoverable := p.Type == parser.EVENT && p.Id == nil && !flags.Volatile
	record = record && recoverable
	if record {
		offset = utils.YeastDate()
	}
	if recoverable && offset != "" {
		// The offset goes last in the data: the client keeps the last one
		// it saw and sends it back when it reconnects.
		p.Data = append(utils.TryCast[[]any](p.Data), offset)
	}
	p.Nsp = a.nsp.Name()
	encoded := a.encoder.Encode(p)
	if record { // before any socket can see the offset
		a.recovery.add(offset, p.Data, opts, encodedLen(encoded))
	}
	wopts := &socket.WriteOptions{PreEncoded: true, Volatile: flags.Volatile}
	wopts.Compress = flags.Compress
	// One message for every session: encoded and framed once, shared by
	// every WebSocket and every polling buffer, text or binary (the
	// msgpack parser's). Packets with binary attachments (several
	// parts), volatile ones (dropped where the
	// transport is busy) and those sent with compress(false) (each
	// transport then sends them uncompressed) take the library's path.
	var msg *engineio.Message
	plain := flags.Compress != nil && !*flags.Compress
	if !flags.Volatile && !plain {
		msg = sharedMessage(encoded)
	}
	deliver := func(targets []target) {
		for _, t := range targets {
			if !t.s.Connected() {
				continue
			}
			if notify := t.s.NotifyOutgoingListeners(); notify != nil {
				notify(p)
			}
			if t.c != nil && msg != nil {
				t.c.WriteMessage(msg)
				continue
			}
			t.s.Client().WriteToEngine(encoded, wopts)
		}
	}
	a.sockets(opts, func(sockets []target) {
		// A write is a system call per socket: with many sockets they are
		// split over the cores, and all are done before Broadcast returns
		// (so the next broadcast's frames queue behind this one's). The
		// library's path (msg nil) reads the shared encoding: not split.
		shards := min(runtime.GOMAXPROCS(0), len(sockets)/shardMin)
		if msg == nil || shards < 2 {
			deliver(sockets)
			return
		}
		var wg sync.WaitGroup
		size := (len(sockets) + shards - 1) / shards
		for len(sockets) > size {
			part := sockets[:size]
			sockets = sockets[size:]
			wg.Go(func() { deliver(part) })
		}
		deliver(sockets)
		wg.Wait()
	})
}

// shardMin is the fewest sockets a broadcast gives each goroutine.
const shardMin = 256

// encodedLen is the size of an encoded packet, all parts.
func encodedLen(encoded []types.BufferInterface) int {
	n := 0
	for _, b := range encoded {
		n += b.Len()
	}
	return n
}

// sharedMessage is the message every session is sent for a packet
// encoded as one part: text (the default parser's packets without
// binary) or binary (socket.io-msgpack-parser's packets, all of them);
// nil for several parts (binary attachments).
func sharedMessage(encoded []types.BufferInterface) *engineio.Message {
	if len(encoded) != 1 {
		return nil
	}
	if s, ok := encoded[0].(*types.StringBuffer); ok {
		return engineio.NewMessage(s.Bytes())
	}
	return engineio.NewBinaryMessage(encoded[0].Bytes())
}

// Close forgets what recovery kept.
func (a *fanoutAdapter) Close() {
	if a.recovery != nil {
		a.recovery.reset()
	}
	a.Adapter.Close()
}

// PersistSession keeps a disconnected socket's session for recovery.
func (a *fanoutAdapter) PersistSession(s *socket.SessionToPersist) {
	if a.recovery != nil {
		a.recovery.persist(s)
	}
}

// RestoreSession finds a session and the packets it missed after offset;
// nil when recovery is off, the session is unknown or expired, or the
// offset is no longer kept.
func (a *fanoutAdapter) RestoreSession(pid socket.PrivateSessionId, offset string) (*socket.Session, error) {
	if a.recovery == nil {
		return nil, nil
	}
	s := a.recovery.restore(pid, offset)
	if s != nil {
		a.observer.SessionRecovered()
	} else {
		a.observer.SessionExpired()
	}
	return s, nil
}
