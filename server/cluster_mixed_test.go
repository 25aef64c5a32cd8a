package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// Mixed clusters: a Node server (socket.io 4.8.4 on
// @socket.io/redis-adapter 8.3.0 or @socket.io/redis-streams-adapter
// 0.3.1, testdata/noderedis) and a Go server on one Redis, as during a
// migration. mixedRooms is the scenario every adapter runs (pub/sub here,
// streams below, sharded in cluster_sharded_test.go); the streams
// adapter's tests of recovery between Go and Node follow it, in the same
// file (past the usual 300 lines) because they use the same helpers as
// the scenario. The exact bytes Go and Node write are
// cluster_exact_test.go's concern.

// TestMixedCluster: on the pub/sub adapter, the mixed cluster's rooms
// and management scenario (mixedRooms); Node's allRooms (which only the
// pub/sub adapter answers across servers) lists a room of Go's alone.
func TestMixedCluster(t *testing.T) {
	node, g := mustNodeAndGo(t)
	m := mustMixedRooms(t, node, g)
	m.checkBroadcasts(t)
	m.checkManagement(t)
	if rooms := node.call(map[string]any{"op": "allRooms"}); !strings.Contains(string(rooms), `"ackers"`) {
		t.Errorf("Node's allRooms lacks the Go server's room ackers: %s", rooms)
	}
}

// mixedRooms is two clients of a Node server and two of a Go server of
// one cluster, in rooms: n1 in red, n2 in red and vip, g1 in red, g2
// (over polling) in vip.
type mixedRooms struct {
	node                   *nodeServer
	g                      *testEnv
	io                     *socket.Server
	clients                map[string]*servertest.NodeClient
	n1id, n2id, g1id, g2id socket.SocketId
}

func mustMixedRooms(t *testing.T, node *nodeServer, g *testEnv) *mixedRooms {
	t.Helper()
	m := &mixedRooms{node: node, g: g, io: g.srv.SocketIO(), clients: map[string]*servertest.NodeClient{}}
	m.clients["n1"], m.n1id = connectNode(t, node.url, "websocket")
	m.clients["n2"], m.n2id = connectNode(t, node.url, "websocket")
	m.clients["g1"], m.g1id = connectNode(t, g.url, "websocket")
	m.clients["g2"], m.g2id = connectNode(t, g.url, "polling")
	node.call(map[string]any{"op": "join", "sid": m.n1id, "rooms": []string{"red"}})
	node.call(map[string]any{"op": "join", "sid": m.n2id, "rooms": []string{"red", "vip"}})
	joinLocal(t, m.io, m.g1id, "red")
	joinLocal(t, m.io, m.g2id, "vip")
	return m
}

// checkBroadcasts: Node's broadcasts, then Go's, to a room, to a room
// except another, to all except a room, to two rooms and to a socket of
// the other server reach exactly the matching clients of both servers.
func (m *mixedRooms) checkBroadcasts(t *testing.T) {
	t.Helper()
	collect := func(from string, want map[string][]string) {
		t.Helper()
		for name, c := range m.clients {
			if got := eventsUntilAll(t, c, "end", want[name]); fmt.Sprint(got) != fmt.Sprint(want[name]) {
				t.Errorf("from %s: %s got %v, want %v", from, name, got, want[name])
			}
		}
	}
	emit := func(ev string, rooms, except []string) {
		m.node.Send(map[string]any{"op": "emit", "event": ev, "args": []any{1}, "rooms": rooms, "except": except})
	}
	emit("red", []string{"red"}, nil)
	emit("red-vip", []string{"red"}, []string{"vip"})
	emit("not-red", nil, []string{"red"})
	emit("vip+red", []string{"vip", "red"}, nil)
	emit("to-g2", []string{string(m.g2id)}, nil)
	emit("end", nil, nil)
	collect("Node", map[string][]string{
		"n1": {"red", "red-vip", "vip+red"},
		"n2": {"red", "vip+red"},
		"g1": {"red", "red-vip", "vip+red"},
		"g2": {"not-red", "to-g2", "vip+red"},
	})

	io := m.io
	_ = io.To("vip").Emit("vip", 1)
	_ = io.To("red").Except("vip").Emit("red-vip", 1)
	_ = io.Except("red").Emit("not-red", 1)
	_ = io.To(socket.Room(m.n1id)).Emit("to-n1", 1)
	_ = io.Emit("end")
	collect("Go", map[string][]string{
		"n1": {"red-vip", "to-n1"},
		"n2": {"vip"},
		"g1": {"red-vip"},
		"g2": {"not-red", "vip"},
	})
}

