package server

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"
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
// the frame straight to each WebSocket transport's queue. Sockets that
// are not (yet) on such a transport (long-polling, mid-upgrade) and
// packets with binary attachments take the library's path.
//
// It also holds connection state recovery's storage, since the library's
// session-aware adapter cannot be layered over another adapter.

// fanoutAdapters builds fanoutAdapters; it is the socket.AdapterConstructor
// of a single server, and the Redis cluster adapter's local base.
type fanoutAdapters struct {
	recovery time.Duration // 0: connection state recovery off
}

// New builds and constructs the adapter of nsp.
func (b fanoutAdapters) New(nsp socket.Namespace) socket.Adapter {
	a := b.Make()
	a.Construct(nsp)
	return a
}

// Make builds an adapter that is not constructed yet (for embedding).
func (b fanoutAdapters) Make() socket.Adapter {
	a := &fanoutAdapter{Adapter: socket.MakeAdapter()}
	if b.recovery > 0 {
		a.recovery = &recoveryLog{maxAge: b.recovery, sessions: map[socket.PrivateSessionId]*socket.SessionWithTimestamp{}}
	}
	a.Prototype(a)
	return a
}

type fanoutAdapter struct {
	socket.Adapter // the library's: rooms, socket lookup, the slow path

	nsp      socket.Namespace
	encoder  parser.Encoder
	recovery *recoveryLog // nil: recovery off
}

var _ socket.Adapter = (*fanoutAdapter)(nil)

func (a *fanoutAdapter) Construct(nsp socket.Namespace) {
	a.Adapter.Construct(nsp)
	a.nsp = nsp
	a.encoder = nsp.Server().Encoder()
}

// Broadcast sends p to the sockets opts selects, recording it for
// recovery first when it is recoverable (an event without ack that is
// not volatile), as the library's session-aware adapter does.
func (a *fanoutAdapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	var flags socket.BroadcastFlags
	if opts != nil && opts.Flags != nil {
		flags = *opts.Flags
	}
	if a.recovery != nil && p.Type == parser.EVENT && p.Id == nil && !flags.Volatile {
		id := utils.YeastDate()
		// The offset goes last in the data: the client keeps the last one
		// it saw and sends it back when it reconnects.
		p.Data = append(utils.TryCast[[]any](p.Data), id)
		a.recovery.add(&socket.PersistedPacket{Id: id, EmittedAt: time.Now().UnixMilli(), Data: p.Data, Opts: opts})
	}
	p.Nsp = a.nsp.Name()
	encoded := a.encoder.Encode(p)
	wopts := &socket.WriteOptions{PreEncoded: true, Volatile: flags.Volatile}
	wopts.Compress = flags.Compress
	// One frame for every WebSocket: Engine.IO message type "4" + the
	// packet. Packets with binary attachments (several parts) have none.
	var pm *websocket.PreparedMessage
	if text, ok := singleText(encoded); ok {
		frame := types.NewStringBufferString("4")
		_, _ = frame.Write(text.Bytes())
		wopts.WsPreEncodedFrame = frame
		pm, _ = websocket.NewPreparedMessage(websocket.TextMessage, frame.Bytes()) // cannot fail for text
	}
	a.Adapter.FetchSockets(opts)(func(sockets []socket.SocketDetails, _ error) {
		for _, sd := range sockets {
			s, ok := sd.(*socket.Socket)
			if !ok {
				continue
			}
			if notify := s.NotifyOutgoingListeners(); notify != nil {
				notify(p)
			}
			if pm != nil {
				if conn := s.Conn(); conn.ReadyState() == "open" {
					if w, ok := conn.Transport().(*fastWebSocket); ok && w.sendFrame(pm) {
						continue
					}
				}
			}
			s.Client().WriteToEngine(encoded, wopts)
		}
	})
}

// singleText is the packet's encoding when it is one text part.
func singleText(encoded []types.BufferInterface) (*types.StringBuffer, bool) {
	if len(encoded) != 1 {
		return nil, false
	}
	s, ok := encoded[0].(*types.StringBuffer)
	return s, ok
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
	return a.recovery.restore(pid, offset), nil
}

// recoveryLog holds the sessions of disconnected sockets and the
// recoverable broadcasts of the last maxAge, oldest first. Expired
// entries are dropped as new ones come in: no timer goroutine.
type recoveryLog struct {
	maxAge time.Duration

	mu        sync.Mutex
	sessions  map[socket.PrivateSessionId]*socket.SessionWithTimestamp
	packets   []*socket.PersistedPacket
	lastSweep time.Time
}

func (r *recoveryLog) add(p *socket.PersistedPacket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(time.Now())
	r.packets = append(r.packets, p)
}

func (r *recoveryLog) persist(s *socket.SessionToPersist) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(now)
	r.sessions[s.Pid] = &socket.SessionWithTimestamp{SessionToPersist: s, DisconnectedAt: now.UnixMilli()}
}

// expire drops packets older than maxAge, and (at most once a minute)
// sessions disconnected for longer. r.mu is held.
func (r *recoveryLog) expire(now time.Time) {
	threshold := now.Add(-r.maxAge).UnixMilli()
	n := 0
	for n < len(r.packets) && r.packets[n].EmittedAt < threshold {
		r.packets[n] = nil
		n++
	}
	if n > 0 {
		r.packets = r.packets[n:]
	}
	if now.Sub(r.lastSweep) < time.Minute {
		return
	}
	r.lastSweep = now
	for pid, s := range r.sessions {
		if s.DisconnectedAt < threshold {
			delete(r.sessions, pid)
		}
	}
}

func (r *recoveryLog) restore(pid socket.PrivateSessionId, offset string) *socket.Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sessions[pid]
	if !ok {
		return nil
	}
	if s.DisconnectedAt+r.maxAge.Milliseconds() < time.Now().UnixMilli() {
		delete(r.sessions, pid)
		return nil
	}
	at := -1
	for i := len(r.packets) - 1; i >= 0; i-- {
		if r.packets[i].Id == offset {
			at = i
			break
		}
	}
	if at < 0 {
		return nil // the offset is too old (or was never ours)
	}
	missed := []any{}
	for _, p := range r.packets[at+1:] {
		if reaches(s.Rooms, p.Opts) {
			missed = append(missed, p.Data)
		}
	}
	return &socket.Session{SessionToPersist: s.SessionToPersist, MissedPackets: missed}
}

func (r *recoveryLog) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions = map[socket.PrivateSessionId]*socket.SessionWithTimestamp{}
	r.packets = nil
}

// reaches reports whether a broadcast with opts went to a socket that was
// in rooms: to all or to one of its rooms, and none of its rooms excepted.
func reaches(rooms *types.Set[socket.Room], opts *socket.BroadcastOptions) bool {
	if opts == nil {
		return true
	}
	included := opts.Rooms == nil || opts.Rooms.Len() == 0
	if rooms == nil {
		return included
	}
	for _, room := range rooms.Keys() {
		if opts.Except != nil && opts.Except.Has(room) {
			return false
		}
		if !included && opts.Rooms.Has(room) {
			included = true
		}
	}
	return included
}
