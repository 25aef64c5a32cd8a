package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisadapter"
	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// TestClusterPosts: with two servers on one Redis, clients of server A
// get the `posts` events of a post created through server B's REST API,
// once each, with B's payload; B's own clients get it once too.
func TestClusterPosts(t *testing.T) {
	a, b := mustGoPair(t)

	watchers := append(mustWatchers(t, a.url), servertest.Connected(servertest.MustNodeClient(t, map[string]any{"url": b.url, "version": 4}))...)
	api, _ := mustUser(t, b.url, "bea@example.com", "Bea")
	post := api.mustCreatePost("Made on B", "for A's clients", 5)["post"].(map[string]any)
	updated := editThenDelete(t, api, post, "Edited on B", "still for A")
	checkLifecycle(t, watchers, post, updated)
	// Exactly once: a marker from B is the next event everywhere (the 2.x
	// harness listens to a few event names only, "news" among them).
	_ = b.srv.SocketIO().Emit("news")
	for i, w := range watchers {
		if names := eventsUntil(t, w, "news"); len(names) != 0 {
			t.Errorf("watcher %d got extra events %v", i, names)
		}
	}
}

// TestClusterRoomsAndExcept: broadcasts to rooms, with except, and to one
// socket reach exactly the matching sockets of both servers.
func TestClusterRoomsAndExcept(t *testing.T) {
	a, b := mustGoPair(t)
	ioA, ioB := a.srv.SocketIO(), b.srv.SocketIO()

	a1, a1id := connectNode(t, a.url, "websocket")
	a2, a2id := connectNode(t, a.url, "polling")
	b1, b1id := connectNode(t, b.url, "websocket")
	b2, b2id := connectNode(t, b.url)
	joinLocal(t, ioA, a1id, "red")
	joinLocal(t, ioA, a2id, "blue")
	joinLocal(t, ioB, b1id, "red")
	joinLocal(t, ioB, b2id, "red", "vip")
	clients := map[string]*servertest.NodeClient{"a1": a1, "a2": a2, "b1": b1, "b2": b2}

	check := func(from *socket.Server, emits func(), want map[string][]string) {
		t.Helper()
		emits()
		from.Emit("end") // same server, same order: after the others everywhere
		for name, c := range clients {
			if got := eventsUntil(t, c, "end"); fmt.Sprint(got) != fmt.Sprint(want[name]) {
				t.Errorf("%s got %v, want %v", name, got, want[name])
			}
		}
	}
	check(ioA, func() {
		_ = ioA.To("red").Emit("red")                   // one room: its own channel
		_ = ioA.To("red", "blue").Emit("red+blue")      // several: the namespace channel
		_ = ioA.To("red").Except("vip").Emit("red-vip") // except a room on the other server
		_ = ioA.Except("red").Emit("not-red")           // everyone but a room
		_ = ioA.To(socket.Room(b1id)).Emit("to-b1")     // one socket of the other server
		_ = ioA.To("nobody-here").Emit("empty-room")    // a room no one is in
		_ = ioA.Local().Emit("local-only")              // this server only
		_ = ioA.To("blue").Except(socket.Room(a2id)).Emit("none")
	}, map[string][]string{
		"a1": {"local-only", "red", "red+blue", "red-vip"},
		"a2": {"local-only", "not-red", "red+blue"},
		"b1": {"red", "red+blue", "red-vip", "to-b1"},
		"b2": {"red", "red+blue"},
	})
	check(ioB, func() {
		_ = ioB.To("vip").Emit("vip")
		_ = ioB.Except("blue").Except("vip").Emit("not-blue-vip")
		_ = ioB.To(socket.Room(a2id)).Emit("to-a2")
	}, map[string][]string{
		"a1": {"not-blue-vip"},
		"a2": {"to-a2"},
		"b1": {"not-blue-vip"},
		"b2": {"vip"},
	})
}