// checkManagement: between the Node and the Go server, both ways,
// fetchSockets (ids, rooms, data in the sender's key order, handshake),
// serverSideEmit with and without acknowledgements (arguments and
// answers in the sender's key order), socketsJoin and socketsLeave; a
// broadcast with acknowledgements from Node collects a Go client's
// answer; disconnectSockets from Go closes a Node socket. Last of the
// scenario: n1 is gone after it.
func (m *mixedRooms) checkManagement(t *testing.T) {
	t.Helper()
	node, io := m.node, m.io
	if s, ok := io.Sockets().Sockets().Load(m.g1id); ok {
		s.SetData(ordered{"go", 1, []any{true}})
	}

	// fetchSockets from Go sees Node's sockets, with their data and
	// handshake...
	fetched := fetchAll(t, io.In("red", "vip").FetchSockets())
	want := []string{fmt.Sprintf("%s[red]", m.n1id), fmt.Sprintf("%s[red vip]", m.n2id), fmt.Sprintf("%s[red]", m.g1id), fmt.Sprintf("%s[vip]", m.g2id)}
	slices.Sort(want)
	if got := socketIDs(fetched); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fetchSockets from Go: %v, want %v", got, want)
	}
	for _, s := range fetched {
		if s.Id() == m.n1id {
			if d := string(mustJSON(s.Data())); d != `{"server":"node","n":1}` {
				t.Errorf("Node socket's data as Go fetched it: %s", d)
			}
			if hs := s.Handshake(); hs == nil || !strings.HasPrefix(hs.Url, "/socket.io/") {
				t.Errorf("Node socket's handshake as Go fetched it: %+v", hs)
			}
		}
	}
	// ... and Node's, Go's.
	var fromNode []struct {
		ID        string          `json:"id"`
		Rooms     []string        `json:"rooms"`
		Data      json.RawMessage `json:"data"`
		Handshake struct {
			Headers map[string]any `json:"headers"`
			Query   map[string]any `json:"query"`
			Auth    map[string]any `json:"auth"`
		} `json:"handshake"`
	}
	if err := json.Unmarshal(node.call(map[string]any{"op": "fetchSockets", "rooms": []string{"red"}}), &fromNode); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range fromNode {
		ids = append(ids, s.ID)
		if s.ID != string(m.g1id) {
			continue
		}
		slices.Sort(s.Rooms) // Node lists a socket's own room first; Go, in no order
		wantRooms := []string{string(m.g1id), "red"}
		slices.Sort(wantRooms)
		if !slices.Equal(s.Rooms, wantRooms) || string(s.Data) != `{"zeta":"go","alpha":1,"mid":[true]}` {
			t.Errorf("Go socket as Node fetched it: rooms %v, data %s", s.Rooms, s.Data)
		}
		if hs := s.Handshake; hs.Headers["upgrade"] != "websocket" || hs.Query["EIO"] != "4" || hs.Auth == nil {
			t.Errorf("Go socket's handshake as Node fetched it: %+v", hs) // Node's shape: lower-case names, strings
		}
	}
	slices.Sort(ids)
	wantIDs := []string{string(m.n1id), string(m.n2id), string(m.g1id)}
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("fetchSockets of red from Node: %v, want %v", ids, wantIDs)
	}

	// serverSideEmit, Go to Node and Node to Go, with and without
	// acknowledgements.
	if err := io.ServerSideEmit("hello", ordered{"go", 2, nil}); err != nil {
		t.Fatal(err)
	}
	if got := node.Next(5*time.Second, "serverSideEmit"); got.Name != "hello" || string(mustJSON(got.Args)) != `[{"zeta":"go","alpha":2,"mid":null}]` {
		t.Errorf("Node got %+v", got)
	}
	answer := newAck()
	_ = io.ServerSideEmitWithAck("question", "q")(answer.callback)
	if got := node.Next(5*time.Second, "serverSideEmit"); got.Name != "question" {
		t.Errorf("Node got %+v", got)
	}
	if args := answer.wait(t, "Node's answer", 10*time.Second); string(mustJSON(args)) != `[{"from":"node","args":["q"]}]` {
		t.Errorf("Node's answer %s", mustJSON(args))
	}
	heard := make(chan string, 2)
	_ = io.On("ping-go", acked(func(args []any) []any {
		heard <- string(mustJSON(args))
		return []any{ordered{"pong", 3, []any{"go"}}}
	}))
	node.Send(map[string]any{"op": "serverSideEmit", "event": "ping-go", "args": []any{"x"}})
	if got := receive(t, heard); got != `["x"]` {
		t.Errorf("Go's listener got %s", got)
	}
	if got := node.call(map[string]any{"op": "serverSideEmit", "event": "ping-go", "args": json.RawMessage(`[{"b":1,"a":2}]`), "ack": true}); string(got) != `[{"zeta":"pong","alpha":3,"mid":["go"]}]` {
		t.Errorf("Node got the acknowledgements %s", got)
	}
	if got := receive(t, heard); got != `[{"b":1,"a":2}]` {
		t.Errorf("Go's listener got %s", got)
	}

	// socketsJoin from Node moves Go's sockets; from Go, Node's; then
	// socketsLeave from Node.
	node.Send(map[string]any{"op": "socketsJoin", "rooms": []string{"vip"}, "target": []string{"from-node"}})
	storetest.WaitFor(t, "g2 in from-node", func() bool { return inRoom(io, m.g2id, "from-node") })
	io.In("vip").SocketsJoin("from-go")
	storetest.WaitFor(t, "n2 (and g2) in from-go", func() bool {
		var s []struct{ ID string }
		_ = json.Unmarshal(node.call(map[string]any{"op": "fetchSockets", "rooms": []string{"from-go"}}), &s)
		return len(s) == 2
	})
	node.Send(map[string]any{"op": "socketsLeave", "target": []string{"from-node"}})
	storetest.WaitFor(t, "g2 out of from-node", func() bool { return !inRoom(io, m.g2id, "from-node") })
	if n := node.call(map[string]any{"op": "serverCount"}); string(n) != "2" {
		t.Errorf("Node's serverCount: %s", n)
	}

	// A broadcast with acknowledgements from Node collects the answer of a
	// client of the Go server, alone in the room "ackers" (the harness's
	// Node clients do not answer).
	known := map[socket.SocketId]bool{}
	for _, id := range io.Sockets().Sockets().Keys() {
		known[id] = true
	}
	rawAcker(t, m.g.url, "go client says yes")
	storetest.WaitFor(t, "the acker's socket in ackers", func() bool {
		for _, s := range io.Sockets().Sockets().Values() {
			if !known[s.Id()] {
				s.Join("ackers")
				return true
			}
		}
		return false
	})
	if got := node.call(map[string]any{"op": "emitWithAck", "event": "ask", "rooms": []string{"ackers"}}); string(got) != `["go client says yes"]` {
		t.Errorf("Node's emitWithAck: %s", got)
	}

	// disconnectSockets from Go closes Node's socket.
	io.In(socket.Room(m.n1id)).DisconnectSockets(false)
	if d := m.clients["n1"].Next(10*time.Second, "disconnect"); d.Reason != "io server disconnect" {
		t.Errorf("n1 disconnect reason %q", d.Reason)
	}
}

