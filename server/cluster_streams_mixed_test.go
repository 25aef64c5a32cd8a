package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
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
	wGo, wNode *nodeClient
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
	waitFor(t, "both servers counted by both", func() bool {
		return m.io.Sockets().Adapter().ServerCount() == 2 && string(m.node.call(map[string]any{"op": "serverCount"})) == "2"
	})
	return m
}

func mustRawClient(t *testing.T, url string) *nodeClient {
	t.Helper()
	return mustNodeClient(t, map[string]any{"url": url, "version": 4, "transports": []string{"websocket"}, "raw": true})
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
		watcher   *nodeClient // a client of this server in red
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
			for _, w := range []*nodeClient{c, m.wGo, m.wNode} {
				packetsUntil(t, w, seen)
			}

			lb.hold()
			lb.cut()
			c.Next(10*time.Second, "disconnect")
			waitFor(t, from.name+" to see the drop", func() bool { return from.dropCheck(id) })
			waitFor(t, "the session in Redis", func() bool {
				session, ok := m.s.session(t, id)
				return ok && strings.Contains(fmt.Sprint(session["rooms"]), "red")
			})
			// Missed: from both servers, to all, to red, to other rooms,
			// excepting red. Each wait makes the stream's order the order
			// written here (a server's own broadcasts keep theirs).
			rec := map[*nodeClient][]string{}
			upTo := func(w *nodeClient, event string) { rec[w] = append(rec[w], packetsUntil(t, w, event)...) }
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
