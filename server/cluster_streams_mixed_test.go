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

// A Go server and a Node server (socket.io 4.8.4 on
// @socket.io/redis-streams-adapter 0.3.1, testdata/noderedis) on one
// Redis stream, as during a migration off a Node cluster that already
// uses the streams adapter.

// streamsMixed is the Go and the Node server of a test, with a raw
// WebSocket client on each that takes part in linked.
type streamsMixed struct {
	s          *streamsSetup
	g          *testEnv
	io         *socket.Server
	node       *nodeServer
	wGo, wNode *servertest.NodeClient
	wGoID      socket.SocketId
	wNodeID    string
}

func mustStreamsMixed(t *testing.T) *streamsMixed {
	t.Helper()
	m := &streamsMixed{s: newStreams(t, testRedisURL(t))}
	m.node = m.s.mustNode(t)
	m.g = mustStart(t, m.s.config(t))
	m.io = m.g.srv.SocketIO()
	m.wGo = mustRawClient(t, m.g.url)
	id, _ := m.wGo.MustConnect().ID.(string)
	m.wGoID = socket.SocketId(id)
	m.wNode = mustRawClient(t, m.node.url)
	m.wNodeID, _ = m.wNode.MustConnect().ID.(string)
	linked(t, map[string]func(){"go": goLink(m.io, "go"), "node": nodeLink(m.node)}, m.wGo, m.wNode)
	// The requests (fetchSockets, serverSideEmit) wait for the answers of
	// as many servers as listen on the channel.
	storetest.WaitFor(t, "both servers counted by both", func() bool {
		return m.io.Sockets().Adapter().ServerCount() == 2 && string(m.node.call(map[string]any{"op": "serverCount"})) == "2"
	})
	return m
}

func mustRawClient(t *testing.T, url string) *servertest.NodeClient {
	t.Helper()
	return servertest.MustNodeClient(t, map[string]any{"url": url, "version": 4, "transports": []string{"websocket"}, "raw": true})
}

// goEmit and nodeEmit broadcast event with one argument, given as JSON
// text (Node) or a value (Go), to rooms except others.
func (m *streamsMixed) goEmit(event string, arg any, rooms, except []string) {
	var b *socket.BroadcastOperator
	for _, r := range rooms {
		if b == nil {
			b = m.io.To(socket.Room(r))
		} else {
			b = b.To(socket.Room(r))
		}
	}
	for _, r := range except {
		if b == nil {
			b = m.io.Except(socket.Room(r))
		} else {
			b = b.Except(socket.Room(r))
		}
	}
	if b == nil {
		_ = m.io.Emit(event, arg)
		return
	}
	_ = b.Emit(event, arg)
}

func (m *streamsMixed) nodeEmit(event, argJSON string, rooms, except []string) {
	m.node.Send(map[string]any{"op": "emit", "event": event, "args": json.RawMessage("[" + argJSON + "]"), "rooms": rooms, "except": except})
}

// ordered is a Go payload whose JSON keys are not in alphabetical order.
type ordered struct {
	Zeta  string  `json:"zeta"`
	Alpha float64 `json:"alpha"`
	Mid   []any   `json:"mid"`
}

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
			lb := mustLB(t, from.url)
			c := mustRawClient(t, lb.url())
			first := c.MustConnect()
			id, _ := first.ID.(string)
			from.join(id)
			seen := fmt.Sprintf("seen-%d", i)
			m.goEmit(seen, 0, []string{"red"}, nil) // c's offset: an event it received
			for _, w := range []*servertest.NodeClient{c, m.wGo, m.wNode} {
				packetsUntil(t, w, seen)
			}

			lb.hold()
			lb.cut()
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

			lb.release(to.url)
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

