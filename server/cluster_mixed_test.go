package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// A mixed cluster: a Node server (socket.io 4.8.4 on
// @socket.io/redis-adapter 8.3.0, testdata/noderedis) and a Go server on
// one Redis and key prefix, as during a migration.

// TestMixedClusterPosts: the Go server's `posts` events reach the Node
// server's clients with the very JSON the Go server's own clients get,
// and what Node emits reaches the Go server's clients.
func TestMixedClusterPosts(t *testing.T) {
	node, g := mustNodeAndGo(t)

	onNode := servertest.Connected(
		servertest.MustNodeClient(t, map[string]any{"url": node.url, "version": 4, "transports": []string{"websocket"}}),
		servertest.MustNodeClient(t, map[string]any{"url": node.url, "version": 4, "transports": []string{"polling"}}),
	)
	onGo := servertest.Connected(servertest.MustNodeClient(t, map[string]any{"url": g.url, "version": 4}))[0]

	api, _ := mustUser(t, g.url, "mia@example.com", "Mia")
	created := api.mustCreatePost("Made in Go", "read by Node", 6)
	goArgs := waitEvent(t, onGo, "posts").Args
	for i, c := range onNode {
		args := waitEventAny(t, c, "posts").Args
		if len(args) != 1 || !bytes.Equal(args[0], goArgs[0]) {
			t.Errorf("Node client %d got %s, the Go server's client %s", i, args, goArgs)
		}
		ev := decodeArg(t, args[0])
		if ev["action"] != "create" || fmt.Sprint(ev["post"]) != fmt.Sprint(created["post"]) {
			t.Errorf("Node client %d: event %v, want post %v", i, ev, created["post"])
		}
	}

	news := map[string]any{"text": "from Node", "n": 3, "f": 2.5, "ok": true, "nil": nil, "list": []any{"a", 1}}
	node.Send(map[string]any{"op": "emit", "event": "news", "args": []any{news, map[string]any{"$bin": "AAEC/w=="}}})
	args := waitEvent(t, onGo, "news").Args
	want, _ := json.Marshal([]any{news, map[string]any{"$bin": "AAEC/w=="}})
	if got, _ := json.Marshal(args); !jsonEqual(got, string(want)) {
		t.Errorf("Go server's client got %s, want %s", got, want)
	}
	for _, c := range onNode {
		waitEventAny(t, c, "news")
	}
}

// TestMixedClusterRooms: room and except broadcasts cross between Node
// and Go and reach exactly the matching sockets.
func TestMixedClusterRooms(t *testing.T) {
	node, g := mustNodeAndGo(t)
	mustMixedRooms(t, node, g).checkBroadcasts(t)
}

// mixedRooms is two clients of a Node server and two of a Go server of
// one cluster, in rooms: n1 in red, n2 in red and vip, g1 in red, g2
// (over polling) in vip.
type mixedRooms struct {
	node                   *nodeServer
	io                     *socket.Server
	clients                map[string]*servertest.NodeClient
	n1id, n2id, g1id, g2id socket.SocketId
}