// The streams adapter: a Go server and a Node server on one Redis
// stream (streamsMixed), as during a migration off a Node cluster that
// already uses the streams adapter.

// TestStreamsMixedRecovery: a client whose connection drops comes back
// through the balancer to the other server, Go to Node and Node to Go,
// and gets its session (id, rooms) and every event it missed that was
// for it (all, its room, not its room excepted), from both servers, in
// stream order, once, each packet the very text a client that stayed
// connected to the server it returns to received.
func TestStreamsMixedRecovery(t *testing.T) {
	m := mustStreamsMixed(t)
	joinLocal(t, m.io, m.wGoID, "red")
	m.node.call(map[string]any{"op": "join", "sid": m.wNodeID, "rooms": []string{"red"}})

	type side struct {
		name      string
		url       string
		join      func(id string)
		watcher   *servertest.NodeClient // a client of this server in red
		dropCheck func(id string) bool
	}
	goSide := side{"Go", m.g.url, func(id string) { joinLocal(t, m.io, socket.SocketId(id), "red") }, m.wGo,
		func(id string) bool { _, ok := m.io.Sockets().Sockets().Load(socket.SocketId(id)); return !ok }}
	nodeSide := side{"Node", m.node.url, func(id string) {
		m.node.call(map[string]any{"op": "join", "sid": id, "rooms": []string{"red"}})
	}, m.wNode, func(id string) bool {
		var s []struct{ ID string }
		_ = json.Unmarshal(m.node.call(map[string]any{"op": "fetchSockets", "rooms": []string{id}}), &s)
		return len(s) == 0
	}}

	for i, dir := range [][2]side{{goSide, nodeSide}, {nodeSide, goSide}} {
		from, to := dir[0], dir[1]
		t.Run("from "+from.name+" to "+to.name, func(t *testing.T) {
			lb := storetest.StartProxy(t, hostOf(from.url))
			c := mustRawClient(t, "http://"+lb.Addr())
			first := c.MustConnect()
			id, _ := first.ID.(string)
			from.join(id)
			seen := fmt.Sprintf("seen-%d", i)
			m.goEmit(seen, 0, []string{"red"}, nil) // c's offset: an event it received
			for _, w := range []*servertest.NodeClient{c, m.wGo, m.wNode} {
				packetsUntil(t, w, seen)
			}

			lb.Hold()
			lb.Cut()
			c.Next(10*time.Second, "disconnect")
			storetest.WaitFor(t, from.name+" to see the drop", func() bool { return from.dropCheck(id) })
			storetest.WaitFor(t, "the session in Redis", func() bool {
				session, ok := m.s.session(t, id)
				return ok && strings.Contains(fmt.Sprint(session["rooms"]), "red")
			})
			// Missed: from both servers, to all, to red, to other rooms,
			// excepting red. Each wait makes the stream's order the order
			// written here (a server's own broadcasts keep theirs).
			rec := map[*servertest.NodeClient][]string{}
			upTo := func(w *servertest.NodeClient, event string) { rec[w] = append(rec[w], packetsUntil(t, w, event)...) }
			m.goEmit("m1", ordered{"Q&A <b>", 1.5, []any{nil, true, 5000000000}}, nil, nil)
			upTo(m.wNode, "m1")
			m.nodeEmit("m2", `{"b":1,"a":{"z":"<&>","y":[1.5,null,-3]}}`, []string{"red"}, nil)
			upTo(m.wGo, "m2")
			m.goEmit("skip1", 1, []string{"blue"}, nil)
			m.goEmit("m3", ordered{"x", 2, []any{}}, []string{"red"}, []string{"blue"})
			upTo(m.wNode, "m3")
			m.nodeEmit("skip2", `2`, nil, []string{"red"})
			m.nodeEmit("end", `{"n":0.1}`, nil, nil)
			upTo(m.wGo, "end")
			upTo(m.wNode, "end")
			if !slices.Equal(rec[m.wGo], rec[m.wNode]) {
				t.Errorf("the same events, live, differ:\n Go   %q\n Node %q", rec[m.wGo], rec[m.wNode])
			}

			lb.SetTarget(hostOf(to.url))
			lb.Release()
			again := c.MustConnect()
			if !again.Recovered || again.ID != first.ID {
				t.Fatalf("reconnect to %s: recovered=%v id %v (was %v)", to.name, again.Recovered, again.ID, first.ID)
			}
			got := packetsUntil(t, c, "end")
			if names := packetNames(got); !slices.Equal(names, []string{"m1", "m2", "m3", "end"}) {
				t.Errorf("missed events %v, want m1 m2 m3 end", names)
			} else if live := rec[to.watcher]; !slices.Equal(got, live) {
				t.Errorf("missed packets on %s:\n%q\nwant (as its client got them live):\n%q", to.name, got, live)
			}
			// After: to red from the server c left, so c gets it only if
			// its rooms came back with it, and only once.
			m.goEmit("after", 3, []string{"red"}, nil)
			if after := packetsUntil(t, c, "after"); len(after) != 1 {
				t.Errorf("after the missed events: %q", after)
			}
		})
	}
}