// TestClusterFetchSockets: fetchSockets on one server lists the sockets
// of both, with their rooms and data, and a fetched remote socket can be
// sent to, moved between rooms and disconnected.
func TestClusterFetchSockets(t *testing.T) {
	p := mustPairSockets(t)
	joinLocal(t, p.ioA, p.a1id, "red")
	joinLocal(t, p.ioB, p.b1id, "red")
	if s, ok := p.ioB.Sockets().Sockets().Load(p.b1id); ok {
		s.SetData(map[string]any{"user": "bea", "n": 1})
	}

	all := socketIDs(fetchAll(t, p.ioA.FetchSockets()))
	want := []string{fmt.Sprintf("%s[red]", p.a1id), fmt.Sprintf("%s[red]", p.b1id), fmt.Sprintf("%s[]", p.b2id)}
	slices.Sort(want)
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("fetchSockets from A: %v, want %v", all, want)
	}
	red := fetchAll(t, p.ioA.In("red").Except(socket.Room(p.a1id)).FetchSockets())
	if len(red) != 1 || red[0].Id() != p.b1id {
		t.Fatalf("fetchSockets in red except a1: %v", socketIDs(red))
	}
	remote := red[0]
	if d, _ := json.Marshal(remote.Data()); string(d) != `{"n":1,"user":"bea"}` {
		t.Errorf("remote data %s", d)
	}
	if hs := remote.Handshake(); hs == nil || hs.Url == "" || hs.Headers == nil {
		t.Errorf("remote handshake %+v", hs)
	}
	if got := len(fetchAll(t, p.ioA.Local().FetchSockets())); got != 1 {
		t.Errorf("local fetchSockets: %d sockets", got)
	}

	if err := remote.Emit("direct", "hi"); err != nil {
		t.Fatal(err)
	}
	if got := waitEvent(t, p.b1, "direct").Args; len(got) != 1 || string(got[0]) != `"hi"` {
		t.Errorf("direct emit: %s", got)
	}
	remote.Join("green")
	storetest.WaitFor(t, "b1 in green", func() bool { return inRoom(p.ioB, p.b1id, "green") })
	remote.Leave("red")
	storetest.WaitFor(t, "b1 out of red", func() bool { return !inRoom(p.ioB, p.b1id, "red") })
	remote.Disconnect(true) // true: the connection is closed too
	if m := p.b1.Next(10*time.Second, "disconnect"); m.Reason != "io server disconnect" && m.Reason != "transport close" {
		t.Errorf("b1 disconnect reason %q", m.Reason)
	}

	ad := p.ioA.Sockets().Adapter().(*redisadapter.Adapter)
	ids, err := ad.AllSockets()
	if err != nil || ids.Len() != 2 || !ids.Has(p.a1id) || !ids.Has(p.b2id) {
		t.Errorf("AllSockets: %v %v", ids.Keys(), err)
	}
	rooms, err := ad.AllRooms()
	if err != nil || !rooms.Has("red") || !rooms.Has(socket.Room(p.b2id)) {
		t.Errorf("AllRooms: %v %v", rooms.Keys(), err)
	}
}

// TestClusterSocketsJoinLeaveDisconnect: socketsJoin, socketsLeave and
// disconnectSockets called on one server act on the sockets of both.
func TestClusterSocketsJoinLeaveDisconnect(t *testing.T) {
	p := mustPairSockets(t)
	joinLocal(t, p.ioB, p.b2id, "vip")

	p.ioA.Except("vip").SocketsJoin("team")
	storetest.WaitFor(t, "a1 and b1 in team", func() bool { return inRoom(p.ioA, p.a1id, "team") && inRoom(p.ioB, p.b1id, "team") })
	if inRoom(p.ioB, p.b2id, "team") {
		t.Error("b2 (vip) joined team")
	}
	p.ioB.In("team").SocketsLeave("team")
	storetest.WaitFor(t, "team empty", func() bool { return !inRoom(p.ioA, p.a1id, "team") && !inRoom(p.ioB, p.b1id, "team") })

	p.ioA.In("vip").DisconnectSockets(false)
	if m := p.b2.Next(10*time.Second, "disconnect"); m.Reason != "io server disconnect" {
		t.Errorf("b2 disconnect reason %q", m.Reason)
	}
	p.ioA.Emit("still-here")
	waitEvent(t, p.a1, "still-here")
	waitEvent(t, p.b1, "still-here")
}