func mustMixedRooms(t *testing.T, node *nodeServer, g *testEnv) *mixedRooms {
	t.Helper()
	m := &mixedRooms{node: node, io: g.srv.SocketIO(), clients: map[string]*servertest.NodeClient{}}
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

// eventsUntilAll collects the names of the events c receives until it
// has had the event named marker and every one of want, sorted, marker
// left out. On the sharded adapter's dynamic modes a broadcast to one
// room goes over the room's channel, which may be another shard than the
// namespace's, so it may come after a later one to all.
func eventsUntilAll(t *testing.T, c *servertest.NodeClient, marker string, want []string) []string {
	t.Helper()
	var names []string
	marked := false
	deadline := time.Now().Add(10 * time.Second)
	for !marked || !containsAll(names, want) {
		m := c.Next(time.Until(deadline), "event")
		if m.Name == marker {
			marked = true
			continue
		}
		names = append(names, m.Name)
	}
	slices.Sort(names)
	return names
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// TestMixedClusterManagement: fetchSockets, serverSideEmit (with and
// without acknowledgement), socketsJoin/Leave, disconnectSockets, and
// broadcasts with acknowledgements work between Node and Go both ways.
func TestMixedClusterManagement(t *testing.T) {
	node, g := mustNodeAndGo(t)
	io := g.srv.SocketIO()

	n1, n1id := connectNode(t, node.url, "websocket")
	_, g1id := connectNode(t, g.url, "websocket")
	if s, ok := io.Sockets().Sockets().Load(g1id); ok {
		s.SetData(map[string]any{"server": "go"})
	}
	joinLocal(t, io, g1id, "red")

	// fetchSockets from Go sees Node's socket, with its data.
	fetched := fetchAll(t, io.FetchSockets())
	want := []string{fmt.Sprintf("%s[]", n1id), fmt.Sprintf("%s[red]", g1id)}
	slices.Sort(want)
	if got := socketIDs(fetched); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fetchSockets from Go: %v, want %v", got, want)
	}
	for _, s := range fetched {
		if s.Id() == n1id {
			if d, _ := json.Marshal(s.Data()); !jsonEqual(d, `{"server":"node","n":1}`) {
				t.Errorf("Node socket data %s", d)
			}
			if hs := s.Handshake(); hs == nil || !strings.HasPrefix(hs.Url, "/socket.io/") {
				t.Errorf("Node socket handshake %+v", hs)
			}
		}
	}
	// ... and Node's fetchSockets sees Go's.
	var fromNode []struct {
		ID        string         `json:"id"`
		Rooms     []string       `json:"rooms"`
		Data      map[string]any `json:"data"`
		Handshake struct {
			Headers map[string]any `json:"headers"`
			Query   map[string]any `json:"query"`
			Auth    map[string]any `json:"auth"`
		} `json:"handshake"`
	}
	if err := json.Unmarshal(node.call(map[string]any{"op": "fetchSockets", "rooms": []string{"red"}}), &fromNode); err != nil {
		t.Fatal(err)
	}
	if len(fromNode) != 1 || fromNode[0].ID != string(g1id) || fromNode[0].Data["server"] != "go" || !slices.Contains(fromNode[0].Rooms, "red") {
		t.Errorf("fetchSockets from Node: %+v", fromNode)
	} else if hs := fromNode[0].Handshake; hs.Headers["upgrade"] != "websocket" || hs.Query["EIO"] != "4" || hs.Auth == nil {
		t.Errorf("Go socket's handshake, as Node sees it: %+v", hs) // Node's shape: lower-case names, strings
	}

	// serverSideEmit, Go to Node and Node to Go, with acknowledgements.
	if err := io.ServerSideEmit("hello", "from go", 1.0); err != nil {
		t.Fatal(err)
	}
	if m := node.Next(5*time.Second, "serverSideEmit"); m.Name != "hello" || !jsonEqual(mustJSON(m.Args), `["from go",1]`) {
		t.Errorf("Node got %+v", m)
	}
	answer := newAck()
	_ = io.ServerSideEmitWithAck("question", "q")(answer.callback)
	node.Next(5*time.Second, "serverSideEmit")
	if args := answer.wait(t, "Node's answer", 10*time.Second); !jsonEqual(mustJSON(args), `[{"from":"node","args":["q"]}]`) {
		t.Errorf("Node's answer %v", args)
	}
	fromNodeEmit := make(chan []any, 2)
	_ = io.On("ping-go", func(args ...any) {
		if ack, ok := args[len(args)-1].(socket.Ack); ok {
			ack([]any{"pong from go"}, nil)
			args = args[:len(args)-1]
		}
		fromNodeEmit <- args
	})
	node.Send(map[string]any{"op": "serverSideEmit", "event": "ping-go", "args": []any{"x"}})
	if got := <-fromNodeEmit; fmt.Sprint(got) != "[x]" {
		t.Errorf("Go got %v", got)
	}
	if got := node.call(map[string]any{"op": "serverSideEmit", "event": "ping-go", "args": []any{"y"}, "ack": true}); !jsonEqual(got, `["pong from go"]`) {
		t.Errorf("Node got the acknowledgements %s", got)
	}

	// socketsJoin from Node moves Go's sockets; from Go, Node's.
	node.Send(map[string]any{"op": "socketsJoin", "rooms": []string{"red"}, "target": []string{"from-node"}})
	storetest.WaitFor(t, "g1 in from-node", func() bool { return inRoom(io, g1id, "from-node") })
	io.Except("red").SocketsJoin("from-go")
	storetest.WaitFor(t, "n1 in from-go", func() bool {
		var s []struct{ ID string }
		_ = json.Unmarshal(node.call(map[string]any{"op": "fetchSockets", "rooms": []string{"from-go"}}), &s)
		return len(s) == 1 && s[0].ID == string(n1id)
	})
	node.Send(map[string]any{"op": "socketsLeave", "target": []string{"from-node"}})
	storetest.WaitFor(t, "g1 out of from-node", func() bool { return !inRoom(io, g1id, "from-node") })
	rooms := node.call(map[string]any{"op": "allRooms"})
	if !strings.Contains(string(rooms), `"red"`) || !strings.Contains(string(rooms), `"from-go"`) {
		t.Errorf("Node's allRooms: %s", rooms)
	}
	if n := node.call(map[string]any{"op": "serverCount"}); string(n) != "2" {
		t.Errorf("Node's serverCount: %s", n)
	}

	// A broadcast with acknowledgements from Node collects the answer of a
	// client of the Go server (the harness's Node clients do not answer).
	rawAcker(t, g.url, "go client says yes")
	if got := node.call(map[string]any{"op": "emitWithAck", "event": "ask", "except": []string{string(n1id), string(g1id)}}); !strings.Contains(string(got), "go client says yes") {
		t.Errorf("Node's emitWithAck: %s", got)
	}

	// disconnectSockets from Go closes Node's socket.
	io.In(socket.Room(n1id)).DisconnectSockets(false)
	if m := n1.Next(10*time.Second, "disconnect"); m.Reason != "io server disconnect" {
		t.Errorf("n1 disconnect reason %q", m.Reason)
	}
}

// TestMixedClusterWire: for the same emits, the Go server publishes the
// same bytes as the Node server on the same channels (the servers' uids
// aside), watched on Redis.
func TestMixedClusterWire(t *testing.T) {
	c := mustCluster(t, testRedisURL(t), true, 1)
	node, g, rdb, prefix := c.node, c.gos[0], c.rdb, c.prefix
	ps := rdb.PSubscribe(context.Background(), prefix+"*")
	t.Cleanup(func() { _ = ps.Close() })
	if _, err := ps.Receive(context.Background()); err != nil { // the subscription
		t.Fatal(err)
	}
	next := func() *redis.Message {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	payload := map[string]any{"action": "create", "post": map[string]any{"_id": "6650f0c2a1b2c3d4e5f60718", "title": "T", "n": 300}, "f": 0.5, "neg": -70000}
	cases := []struct {
		name      string
		node, go_ func()
	}{
		{"all", func() { node.Send(map[string]any{"op": "emit", "event": "posts", "args": []any{payload}}) },
			func() { _ = g.srv.SocketIO().Emit("posts", payload) }},
		{"one room, binary", func() {
			node.Send(map[string]any{"op": "emit", "event": "b", "args": []any{map[string]any{"$bin": "AAEC"}}, "rooms": []string{"r1"}})
		}, func() { _ = g.srv.SocketIO().To("r1").Emit("b", []byte{0, 1, 2}) }},
		{"rooms and except", func() {
			node.Send(map[string]any{"op": "emit", "event": "x", "args": []any{}, "rooms": []string{"r1", "r2"}, "except": []string{"e1"}})
		}, func() { _ = g.srv.SocketIO().To("r1", "r2").Except("e1").Emit("x") }},
		{"serverSideEmit", func() { node.Send(map[string]any{"op": "serverSideEmit", "event": "sse", "args": []any{1, "two"}}) },
			func() { _ = g.srv.SocketIO().ServerSideEmit("sse", 1, "two") }},
		{"socketsJoin", func() {
			node.Send(map[string]any{"op": "socketsJoin", "rooms": []string{"r1"}, "target": []string{"t1"}})
		},
			func() { g.srv.SocketIO().In("r1").SocketsJoin("t1") }},
		{"disconnectSockets", func() { node.Send(map[string]any{"op": "disconnectSockets", "rooms": []string{"r9"}, "close": true}) },
			func() { g.srv.SocketIO().In("r9").DisconnectSockets(true) }},
	}
	for _, tc := range cases {
		tc.node()
		fromNode := next()
		tc.go_()
		fromGo := next()
		nodeUID, goUID := uidOf(fromNode.Payload), uidOf(fromGo.Payload)
		normalized := strings.Replace(fromGo.Payload, goUID, nodeUID, 1)
		if fromNode.Channel != fromGo.Channel || normalized != fromNode.Payload || nodeUID == "" {
			t.Errorf("%s:\n Node %s %q\n Go   %s %q", tc.name, fromNode.Channel, fromNode.Payload, fromGo.Channel, fromGo.Payload)
		} else {
			t.Logf("%s: both published on %s: %q", tc.name, fromGo.Channel, fromGo.Payload)
		}
	}
}

// uidOf finds the sender's uid in a published message: the first string
// of a msgpack broadcast, or the JSON "uid".
func uidOf(payload string) string {
	if len(payload) > 8 && payload[0] == 0x93 && payload[1] == 0xa6 {
		return payload[2:8]
	}
	var r struct{ UID string }
	_ = json.Unmarshal([]byte(payload), &r)
	return r.UID
}

func mustJSON(v any) json.RawMessage {
	raw, _ := json.Marshal(v)
	return raw
}
