package server

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

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
	_ = io2.On("order-ack", func(args ...any) {
		ack := args[len(args)-1].(socket.Ack)
		got <- string(mustJSON(args[:len(args)-1]))
		ack([]any{item{3, 0.5, []any{}}}, nil)
	})
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
