package redisstreams

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// Restoring reads the stream after the client's offset in pages of
// restorePage entries, at most restorePages of them (Node stops after 100
// reads too: a stream growing faster than it is read must not hold a
// connection forever).
const (
	restorePage  = 1000
	restorePages = 100
)

// offsetPattern is the form of a stream entry id, the only offsets the
// stream can restore from.
var offsetPattern = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// Errors of RestoreSession; the server then starts a new session.
var (
	errBadOffset       = errors.New("invalid offset")
	errSessionNotFound = errors.New("session or offset not found")
)

// recoveryWindow is the connection state recovery window of nsp's
// server in ms (0: recovery off), where sessions live in Redis; it warns
// when opts.SessionRefresh is not shorter, as connected sockets' sessions
// then expire between refreshes.
func recoveryWindow(nsp socket.Namespace, opts Options) int64 {
	csr := nsp.Server().Opts().ConnectionStateRecovery()
	if csr == nil {
		return 0
	}
	ms := max(csr.MaxDisconnectionDuration(), 1)
	if window := time.Duration(ms) * time.Millisecond; opts.SessionRefresh >= window {
		opts.Logger.Warn("the session refresh is not shorter than the recovery window: connected sockets' sessions expire between refreshes",
			"session_refresh", opts.SessionRefresh, "recovery_window", window)
	}
	return ms
}

// PersistSession keeps a disconnected socket's session in Redis for the
// recovery window, where any server of the cluster can restore it:
// SET <prefix><pid> base64(msgpack {sid, pid, rooms, data}) PX <window>,
// as Node's adapter does. The key then stays when the socket leaves its
// rooms (untrack). It does not wait for Redis.
func (a *Adapter) PersistSession(s *socket.SessionToPersist) {
	if a.recovery == 0 || s == nil {
		return
	}
	if live := a.liveSession(s.Sid); live != nil {
		live.persisted.Store(true)
	}
	value, err := encodeSession(s.Sid, s.Pid, s.Rooms, s.Data)
	if err != nil {
		a.c.Log.Warn("encode", "session not persisted", "err", err)
		return
	}
	key, ttl := a.c.opts.SessionKeyPrefix+string(s.Pid), time.Duration(a.recovery)*time.Millisecond
	a.c.Pub.Do(redisbase.Command{Add: func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder {
		return pipe.Set(ctx, key, value, ttl)
	}})
}

// sessionRooms lists the rooms of the socket sid as Node does
// ([...socket.rooms]): its own room first, then the others (sorted: a Go
// set has no order).
func sessionRooms(sid socket.SocketId, set *types.Set[socket.Room]) []any {
	var rooms []string
	own := false
	if set != nil {
		for _, r := range set.Keys() {
			if string(r) == string(sid) {
				own = true
			} else {
				rooms = append(rooms, string(r))
			}
		}
	}
	slices.Sort(rooms)
	out := make([]any, 0, len(rooms)+1)
	if own {
		out = append(out, string(sid))
	}
	for _, r := range rooms {
		out = append(out, r)
	}
	return out
}

// RestoreSession takes the session pid from Redis (GET and DEL: a session
// is restored once) and the broadcasts of the namespace after offset that
// reached its rooms, in stream order, each with its entry id as last
// argument. It fails when the offset is not an entry id, or the session
// or the entry at offset is gone; the server then starts a new session.
func (a *Adapter) RestoreSession(pid socket.PrivateSessionId, offset string) (*socket.Session, error) {
	if a.recovery == 0 {
		return nil, nil
	}
	if !offsetPattern.MatchString(offset) {
		return nil, errBadOffset
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.RequestsTimeout)
	defer cancel()
	key := a.c.opts.SessionKeyPrefix + string(pid)
	var get *redis.StringCmd
	if _, err := a.c.RDB.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		get = pipe.Get(ctx, key)
		pipe.Del(ctx, key)
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("restore session: %w", err)
	}
	at, err := a.c.RDB.XRangeN(ctx, a.c.opts.StreamName, offset, offset, 1).Result()
	if err != nil {
		return nil, fmt.Errorf("restore session: %w", err)
	}
	rawSession, _ := get.Result()
	if rawSession == "" || len(at) == 0 {
		return nil, errSessionNotFound
	}
	session, err := decodeSession(rawSession)
	if err != nil {
		return nil, fmt.Errorf("restore session: %w", err)
	}
	missed, err := a.missedSince(ctx, offset, session.Rooms)
	if err != nil {
		return nil, fmt.Errorf("restore session: %w", err)
	}
	return &socket.Session{SessionToPersist: session, MissedPackets: missed}, nil
}

