package redisstreams

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
	"feedrt/store/storetest"
)

// manualTicker makes the session refresh of a cluster built with opts
// tick when the test sends on the channel returned.
func manualTicker(opts *Options) chan<- time.Time {
	ch := make(chan time.Time)
	opts.Ticker = func(time.Duration) (<-chan time.Time, func()) { return ch, func() {} }
	return ch
}

// readSession reads the session kept at key as a server restoring it
// would, with its remaining TTL.
func readSession(t *testing.T, rdb *redis.Client, key string) (*socket.SessionToPersist, error) {
	t.Helper()
	v, err := rdb.Get(t.Context(), key).Result()
	if err != nil {
		return nil, err
	}
	return decodeSession(v)
}

// flush waits until the commands c has queued so far are sent.
func flush(t *testing.T, c *Cluster) {
	t.Helper()
	sent := make(chan struct{})
	if !c.Pub.Do(redisbase.Command{
		Add:  func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder { return pipe.Ping(ctx) },
		Done: func(redis.Cmder) { close(sent) },
	}) {
		t.Fatal("publisher refused a command")
	}
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("queued commands not sent within 10 s")
	}
}

// serverSocket is the socket of the client c on n.
func serverSocket(t *testing.T, n *node, c *client) *socket.Socket {
	t.Helper()
	s, ok := n.io.Sockets().Sockets().Load(socket.SocketId(c.sid))
	if !ok {
		t.Fatalf("socket %s not on the server", c.sid)
	}
	return s
}

// TestSocketPidField fails loudly if the library no longer keeps a
// socket's private session id in the unexported string field pid
// (socketPid reads it; servers/socket/v3 v3.0.6).
func TestSocketPidField(t *testing.T) {
	f, ok := reflect.TypeFor[socket.Socket]().FieldByName("pid")
	if !ok || f.Type.Kind() != reflect.String {
		t.Fatalf("socket.Socket has no string field pid (found %v, %v): the library changed; "+
			"update socketPid or the connected sockets' sessions are no longer kept in Redis", ok, f.Type)
	}
	if got := socketPid(nil); got != "" {
		t.Errorf("socketPid(nil) = %q", got)
	}
}