// TestClusterServerSideEmit: serverSideEmit reaches the other server's
// listeners (not the sender's), and with an acknowledgement the sender
// gets the other server's answer.
func TestClusterServerSideEmit(t *testing.T) {
	a, b := mustGoPair(t)
	ioA, ioB := a.srv.SocketIO(), b.srv.SocketIO()

	var mu sync.Mutex
	var onA []string
	got := make(chan []any, 4)
	_ = ioA.On("hello", func(args ...any) { mu.Lock(); onA = append(onA, fmt.Sprint(args)); mu.Unlock() })
	_ = ioB.On("hello", func(args ...any) { got <- args })
	_ = ioB.On("question", acked(func(args []any) []any { return []any{map[string]any{"answer": args[0]}} }))

	if err := ioA.ServerSideEmit("hello", "world", 42.0); err != nil {
		t.Fatal(err)
	}
	select {
	case args := <-got:
		if fmt.Sprint(args) != "[world 42]" {
			t.Errorf("B got %v", args)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serverSideEmit did not reach B")
	}

	answer := newAck()
	if err := ioA.ServerSideEmitWithAck("question", "q1")(answer.callback); err != nil {
		t.Fatal(err)
	}
	if raw, _ := json.Marshal(answer.wait(t, "serverSideEmit ack", 10*time.Second)); string(raw) != `[{"answer":"q1"}]` {
		t.Errorf("answers %s", raw)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(onA) != 0 {
		t.Errorf("the sender got its own server-side event: %v", onA)
	}
}

// TestClusterBroadcastWithAck: an emit with acknowledgements collects the
// answers of the clients of both servers.
func TestClusterBroadcastWithAck(t *testing.T) {
	a, b := mustGoPair(t)
	for i, env := range []*testEnv{a, b, b} {
		rawAcker(t, env.url, fmt.Sprintf("client %d", i))
	}
	storetest.WaitFor(t, "1 socket on A, 2 on B", func() bool {
		return a.srv.SocketIO().Sockets().Sockets().Len() == 1 && b.srv.SocketIO().Sockets().Sockets().Len() == 2
	})
	answer := newAck()
	a.srv.SocketIO().Timeout(5*time.Second).EmitWithAck("ask", "?")(answer.callback)
	args := answer.wait(t, "emitWithAck", 10*time.Second)
	got := fmt.Sprint(args)
	for i := range 3 {
		if !strings.Contains(got, fmt.Sprintf("client %d", i)) {
			t.Errorf("answers %v lack client %d (sockets: %d on A, %d on B)", args, i,
				a.srv.SocketIO().Sockets().Sockets().Len(), b.srv.SocketIO().Sockets().Sockets().Len())
		}
	}
}

// inRoom reports whether a local socket is in room.
func inRoom(io *socket.Server, id socket.SocketId, room socket.Room) bool {
	s, ok := io.Sockets().Sockets().Load(id)
	return ok && s.Rooms().Has(room)
}

// TestClusterConfig: REDIS_URL and REDIS_KEY_PREFIX are read, a URL that
// is no Redis URL stops the start, and the password never reaches the log.
func TestClusterConfig(t *testing.T) {
	c, err := loadEnv(map[string]string{"REDIS_URL": "redis://:s3cretpass@redis:6379/2", "REDIS_KEY_PREFIX": "feed"})
	if err != nil || c.Redis.URL != "redis://:s3cretpass@redis:6379/2" || c.Redis.KeyPrefix != "feed" {
		t.Errorf("config %+v, %v", c, err)
	}
	logged := configLog(c)
	if strings.Contains(logged, "s3cretpass") || !strings.Contains(logged, "redis_key_prefix=feed") {
		t.Errorf("log: %s", logged)
	}
	if c, _ := loadEnv(nil); c.Redis.URL != "" || c.Redis.KeyPrefix != "socket.io" {
		t.Errorf("defaults: %q %q", c.Redis.URL, c.Redis.KeyPrefix)
	}
	if _, err := loadEnv(map[string]string{"REDIS_URL": "http://redis:6379"}); err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("bad REDIS_URL: %v", err)
	}
}

// TestClusterRecovery: connection state recovery keeps working with the
// Redis adapter: a client of A that drops and comes back to A gets its
// session back and the events B sent while it was away.
func TestClusterRecovery(t *testing.T) {
	a, b := mustGoPair(t)
	c := servertest.MustNodeClient(t, map[string]any{"url": a.url, "version": 4, "transports": []string{"websocket"}})
	first := c.MustConnect()
	api, _ := mustUser(t, b.url, "rita@example.com", "Rita")
	post := func(title string) { t.Helper(); api.mustCreatePost(title, "recovery", 8) }
	post("Seen post")
	waitEvent(t, c, "posts") // recovery resumes after the last event received

	c.Send(map[string]any{"op": "drop", "ms": 1500})
	c.Next(5*time.Second, "disconnect")
	storetest.WaitFor(t, "A to see the drop", func() bool { return a.srv.SocketIO().Sockets().Sockets().Len() == 0 })
	post("Missed post 1")
	post("Missed post 2")

	again := c.MustConnect()
	if !again.Recovered || again.ID != first.ID {
		t.Errorf("reconnect: recovered=%v id %v (was %v)", again.Recovered, again.ID, first.ID)
	}
	for _, title := range []string{"Missed post 1", "Missed post 2"} {
		ev := decodeArg(t, waitEvent(t, c, "posts").Args[0])
		if p, _ := ev["post"].(map[string]any); p["title"] != title {
			t.Errorf("missed event %v, want %q", ev, title)
		}
	}
}