// TestStreamsMixedCluster: on the streams adapter, broadcasts to all,
// rooms, except and one socket cross between Go and Node both ways and
// reach exactly the matching sockets, every client receiving the same
// packet text (key order, numbers, stream offset); fetchSockets and
// serverSideEmit (with acknowledgements) work both ways.
func TestStreamsMixedCluster(t *testing.T) {
	m := mustStreamsMixed(t)
	g2 := mustRawClient(t, m.g.url)
	g2ID, _ := g2.MustConnect().ID.(string)
	n2 := mustRawClient(t, m.node.url)
	n2ID, _ := n2.MustConnect().ID.(string)
	joinLocal(t, m.io, m.wGoID, "red")
	joinLocal(t, m.io, socket.SocketId(g2ID), "vip")
	m.node.call(map[string]any{"op": "join", "sid": m.wNodeID, "rooms": []string{"red", "vip"}})
	if s, ok := m.io.Sockets().Sockets().Load(m.wGoID); ok {
		s.SetData(ordered{"go", 1, []any{true}})
	}
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

	collect := func(want map[string][]string) {
		t.Helper()
		for name, c := range clients {
			names := packetNames(packetsUntil(t, c, "end"))
			names = names[:len(names)-1]
			slices.Sort(names)
			if fmt.Sprint(names) != fmt.Sprint(want[name]) {
				t.Errorf("%s got %v, want %v", name, names, want[name])
			}
		}
	}
	m.nodeEmit("red", "1", []string{"red"}, nil)
	m.nodeEmit("red-vip", "1", []string{"red"}, []string{"vip"})
	m.nodeEmit("not-red", "1", nil, []string{"red"})
	m.nodeEmit("to-g2", "1", []string{g2ID}, nil)
	m.nodeEmit("end", "1", nil, nil)
	collect(map[string][]string{"g1": {"red", "red-vip"}, "g2": {"not-red", "to-g2"}, "n1": {"red"}, "n2": {"not-red"}})
	m.goEmit("vip", 1, []string{"vip"}, nil)
	m.goEmit("red-vip", 1, []string{"red"}, []string{"vip"})
	m.goEmit("to-n2", 1, []string{n2ID}, nil)
	m.goEmit("end", 1, nil, nil)
	collect(map[string][]string{"g1": {"red-vip"}, "g2": {"vip"}, "n1": {"vip"}, "n2": {"to-n2"}})

	// fetchSockets from Go sees Node's sockets with their rooms and data;
	// from Node, Go's.
	fetched := fetchAll(t, m.io.In("vip").FetchSockets())
	want := []string{fmt.Sprintf("%s[vip]", g2ID), fmt.Sprintf("%s[red vip]", m.wNodeID)}
	slices.Sort(want)
	if got := socketIDs(fetched); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fetchSockets in vip from Go: %v, want %v", got, want)
	}
	for _, s := range fetched {
		if string(s.Id()) == m.wNodeID {
			if d := mustJSON(s.Data()); string(d) != `{"server":"node","n":1}` {
				t.Errorf("Node socket's data as Go fetched it: %s", d)
			}
		}
	}
	var fromNode []struct {
		ID    string          `json:"id"`
		Rooms []string        `json:"rooms"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(m.node.call(map[string]any{"op": "fetchSockets", "rooms": []string{"red"}}), &fromNode); err != nil {
		t.Fatal(err)
	}
	var goOne string
	for _, s := range fromNode {
		if s.ID == string(m.wGoID) {
			slices.Sort(s.Rooms) // Node lists a socket's own room first; Go, in no order
			goOne = fmt.Sprintf("%v %s", s.Rooms, s.Data)
		}
	}
	wantRooms := []string{string(m.wGoID), "red"}
	slices.Sort(wantRooms)
	if len(fromNode) != 2 || goOne != fmt.Sprintf("%v %s", wantRooms, `{"zeta":"go","alpha":1,"mid":[true]}`) {
		t.Errorf("fetchSockets in red from Node: %+v", fromNode)
	}

	// serverSideEmit, Go to Node and Node to Go, with acknowledgements,
	// arguments in the sender's key order.
	if err := m.io.ServerSideEmit("hello", ordered{"go", 2, nil}); err != nil {
		t.Fatal(err)
	}
	if got := m.node.Next(5*time.Second, "serverSideEmit"); got.Name != "hello" || string(mustJSON(got.Args)) != `[{"zeta":"go","alpha":2,"mid":null}]` {
		t.Errorf("Node got %+v", got)
	}
	answer := newAck()
	_ = m.io.ServerSideEmitWithAck("question", "q")(answer.callback)
	m.node.Next(5*time.Second, "serverSideEmit")
	if args := answer.wait(t, "Node's answer", 10*time.Second); string(mustJSON(args)) != `[{"from":"node","args":["q"]}]` {
		t.Errorf("Node's answer %s", mustJSON(args))
	}
	heard := make(chan string, 2)
	_ = m.io.On("ping-go", func(args ...any) {
		if ack, ok := args[len(args)-1].(socket.Ack); ok {
			ack([]any{ordered{"pong", 3, []any{"go"}}}, nil)
			args = args[:len(args)-1]
		}
		heard <- string(mustJSON(args))
	})
	if got := m.node.call(map[string]any{"op": "serverSideEmit", "event": "ping-go", "args": json.RawMessage(`[{"b":1,"a":2}]`), "ack": true}); string(got) != `[{"zeta":"pong","alpha":3,"mid":["go"]}]` {
		t.Errorf("Node got the acknowledgements %s", got)
	}
	if got := receive(t, heard); got != `[{"b":1,"a":2}]` {
		t.Errorf("Go's listener got %s", got)
	}
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
	lb := mustLB(t, a.URL)
	c := mustRawClient(t, lb.url())
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

	lb.hold()
	a.Kill()
	c.Next(10*time.Second, "disconnect")
	emit("m1")
	emit("m2")
	packetsUntil(t, w, "m2")

	lb.release(node.url)
	again := c.MustConnect()
	if !again.Recovered || again.ID != first.ID {
		t.Fatalf("reconnect to Node after the Go process's death: recovered=%v id %v (was %v)", again.Recovered, again.ID, first.ID)
	}
	if got := packetNames(packetsUntil(t, c, "m2")); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Errorf("missed events %v, want m1 m2", got)
	}
}
