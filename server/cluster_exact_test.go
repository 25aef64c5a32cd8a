package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
)

// TestMixedClusterExactPayloads: two Go servers and a Node server
// (socket.io 4.8.4 on @socket.io/redis-adapter 8.3.0) on one Redis.
// Whichever server emits, socket.io-client receives the same bytes from
// all three (objects keep the sender's key order, numbers their form),
// and the data that requests and responses carry between servers
// (serverSideEmit arguments and answers, fetchSockets data, clients'
// acknowledgements) reaches Go code in the sender's order too.
func TestMixedClusterExactPayloads(t *testing.T) {
	c := mustCluster(t, testRedisURL(t), true, 2)
	node, g1, g2 := c.node, c.gos[0], c.gos[1]
	io1, io2 := g1.srv.SocketIO(), g2.srv.SocketIO()

	clients := []struct {
		name, url string
		c         *servertest.NodeClient
	}{{"go1", g1.url, nil}, {"go2", g2.url, nil}, {"node", node.url, nil}}
	for i := range clients {
		clients[i].c = servertest.MustNodeClient(t, map[string]any{"url": clients[i].url, "version": 4, "transports": []string{"websocket"}, "raw": true})
		clients[i].c.MustConnect()
	}
	// sameEverywhere waits for the event on every client and checks that
	// its first argument is the same text on all three, and want's.
	sameEverywhere := func(event string, want *regexp.Regexp) {
		t.Helper()
		first := ""
		for _, cl := range clients {
			got := string(rawFirstArg(t, cl.c, event))
			if first == "" {
				first = got
			}
			if !want.MatchString(got) || got != first {
				t.Errorf("%s: a client of %s received\n%s\nthe first one\n%s\nwant %s", event, cl.name, got, first, want)
			}
		}
	}

	// A post created on Go #1: the stored order, as in the REST answer.
	api, _ := mustUser(t, g1.url, "ada@example.com", "Ada")
	api.mustCreatePost("Exact bytes: Q&A <b>", "everywhere alike", 7)
	sameEverywhere("posts", regexp.MustCompile(`^\{"action":"create","post":\{"_id":"[0-9a-f]{24}","title":"Exact bytes: Q&A <b>","content":"everywhere alike",`+
		`"imageUrl":"images/[^"]+","creator":\{"_id":"[0-9a-f]{24}","name":"Ada"\},"createdAt":"[^"]+","updatedAt":"[^"]+"\}\}$`))

	// Node's io.emit: keys out of alphabetical order at every depth,
	// integers, floats, nulls and booleans as written, and '<', '>', '&'
	// as JSON.stringify writes them (encoding/json would escape them).
	fromNode := `{"action":"update","post":{"_id":"6650f0c2a1b2c3d4e5f60718","title":"T & <i>","nested":{"z":1,"a":[1.5,null,true,-3,5000000000],"m":"x"}},"f":0.1}`
	node.Send(map[string]any{"op": "emit", "event": "news", "args": json.RawMessage("[" + fromNode + "]")})
	sameEverywhere("news", regexp.MustCompile("^"+regexp.QuoteMeta(fromNode)+"$"))

	// A Date (a mongoose document's createdAt) and an undefined field,
	// which notepack writes as extensions of its own: the Date's JSON,
	// and no field, as JSON.stringify writes them for Node's clients.
	node.Send(map[string]any{"op": "emit", "event": "dated", "args": json.RawMessage(
		`[{"post":{"title":"T","skipped":{"$undefined":true},"createdAt":{"$date":"2024-01-02T03:04:05.006Z"}}}]`)})
	sameEverywhere("dated", regexp.MustCompile("^"+regexp.QuoteMeta(`{"post":{"title":"T","createdAt":"2024-01-02T03:04:05.006Z"}}`)+"$"))

	// Go #2's emit of a struct, fields in declaration order.
	type item struct {
		Zeta  int     `json:"zeta"`
		Alpha float64 `json:"alpha"`
		Mid   []any   `json:"mid"`
	}
	_ = io2.Emit("items", map[string]any{"item": item{1, 2.5, []any{nil, "s"}}})
	sameEverywhere("items", regexp.MustCompile(`^\{"item":\{"zeta":1,"alpha":2.5,"mid":\[null,"s"\]\}\}$`))

	// Binary inside objects: the same packet text (placeholders numbered in
	// key order) and the same attachments everywhere.
	withBin := `{"b":1,"a":{"$bin":"AAE="},"c":{"y":{"$bin":"Ag=="},"x":2}}`
	node.Send(map[string]any{"op": "emit", "event": "bin", "args": json.RawMessage("[" + withBin + "]")})
	sameEverywhere("bin", regexp.MustCompile("^"+regexp.QuoteMeta(`{"b":1,"a":{"_placeholder":true,"num":0},"c":{"y":{"_placeholder":true,"num":1},"x":2}}`)+"$"))
	for _, cl := range clients {
		if args := waitEventAny(t, cl.c, "bin").Args; string(args[0]) != withBin {
			t.Errorf("a client of %s decoded %s, want %s", cl.name, args[0], withBin)
		}
	}

	// serverSideEmit from Node reaches both Go servers' listeners in order.
	got := make(chan string, 4)
	for _, io := range []*socket.Server{io1, io2} {
		_ = io.On("order", func(args ...any) { got <- string(mustJSON(args)) })
	}
	node.Send(map[string]any{"op": "serverSideEmit", "event": "order", "args": json.RawMessage(`[{"b":1,"a":{"d":2,"c":3}}]`)})
	for range 2 {
		if s := receive(t, got); s != `[{"b":1,"a":{"d":2,"c":3}}]` {
			t.Errorf("a Go server's listener got %s", s)
		}
	}

	// serverSideEmit with acknowledgement from Go #1: Go #2's listener gets
	// the struct in order, and both answers come back in order.
	_ = io2.On("order-ack", acked(func(args []any) []any {
		got <- string(mustJSON(args))
		return []any{item{3, 0.5, []any{}}}
	}))
	answer := newAck()
	_ = io1.ServerSideEmitWithAck("order-ack", item{2, 1, nil})(answer.callback)
	if s := receive(t, got); s != `[{"zeta":2,"alpha":1,"mid":null}]` {
		t.Errorf("Go #2's listener got %s", s)
	}
	node.Next(10*time.Second, "serverSideEmit")
	var replies []json.RawMessage
	_ = json.Unmarshal(mustJSON(answer.wait(t, "serverSideEmitWithAck", 10*time.Second)), &replies)
	texts := []string{}
	for _, r := range replies {
		texts = append(texts, string(r))
	}
	slices.Sort(texts)
	if want := []string{`{"from":"node","args":[{"zeta":2,"alpha":1,"mid":null}]}`, `{"zeta":3,"alpha":0.5,"mid":[]}`}; !slices.Equal(texts, want) {
		t.Errorf("answers %s, want %s", texts, want)
	}

	// fetchSockets: the other servers' socket data, in order.
	for _, s := range io2.Sockets().Sockets().Values() {
		s.SetData(item{4, 4.5, []any{true}})
	}
	datas := []string{}
	for _, s := range fetchAll(t, io1.FetchSockets()) {
		if s.Data() != nil {
			datas = append(datas, string(mustJSON(s.Data())))
		}
	}
	slices.Sort(datas)
	if want := []string{`{"server":"node","n":1}`, `{"zeta":4,"alpha":4.5,"mid":[true]}`}; !slices.Equal(datas, want) {
		t.Errorf("fetchSockets data %s, want %s", datas, want)
	}

	// A Node client's acknowledgement of Go #1's emitWithAck.
	acker := servertest.MustNodeClient(t, map[string]any{"url": node.url, "version": 4, "transports": []string{"websocket"}, "ackWith": json.RawMessage(`{"b":1,"a":[{"d":2,"c":3}]}`)})
	ackerID, _ := acker.MustConnect().ID.(string)
	answer = newAck()
	io1.To(socket.Room(ackerID)).Timeout(5 * time.Second).EmitWithAck("ask")(answer.callback)
	if s := string(mustJSON(answer.wait(t, "emitWithAck", 10*time.Second))); s != `[{"b":1,"a":[{"d":2,"c":3}]}]` {
		t.Errorf("the Node client's acknowledgement reached Go #1 as %s", s)
	}
}

// rawFirstArg waits for the event name in the packets a client with the
// raw option received and returns its first argument, exactly as
// received (Go servers append a recovery offset, the last argument).
func rawFirstArg(t *testing.T, c *servertest.NodeClient, name string) json.RawMessage {
	t.Helper()
	m := c.NextWhere(10*time.Second, "packet", func(m servertest.NodeMsg) bool {
		return packetEvent(m.Data) == name && len(packetData(m.Data)) >= 2
	})
	return packetData(m.Data)[1]
}

// packetData is the data array of an event packet's text of namespace
// "/" (the name, then the arguments), or nil.
func packetData(text string) []json.RawMessage {
	head := eventHead.FindString(text)
	var parts []json.RawMessage
	if head == "" || json.Unmarshal([]byte(text[len(head)-1:]), &parts) != nil {
		return nil
	}
	return parts
}

// eventHead starts the text of an event packet of namespace "/": type 2,
// or 5 (binary) with the number of attachments, then the data array.
var eventHead = regexp.MustCompile(`^(?:2|5[0-9]+-)\[`)

// receive waits for a value on ch.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received")
		var zero T
		return zero
	}
}

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