// TestStreamsMixedCluster: on the streams adapter, every client of
// either server receives the same packet text for a broadcast (key
// order, numbers, stream offset), whoever sent it; and the mixed
// cluster's rooms and management scenario (mixedRooms) works.
func TestStreamsMixedCluster(t *testing.T) {
	m := mustStreamsMixed(t)
	g2 := mustRawClient(t, m.g.url)
	g2.MustConnect()
	n2 := mustRawClient(t, m.node.url)
	n2.MustConnect()
	clients := map[string]*servertest.NodeClient{"g1": m.wGo, "g2": g2, "n1": m.wNode, "n2": n2}

	// The same text everywhere, whoever sent it: a post created on Go,
	// an object Node emits with its keys out of order.
	api, _ := mustUser(t, m.g.url, "lea@example.com", "Lea")
	api.mustCreatePost("Streams: Q&A <b>", "to Node's clients too", 3)
	texts := map[string][]string{}
	for name, c := range clients {
		texts[name] = packetsUntil(t, c, "posts")
	}
	// Only now: a server delivers its own broadcasts once Redis has taken
	// them, others' once it has read them, so two servers' broadcasts
	// sent at once may reach clients in either order.
	m.nodeEmit("news", `{"b":1,"a":{"z":"<&>","y":[1.5,null,true,-3,5000000000]},"f":0.1}`, nil, nil)
	for name, c := range clients {
		texts[name] = append(texts[name], packetsUntil(t, c, "news")...)
	}
	for name, got := range texts {
		if !slices.Equal(got, texts["g1"]) || len(got) != 2 || !strings.Contains(got[0], `"title":"Streams: Q&A <b>"`) {
			t.Errorf("%s received %q\ng1 received %q", name, got, texts["g1"])
		}
	}

	r := mustMixedRooms(t, m.node, m.g)
	r.checkBroadcasts(t)
	r.checkManagement(t)
}