// TestLiveSessionLifecycle: a connected socket's session is in Redis
// under the key of the pid its client got (CONNECT), with the recovery
// window as TTL; it is rewritten when the socket joins or leaves a room,
// and refreshed (TTL and current data) at each tick of the refresh; a
// drop the library persists leaves its final state there.
func TestLiveSessionLifecycle(t *testing.T) {
	url := redisURL(t)
	opts := testOptions(t, url)
	tick := manualTicker(&opts)
	a := mustNode(t, url, opts)
	rdb := mustRedis(t, url)
	window := testRecoveryWindow

	c := connect(t, a, "")
	key := opts.SessionKeyPrefix + c.pid
	storetest.WaitFor(t, "the session written at connect", func() bool {
		s, err := readSession(t, rdb, key)
		return err == nil && s.Sid == socket.SocketId(c.sid) && s.Pid == socket.PrivateSessionId(c.pid) && s.Rooms.Len() == 1 && s.Rooms.Has(socket.Room(c.sid))
	})
	if ttl := rdb.PTTL(t.Context(), key).Val(); ttl <= window-10*time.Second || ttl > window {
		t.Errorf("TTL %v, want about the recovery window %v", ttl, window)
	}

	sock := serverSocket(t, a, c)
	sock.Join("red", "blue")
	storetest.WaitFor(t, "the session rewritten on join", func() bool {
		s, err := readSession(t, rdb, key)
		return err == nil && s.Rooms.Has("red") && s.Rooms.Has("blue")
	})
	sock.Leave("blue")
	storetest.WaitFor(t, "the session rewritten on leave", func() bool {
		s, err := readSession(t, rdb, key)
		return err == nil && s.Rooms.Has("red") && !s.Rooms.Has("blue")
	})

	// Data changes reach Redis with the next refresh, which also renews
	// the TTL.
	sock.SetData(map[string]any{"user": "u1"})
	if err := rdb.PExpire(t.Context(), key, 5*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	tick <- time.Now()
	storetest.WaitFor(t, "the session refreshed", func() bool {
		s, err := readSession(t, rdb, key)
		return err == nil && nodewire.AsMap(s.Data)["user"] == "u1" && rdb.PTTL(t.Context(), key).Val() > 5*time.Second
	})

	// A transport close is recoverable: the library persists the final
	// state, and the key stays when the socket leaves.
	c.Close()
	storetest.WaitFor(t, "the socket to leave", func() bool {
		_, ok := a.io.Sockets().Sockets().Load(socket.SocketId(c.sid))
		return !ok
	})
	flush(t, a.c)
	s, err := readSession(t, rdb, key)
	if err != nil || !s.Rooms.Has("red") || nodewire.AsMap(s.Data)["user"] != "u1" {
		t.Fatalf("after a transport close: %+v, %v; want the final state kept", s, err)
	}
	if ttl := rdb.PTTL(t.Context(), key).Val(); ttl <= window-10*time.Second {
		t.Errorf("final TTL %v, want about %v", ttl, window)
	}
	if n := len(a.c.adapter("/").liveSessions()); n != 0 {
		t.Errorf("%d sessions still kept live after the disconnect", n)
	}
}

// TestLiveSessionDeletedOnIntentionalDisconnect: a disconnect the library
// does not persist (the client's namespace disconnect, the server's
// socket.disconnect()) deletes the key, so nobody can restore it.
func TestLiveSessionDeletedOnIntentionalDisconnect(t *testing.T) {
	url := redisURL(t)
	opts := testOptions(t, url)
	a := mustNode(t, url, opts)
	rdb := mustRedis(t, url)
	for name, disconnect := range map[string]func(c *client){
		"client namespace disconnect": func(c *client) { c.Send("41") },
		"server namespace disconnect": func(c *client) { serverSocket(t, a, c).Disconnect(false) },
	} {
		t.Run(name, func(t *testing.T) {
			c := connect(t, a, "")
			defer c.Close()
			key := opts.SessionKeyPrefix + c.pid
			storetest.WaitFor(t, "the session written at connect", func() bool { return rdb.Exists(t.Context(), key).Val() == 1 })
			disconnect(c)
			storetest.WaitFor(t, "the session deleted", func() bool { return rdb.Exists(t.Context(), key).Val() == 0 })
			// And nothing writes it back.
			flush(t, a.c)
			if rdb.Exists(t.Context(), key).Val() != 0 {
				t.Error("session written again after the disconnect")
			}
		})
	}
}

// TestRestoreFromLiveSession: what a killed process leaves (the session
// of a socket still connected there, as far as Redis knows) is restored
// by another server, rooms and data included, and kept live there.
func TestRestoreFromLiveSession(t *testing.T) {
	url := redisURL(t)
	opts := testOptions(t, url)
	tick := manualTicker(&opts)
	a, b := mustNode(t, url, opts), mustNode(t, url, opts)
	waitServers(t, a, 2)
	rdb := mustRedis(t, url)
	ca := connect(t, a, "")
	sock := serverSocket(t, a, ca)
	sock.Join("red")
	sock.SetData("d1")
	tick <- time.Now()
	key := opts.SessionKeyPrefix + ca.pid
	storetest.WaitFor(t, "the session with its rooms and data", func() bool {
		s, err := readSession(t, rdb, key)
		return err == nil && s.Rooms.Has("red") && s.Data == "d1"
	})
	_ = b.io.Emit("first", 0)
	first := ca.event(t)
	_ = b.io.To("red").Emit("missed", 1)
	_ = b.io.To("blue").Emit("blue", 2)
	waitStreamLen(t, rdb, opts.StreamName, 3) // first and these two

	// A is not told: its socket stays, as if A had been killed.
	cb := connect(t, b, fmt.Sprintf(`{"pid":%q,"offset":%q}`, ca.pid, first[len(first)-1]))
	if cb.sid != ca.sid {
		t.Fatalf("restored sid %q, want %q", cb.sid, ca.sid)
	}
	if got := names(t, cb.event(t)); !reflect.DeepEqual(got, []string{"missed:1"}) {
		t.Errorf("missed %v", got)
	}
	restored := serverSocket(t, b, cb)
	if !restored.Recovered() || !restored.Rooms().Has("red") || restored.Data() != "d1" {
		t.Errorf("restored socket: recovered %v, rooms %v, data %v", restored.Recovered(), restored.Rooms().Keys(), restored.Data())
	}
	storetest.WaitFor(t, "B to keep the restored session", func() bool {
		s, err := readSession(t, rdb, key)
		return err == nil && s.Sid == socket.SocketId(ca.sid) && s.Rooms.Has("red")
	})
}

// TestLiveSessionsRedisDown: while Redis is down the refresh's writes are
// dropped and counted, and the first refresh after it is back writes
// every connected socket's session again.
func TestLiveSessionsRedisDown(t *testing.T) {
	r := startPrivateRedis(t)
	opts := testOptions(t, r.URL())
	opts.CommandTimeout = 300 * time.Millisecond
	tick := manualTicker(&opts)
	a := mustNode(t, r.URL(), opts)
	rdb := mustRedis(t, r.URL())
	var keys []string
	for range 3 {
		c := connect(t, a, "")
		keys = append(keys, opts.SessionKeyPrefix+c.pid)
	}
	storetest.WaitFor(t, "the sessions written at connect", func() bool { return rdb.Exists(t.Context(), keys...).Val() == 3 })

	r.Stop()
	before := a.c.Dropped()
	tick <- time.Now()
	storetest.WaitFor(t, "the refresh's writes counted as dropped", func() bool { return a.c.Dropped() >= before+3 })

	r.Start()
	if err := rdb.Del(t.Context(), keys...).Err(); err != nil {
		t.Fatal(err)
	}
	tick <- time.Now()
	storetest.WaitFor(t, "the sessions written again", func() bool { return rdb.Exists(t.Context(), keys...).Val() == 3 })
}
