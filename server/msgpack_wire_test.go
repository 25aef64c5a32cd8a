package server

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/handlers"
	"feedrt/server/msgpackparser"
	"feedrt/server/servertest"
)

// TestMsgpackWireMatchesNode compares, byte for byte, the frames
// socket.io 4.8 on Node with socket.io-msgpack-parser
// (testdata/noderedis/msgpackwire.js) and the Go server with
// SOCKETIO_PARSER=msgpack send for the same packets, recovery off in
// both: the CONNECT answer (pid undefined), an event of every kind of
// value (nested objects and arrays, integers of each size, floats,
// negatives, a long string, binary), a broadcast (a post), an
// acknowledgement, and the CONNECT_ERROR of an unknown namespace. The
// session ids differ (and so do their lengths); they are masked.
func TestMsgpackWireMatchesNode(t *testing.T) {
	nodeURL := mustNodeScript(t, "msgpackwire.js")
	env := mustStart(t, func(c *Config) { useMsgpack(c); c.Recovery.Enabled = false })
	addWireHandlers(env.srv.SocketIO())

	nodeFrames := wireFrames(t, nodeURL)
	goFrames := wireFrames(t, env.url)
	for i, name := range []string{"CONNECT", "event", "broadcast", "ACK", "CONNECT_ERROR"} {
		if !bytes.Equal(goFrames[i], nodeFrames[i]) {
			t.Errorf("%s:\n Go   %s\n Node %s", name, hex.EncodeToString(goFrames[i]), hex.EncodeToString(nodeFrames[i]))
		}
	}
}

// addWireHandlers are msgpackwire.js's handlers in Go.
func addWireHandlers(io *socket.Server) {
	evPayload := map[string]any{
		"arr":    []any{1, -1, 1.5, -2.25, nil, true, false, 255, 65536, -33},
		"big":    4294967296,
		"bin":    []byte{0, 1, 2, 255},
		"long":   strings.Repeat("x", 300),
		"neg":    -129,
		"nested": map[string]any{"a": map[string]any{"b": []any{map[string]any{"c": "d"}}}},
		"num":    42.0,
		"utf":    "héllo € 𝄞",
	}
	post := handlers.PostView{
		ID: "65a1b2c3d4e5f60718293a4b", Title: "Q&A <b>", Content: `A post of some length, with "quotes".`,
		ImageURL: "images/x.png", Creator: handlers.CreatorView{ID: "65a1b2c3d4e5f60718293a4c", Name: "Ann"},
		CreatedAt: "2024-01-02T03:04:05.006Z", UpdatedAt: "2024-01-02T03:04:05.006Z",
	}
	io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.On("go", func(...any) {
			_ = s.Emit("ev", evPayload)
			_ = io.Emit("bc", handlers.PostEvent{Action: "create", Post: post})
		})
		s.On("ask", acked(func(a []any) []any { return []any{map[string]any{"got": a}} }))
	})
}

// wireFrames speaks to the server at base over a raw WebSocket, as a
// msgpack client, and returns the binary frames it answers with: the
// CONNECT answer (sid masked), the event and the broadcast a "go" gets,
// the ack of an "ask", the CONNECT_ERROR of "/nope".
func wireFrames(t *testing.T, base string) [][]byte {
	t.Helper()
	c := servertest.MustOpen(t, webSocketURL(base))
	enc := msgpackparser.New().NewEncoder()
	send := func(p *parser.Packet) {
		if err := c.WriteMessage(websocket.BinaryMessage, enc.Encode(p)[0].Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	read := func() []byte {
		kind, msg := c.Read()
		if kind != websocket.BinaryMessage {
			t.Fatalf("a text frame %q, want binary", msg)
		}
		return []byte(msg)
	}
	send(&parser.Packet{Type: parser.CONNECT, Nsp: "/"})
	connect := read()
	p, err := msgpackparser.Decode(connect)
	if err != nil {
		t.Fatalf("CONNECT answer %x: %v", connect, err)
	}
	sid, _ := p.Data.(map[string]any)["sid"].(string)
	if sid == "" {
		t.Fatalf("CONNECT answer %v without sid", p)
	}
	// The Go library's ids are 24 characters long, Node's 20: the id
	// with its fixstr header is masked.
	if len(sid) >= 32 {
		t.Fatalf("sid %q is no fixstr", sid)
	}
	connect = bytes.Replace(connect, append([]byte{0xa0 | byte(len(sid))}, sid...), []byte("<sid>"), 1)

	send(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"go"}})
	ev, bc := read(), read()
	id := uint64(5)
	send(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"ask", 1, "two"}, Id: &id})
	ack := read()
	send(&parser.Packet{Type: parser.CONNECT, Nsp: "/nope"})
	refused := read()
	return [][]byte{connect, ev, bc, ack, refused}
}
