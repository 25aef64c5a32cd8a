package redisstreams

import (
	"context"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/redisbase"
)

// Live sessions: Node's adapter writes a socket's session only when its
// connection drops (PersistSession), so a process that dies without a
// goodbye (SIGKILL, a crash, the OOM killer) leaves its clients nothing to
// restore. Here, while a socket is connected its session is also kept
// under the same key, in the same encoding, with the recovery window as
// TTL: written when it connects, rewritten when its rooms change, and
// refreshed for every connected socket by one pipelined pass per
// Options.SessionRefresh. Its data is read at each write: a change of
// socket.data that is not followed by a room change reaches Redis at the
// next refresh, so a kill loses what changed since. A disconnect the
// library persists keeps PersistSession's final write; any other deletes
// the key, so an intentional disconnect cannot be restored.

// sessionSource is what a live session is read from: a *socket.Socket
// (an interface so the refresh can be measured on fake sockets).
type sessionSource interface {
	Id() socket.SocketId
	Rooms() *types.Set[socket.Room]
	Data() any
}

// liveSession is a connected socket whose session is kept in Redis.
type liveSession struct {
	src sessionSource
	pid socket.PrivateSessionId
	key string
	ttl time.Duration

	// queued: a write of this session waits in the publisher's queue and
	// will read the socket's state when it is sent, so further changes
	// need no other.
	queued atomic.Bool
	// persisted: PersistSession has queued the final state; the key
	// stays when the socket leaves.
	persisted atomic.Bool
	// gone: the socket has left its rooms (DelAll); no write reads its
	// state any more.
	gone atomic.Bool
}

// refreshChunk is how many sessions one command of a refresh pass
// writes: the pass waits for each chunk, so broadcasts queued meanwhile
// wait for at most one chunk's encoding and pipeline.
const refreshChunk = 256

// AddAll adds the socket id to rooms, and keeps its session in Redis
// from its connect on (its own room is the first it joins then).
func (a *Adapter) AddAll(id socket.SocketId, rooms *types.Set[socket.Room]) {
	a.Adapter.AddAll(id, rooms)
	if a.recovery > 0 {
		a.track(id)
	}
}

// Del removes the socket id from room, and rewrites its session.
func (a *Adapter) Del(id socket.SocketId, room socket.Room) {
	a.Adapter.Del(id, room)
	if s := a.liveSession(id); s != nil {
		a.writeLive(s)
	}
}

// DelAll removes the socket id from every room: it is leaving (the
// library's cleanup after a disconnect, or a failed connect).
func (a *Adapter) DelAll(id socket.SocketId) {
	a.untrack(id)
	a.Adapter.DelAll(id)
}

// track starts keeping the session of the socket id, once it is
// connected (the rooms a restored socket rejoins before its connect are
// written with it), and queues a write of its current state.
func (a *Adapter) track(id socket.SocketId) {
	a.liveMu.Lock()
	s := a.live[id]
	a.liveMu.Unlock()
	if s == nil {
		sock, ok := a.nsp.Sockets().Load(id)
		// A client of protocol 3 (Socket.IO 2.x) gets no pid and cannot
		// recover: nothing to keep.
		if !ok || !sock.Connected() || sock.Conn().Protocol() == 3 {
			return
		}
		pid := socketPid(sock)
		if pid == "" {
			a.c.Log.Warn("pid", "cannot read a socket's private session id: sessions are written at disconnect only, as with Node's adapter")
			return
		}
		s = a.newLive(sock, pid)
		a.liveMu.Lock()
		if cur := a.live[id]; cur != nil {
			s = cur
		} else {
			a.live[id] = s
		}
		a.liveMu.Unlock()
	}
	a.writeLive(s)
}

func (a *Adapter) newLive(src sessionSource, pid socket.PrivateSessionId) *liveSession {
	return &liveSession{src: src, pid: pid, key: a.c.opts.SessionKeyPrefix + string(pid), ttl: time.Duration(a.recovery) * time.Millisecond}
}

// liveSession is the kept session of the socket id, or nil.
func (a *Adapter) liveSession(id socket.SocketId) *liveSession {
	a.liveMu.Lock()
	defer a.liveMu.Unlock()
	return a.live[id]
}

// untrack stops keeping the session of a socket that leaves, and deletes
// its key unless PersistSession has just written its final state.
func (a *Adapter) untrack(id socket.SocketId) {
	a.liveMu.Lock()
	s := a.live[id]
	delete(a.live, id)
	a.liveMu.Unlock()
	if s == nil {
		return
	}
	// Before the rooms are left: a write that reads them after this
	// sees gone and is not sent (writeCommand).
	s.gone.Store(true)
	if s.persisted.Load() {
		return
	}
	a.c.Pub.Do(redisbase.Command{Add: func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder {
		return pipe.Del(ctx, s.key)
	}})
}

// writeLive queues a write of s, unless one is queued already.
func (a *Adapter) writeLive(s *liveSession) {
	if s.queued.Swap(true) {
		return
	}
	ok := a.c.Pub.Do(redisbase.Command{Add: func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder {
		s.queued.Store(false)
		if cmd := a.c.setLive(ctx, pipe, s); cmd != nil {
			return cmd
		}
		return skipped(ctx)
	}})
	if !ok {
		s.queued.Store(false)
	}
}

// setLive puts SET <key> <session> PX <ttl> on pipe, with the socket's
// state as it is now; nil if the socket has left or its state does not
// encode. It runs on the publisher's goroutine, in queue order, so a
// write queued before the socket left is sent before its DEL, and one
// that reads the state after DelAll began (rooms half left) is dropped.
func (c *Cluster) setLive(ctx context.Context, pipe redis.Pipeliner, s *liveSession) redis.Cmder {
	if s.gone.Load() {
		return nil
	}
	value, err := encodeSession(s.src.Id(), s.pid, s.src.Rooms(), s.src.Data())
	if err != nil {
		c.Log.Warn("encode", "session not kept in Redis", "err", err)
		return nil
	}
	if s.gone.Load() {
		return nil
	}
	return pipe.Set(ctx, s.key, value, s.ttl)
}

// skipped is the answer of a command that had nothing to send: it is not
// on the pipeline and has no error.
func skipped(ctx context.Context) redis.Cmder { return redis.NewStatusCmd(ctx) }

// liveSessions is a snapshot of the sessions kept.
func (a *Adapter) liveSessions() []*liveSession {
	a.liveMu.Lock()
	defer a.liveMu.Unlock()
	out := make([]*liveSession, 0, len(a.live))
	for _, s := range a.live {
		out = append(out, s)
	}
	return out
}

// socketPid is a socket's private session id, the key of its session in
// Redis, or "" if it cannot be read. The library (servers/socket/v3
// v3.0.6) keeps it in the unexported string field Socket.pid and offers no
// accessor, though it sends it to the client in the CONNECT packet; this
// reads that field (reflect's String reads an unexported field; nothing
// is written). TestSocketPidField fails if a new version renames it.
func socketPid(s *socket.Socket) socket.PrivateSessionId {
	if s == nil {
		return ""
	}
	f := reflect.ValueOf(s).Elem().FieldByName("pid")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return socket.PrivateSessionId(f.String())
}