// TestStreamsMixedRecoveryAfterSIGKILL: a Go process is killed (SIGKILL:
// no disconnect, nothing persisted at the end) with a client connected;
// the client comes back through the balancer to a Node server, whose
// @socket.io/redis-streams-adapter restores the session the Go process
// kept in Redis while the socket was connected: the same id, recovered,
// and the events it missed.
func TestStreamsMixedRecoveryAfterSIGKILL(t *testing.T) {
	s := newStreams(t, testRedisURL(t))
	node := s.mustNode(t)
	a := mustGoProcess(t, servertest.BuildServer(t), s.env()...)
	lb := storetest.StartProxy(t, hostOf(a.URL))
	c := mustRawClient(t, "http://"+lb.Addr())
	first := c.MustConnect()
	w := mustRawClient(t, node.url) // one of Node's own clients
	w.MustConnect()
	linked(t, map[string]func(){"node": nodeLink(node)}, c, w)
	emit := func(event string) {
		node.Send(map[string]any{"op": "emit", "event": event, "args": []any{event}})
	}
	emit("seen") // c's offset: an event it received
	packetsUntil(t, c, "seen")
	packetsUntil(t, w, "seen")
	storetest.WaitFor(t, "the Go process to keep the session in Redis", func() bool {
		_, ok := s.session(t, first.ID)
		return ok
	})

	lb.Hold()
	a.Kill()
	c.Next(10*time.Second, "disconnect")
	emit("m1")
	emit("m2")
	packetsUntil(t, w, "m2")

	lb.SetTarget(hostOf(node.url))
	lb.Release()
	again := c.MustConnect()
	if !again.Recovered || again.ID != first.ID {
		t.Fatalf("reconnect to Node after the Go process's death: recovered=%v id %v (was %v)", again.Recovered, again.ID, first.ID)
	}
	if got := packetNames(packetsUntil(t, c, "m2")); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Errorf("missed events %v, want m1 m2", got)
	}
}