// missedSince is the data of the broadcasts of this namespace after
// offset that reached a socket in rooms, each with its offset appended.
func (a *Adapter) missedSince(ctx context.Context, offset string, rooms *types.Set[socket.Room]) ([]any, error) {
	missed := []any{}
	for range restorePages {
		entries, err := a.c.RDB.XRangeN(ctx, a.c.opts.StreamName, nextOffset(offset), "+", restorePage).Result()
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			offset = e.ID
			if nsp, _ := e.Values["nsp"].(string); nsp != a.nsp.Name() || e.Values["type"] != "3" {
				continue
			}
			m, err := decodeEntry(e.Values)
			if err != nil {
				a.c.Log.Warn("decode", "malformed stream entry skipped", "id", e.ID, "err", err)
				continue
			}
			p := m.Packet()
			if p == nil || !reaches(rooms, m.Opts()) {
				continue
			}
			data, ok := p.Data.([]any)
			if !ok {
				continue
			}
			missed = append(missed, nodewire.Deliverable(append(data, e.ID), a.Objects))
		}
		if len(entries) < restorePage {
			break
		}
	}
	return missed, nil
}

// encodeSession is a session as Node's adapter keeps it: base64 of the
// msgpack {sid, pid, rooms, data}.
func encodeSession(sid socket.SocketId, pid socket.PrivateSessionId, rooms *types.Set[socket.Room], data any) (string, error) {
	raw, err := nodewire.EncodeMsgpack(nodewire.Obj("sid", string(sid), "pid", string(pid), "rooms", sessionRooms(sid, rooms), "data", data))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// decodeSession reads a session as PersistSession (or Node) wrote it.
func decodeSession(text string) (*socket.SessionToPersist, error) {
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, err
	}
	v, err := nodewire.DecodeMsgpack(raw)
	if err != nil {
		return nil, err
	}
	m := nodewire.AsMap(v)
	sid, _ := m["sid"].(string)
	pid, _ := m["pid"].(string)
	if sid == "" || pid == "" {
		return nil, errors.New("session without sid or pid")
	}
	rooms, _ := m["rooms"].([]any)
	return &socket.SessionToPersist{
		Sid:   socket.SocketId(sid),
		Pid:   socket.PrivateSessionId(pid),
		Rooms: types.NewSet(nodewire.ToRooms(nodewire.RoomsOf(rooms))...),
		Data:  m["data"],
	}, nil
}

// nextOffset is the smallest entry id after offset (exclusive ranges
// need Redis 6.2; Node computes it the same way).
func nextOffset(offset string) string {
	ms, seq, _ := strings.Cut(offset, "-")
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return offset
	}
	return ms + "-" + strconv.FormatUint(n+1, 10)
}

// reaches reports whether a broadcast with opts reached a socket in
// rooms, as Node's shouldIncludePacket: to all or to one of its rooms,
// and none of its rooms excepted.
func reaches(rooms *types.Set[socket.Room], opts *socket.BroadcastOptions) bool {
	included := opts.Rooms.Len() == 0
	for _, r := range rooms.Keys() {
		if opts.Except.Has(r) {
			return false
		}
		included = included || opts.Rooms.Has(r)
	}
	return included
}
