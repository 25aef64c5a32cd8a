package realtime

import (
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// recoveryLimits bound what connection state recovery keeps. Every
// broadcast is kept for maxAge so a client that drops can get what it
// missed; without the other bounds one burst of large posts would stay in
// memory for the whole window whatever its size.
type recoveryLimits struct {
	maxAge      time.Duration // 0: recovery off
	maxPackets  int           // broadcasts kept
	maxBytes    int           // their encoded size
	maxSessions int           // disconnected sessions kept
}

// recoveryLog holds the sessions of disconnected sockets and the
// recoverable broadcasts, oldest first, within its limits. Past a limit
// the oldest go; a client whose offset or session went starts a new
// session, as after the window. Entries also expire on time: one timer
// (no goroutine while it waits) is armed for the oldest entry, so an idle
// server lets go of its last burst when the window ends.
type recoveryLog struct {
	recoveryLimits
	now func() time.Time

	mu       sync.Mutex
	packets  []recoveryPacket // oldest first
	bytes    int              // sum of packets' sizes
	sessions map[socket.PrivateSessionId]recoverySession
	// order is the sessions' disconnect order, oldest first. A session
	// persisted again (it was recovered, then dropped again) leaves a
	// stale reference behind, recognised by its sequence number.
	order []sessionRef
	seq   uint64      // of the last persist
	timer *time.Timer // armed for the oldest entry's expiry, or nil
}

type recoveryPacket struct {
	*socket.PersistedPacket
	size int
}

type recoverySession struct {
	*socket.SessionWithTimestamp
	seq uint64
}

type sessionRef struct {
	pid socket.PrivateSessionId
	seq uint64
	at  int64 // DisconnectedAt
}

func newRecoveryLog(l recoveryLimits, now func() time.Time) *recoveryLog {
	return &recoveryLog{recoveryLimits: l, now: now, sessions: map[socket.PrivateSessionId]recoverySession{}}
}

// add keeps a broadcast of size encoded bytes under its offset id.
func (r *recoveryLog) add(id string, data any, opts *socket.BroadcastOptions, size int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	r.expire(now)
	r.packets = append(r.packets, recoveryPacket{&socket.PersistedPacket{Id: id, EmittedAt: now.UnixMilli(), Data: data, Opts: opts}, size})
	r.bytes += size
	for len(r.packets) > 0 && (len(r.packets) > r.maxPackets || r.bytes > r.maxBytes) {
		r.dropPacket()
	}
	r.arm(now)
}

// persist keeps a disconnected socket's session.
func (r *recoveryLog) persist(s *socket.SessionToPersist) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	r.expire(now)
	at := now.UnixMilli()
	r.seq++
	r.sessions[s.Pid] = recoverySession{&socket.SessionWithTimestamp{SessionToPersist: s, DisconnectedAt: at}, r.seq}
	r.order = append(r.order, sessionRef{s.Pid, r.seq, at})
	for len(r.sessions) > r.maxSessions {
		r.dropSession()
	}
	r.arm(now)
}

// dropPacket forgets the oldest broadcast. r.mu is held.
func (r *recoveryLog) dropPacket() {
	r.bytes -= r.packets[0].size
	r.packets[0] = recoveryPacket{}
	r.packets = r.packets[1:]
	if len(r.packets) == 0 {
		r.packets = nil // let go of the array
	}
}

// dropSession forgets the oldest session reference, and its session
// unless that was persisted again since. r.mu is held.
func (r *recoveryLog) dropSession() {
	ref := r.order[0]
	r.order = r.order[1:]
	if s, ok := r.sessions[ref.pid]; ok && s.seq == ref.seq {
		delete(r.sessions, ref.pid)
	}
	if len(r.order) == 0 {
		r.order = nil
	}
}

// expire drops the broadcasts and sessions older than maxAge. r.mu is
// held.
func (r *recoveryLog) expire(now time.Time) {
	threshold := now.Add(-r.maxAge).UnixMilli()
	for len(r.packets) > 0 && r.packets[0].EmittedAt < threshold {
		r.dropPacket()
	}
	for len(r.order) > 0 && r.order[0].at < threshold {
		r.dropSession()
	}
}

// arm starts the timer for the oldest entry's expiry unless it runs or
// nothing is kept. r.mu is held.
func (r *recoveryLog) arm(now time.Time) {
	if r.timer != nil {
		return
	}
	oldest := int64(-1)
	if len(r.packets) > 0 {
		oldest = r.packets[0].EmittedAt
	}
	if len(r.order) > 0 && (oldest < 0 || r.order[0].at < oldest) {
		oldest = r.order[0].at
	}
	if oldest < 0 {
		return
	}
	wait := time.UnixMilli(oldest).Add(r.maxAge).Sub(now) + time.Millisecond
	r.timer = time.AfterFunc(max(wait, time.Millisecond), r.tick)
}

// tick is the timer's: expire, then arm for the next oldest entry.
func (r *recoveryLog) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer == nil { // reset meanwhile
		return
	}
	r.timer = nil
	now := r.now()
	r.expire(now)
	r.arm(now)
}

// restore finds a session and the broadcasts after offset that reached
// its rooms; nil when the session is unknown or expired, or the offset is
// no longer kept.
func (r *recoveryLog) restore(pid socket.PrivateSessionId, offset string) *socket.Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sessions[pid]
	if !ok {
		return nil
	}
	if s.DisconnectedAt+r.maxAge.Milliseconds() < r.now().UnixMilli() {
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

// reset forgets everything and stops the timer.
func (r *recoveryLog) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.sessions = map[socket.PrivateSessionId]recoverySession{}
	r.packets, r.order, r.bytes = nil, nil, 0
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
