package redisadapter

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
)

// Messages socket.io 4.8.4 with @socket.io/redis-adapter 8.3.0 published
// (captured with redis-cli MONITOR; the adapter's uid was "9hzGkZ"), for
//
//	io.emit("hello", {a: 1, b: "x", c: 1.5, d: null, e: true, f: [1, -2, 300, 70000, 5000000000]})
//	io.to("r1").emit("bin", Buffer.from([0, 1, 2]))
//	io.to(["r1", "r2"]).except("e1").emit("x")
//	io.in("r1").socketsJoin(["t1", "t2"])
//	io.except("r1").socketsLeave("t1")
//	io.in("r1").disconnectSockets(true)
//	io.serverSideEmit("sse", 1, "two")
//
// server/cluster_mixed_test.go checks the same against a live Node server.
var nodeGolden = []struct {
	name, channel, hex string
}{
	{"emit", "wirecheck#/#", "93a639687a476b5a83a47479706502a46461746192a568656c6c6f86a16101a162a178a163cb3ff8000000000000a164c0a165c3a1669501fecd012cce00011170cf000000012a05f200a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380"},
	{"binary to one room", "wirecheck#/#r1#", "93a639687a476b5a83a47479706502a46461746192a362696ec403000102a36e7370a12f83a5726f6f6d7391a27231a665786365707490a5666c61677380"},
	{"rooms and except", "wirecheck#/#", "93a639687a476b5a83a47479706502a46461746191a178a36e7370a12f83a5726f6f6d7392a27231a27232a665786365707491a26531a5666c61677380"},
	{"socketsJoin", "wirecheck-request#/#", `{"uid":"9hzGkZ","type":2,"opts":{"rooms":["r1"],"except":[]},"rooms":["t1","t2"]}`},
	{"socketsLeave", "wirecheck-request#/#", `{"uid":"9hzGkZ","type":3,"opts":{"rooms":[],"except":["r1"]},"rooms":["t1"]}`},
	{"disconnectSockets", "wirecheck-request#/#", `{"uid":"9hzGkZ","type":4,"opts":{"rooms":["r1"],"except":[]},"close":true}`},
	{"serverSideEmit", "wirecheck-request#/#", `{"uid":"9hzGkZ","type":6,"data":["sse",1,"two"]}`},
}

func golden(t *testing.T, name string) []byte {
	t.Helper()
	for _, g := range nodeGolden {
		if g.name == name {
			if g.hex[0] == '{' {
				return []byte(g.hex)
			}
			b, err := hex.DecodeString(g.hex)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no golden %q", name)
	return nil
}

func opts(rooms, except []socket.Room) *socket.BroadcastOptions {
	return &socket.BroadcastOptions{Rooms: types.NewSet(rooms...), Except: types.NewSet(except...), Flags: &socket.BroadcastFlags{}}
}

// TestEncodeLikeNode: the same broadcasts and requests made in Go are
// byte for byte what Node published.
func TestEncodeLikeNode(t *testing.T) {
	hello := map[string]any{"a": 1, "b": "x", "c": 1.5, "d": nil, "e": true, "f": []any{1, -2, 300, 70000, int64(5000000000)}}
	tests := []struct {
		name string
		enc  func() ([]byte, error)
	}{
		{"emit", func() ([]byte, error) {
			return encodeBroadcast("9hzGkZ", &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"hello", hello}}, opts(nil, nil))
		}},
		{"binary to one room", func() ([]byte, error) {
			return encodeBroadcast("9hzGkZ", &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"bin", []byte{0, 1, 2}}}, opts([]socket.Room{"r1"}, nil))
		}},
		{"rooms and except", func() ([]byte, error) {
			return encodeBroadcast("9hzGkZ", &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"x"}}, opts([]socket.Room{"r2", "r1"}, []socket.Room{"e1"}))
		}},
		{"socketsJoin", func() ([]byte, error) {
			rl := nodewire.RoomList{"t1", "t2"}
			return nodewire.MarshalJSON(&request{UID: "9hzGkZ", Type: typeRemoteJoin, Opts: optsToWire(opts([]socket.Room{"r1"}, nil)), Rooms: &rl})
		}},
		{"socketsLeave", func() ([]byte, error) {
			rl := nodewire.RoomList{"t1"}
			return nodewire.MarshalJSON(&request{UID: "9hzGkZ", Type: typeRemoteLeave, Opts: optsToWire(opts(nil, []socket.Room{"r1"})), Rooms: &rl})
		}},
		{"disconnectSockets", func() ([]byte, error) {
			return nodewire.MarshalJSON(&request{UID: "9hzGkZ", Type: typeRemoteDisconnect, Opts: optsToWire(opts([]socket.Room{"r1"}, nil)), Close: ptr(true)})
		}},
		{"serverSideEmit", func() ([]byte, error) {
			return nodewire.MarshalJSON(&request{UID: "9hzGkZ", Type: typeServerSideEmit, Data: []any{"sse", 1, "two"}})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.enc()
			if err != nil {
				t.Fatal(err)
			}
			if want := golden(t, tc.name); !bytes.Equal(got, want) {
				t.Errorf("Go wrote\n%x\nNode wrote\n%x", got, want)
			}
		})
	}
}

// TestDecodeNode: what Node published reads back as the values a Go
// server hands its own clients.
func TestDecodeNode(t *testing.T) {
	uid, p, o, err := decodeBroadcast(golden(t, "emit"))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"hello", obj("a", 1.0, "b", "x", "c", 1.5, "d", nil, "e", true, "f", []any{1.0, -2.0, 300.0, 70000.0, 5e9})}
	if uid != "9hzGkZ" || p.Type != parser.EVENT || p.Nsp != "/" || !reflect.DeepEqual(p.Data, want) {
		t.Errorf("decoded %q %v %q %#v", uid, p.Type, p.Nsp, p.Data)
	}
	if o.Rooms.Len() != 0 || o.Except.Len() != 0 || o.Flags.Volatile || o.Flags.Local {
		t.Errorf("opts %v %v %+v", o.Rooms.Keys(), o.Except.Keys(), o.Flags)
	}

	_, p, o, err = decodeBroadcast(golden(t, "binary to one room"))
	if err != nil || !reflect.DeepEqual(p.Data, []any{"bin", []byte{0, 1, 2}}) || !o.Rooms.Has("r1") {
		t.Errorf("binary: %v %#v %v", err, p.Data, o.Rooms.Keys())
	}
	_, _, o, err = decodeBroadcast(golden(t, "rooms and except"))
	if err != nil || o.Rooms.Len() != 2 || !o.Rooms.Has("r2") || !o.Except.Has("e1") {
		t.Errorf("rooms and except: %v %v %v", err, o.Rooms.Keys(), o.Except.Keys())
	}

	req, err := decodeRequest(golden(t, "socketsJoin"))
	if err != nil || req.Type != typeRemoteJoin || req.UID != "9hzGkZ" || fmt.Sprint(req.Opts.Rooms, *req.Rooms) != "[r1] [t1 t2]" {
		t.Errorf("socketsJoin: %v %+v", err, req)
	}
	req, err = decodeRequest(golden(t, "serverSideEmit"))
	if err != nil || !reflect.DeepEqual(req.Data, []any{"sse", 1.0, "two"}) {
		t.Errorf("serverSideEmit: %v %+v", err, req)
	}
}

// TestBroadcastRequestRoundTrip: a broadcast with acks, its flags and the
// ack answer survive encoding.
func TestBroadcastRequestRoundTrip(t *testing.T) {
	timeout := 1500 * time.Millisecond
	compress := false
	o := opts([]socket.Room{"a"}, []socket.Room{"b"})
	o.Flags = &socket.BroadcastFlags{Timeout: &timeout}
	o.Flags.Volatile = true
	o.Flags.Compress = &compress
	raw, err := encodeBroadcastRequest("uid123", "req456", &parser.Packet{Type: parser.EVENT, Nsp: "/chat", Data: []any{"q", 7}}, o)
	if err != nil {
		t.Fatal(err)
	}
	req, err := decodeRequest(raw)
	if err != nil {
		t.Fatal(err)
	}
	f := req.bopts.Flags
	if req.Type != typeBroadcast || req.UID != "uid123" || req.RequestID != "req456" || req.packet.Nsp != "/chat" ||
		!reflect.DeepEqual(req.packet.Data, []any{"q", 7.0}) || !req.bopts.Rooms.Has("a") || !req.bopts.Except.Has("b") ||
		f.Timeout == nil || *f.Timeout != timeout || !f.Volatile || f.Compress == nil || *f.Compress {
		t.Errorf("round trip: %+v packet %+v flags %+v", req, req.packet, f)
	}
	raw, _ = encodeBroadcastAck("req456", map[string]any{"ok": true})
	res, err := decodeResponse(raw)
	if err != nil || res.RequestID != "req456" || *res.Type != typeBroadcastAck || !reflect.DeepEqual(res.packet, obj("ok", true)) {
		t.Errorf("ack: %v %+v", err, res)
	}
}

// TestEncodeStructs: Go values that are not plain JSON-like data travel in
// their JSON form, keys in struct order.
func TestEncodeStructs(t *testing.T) {
	type inner struct {
		ID   string `json:"_id"`
		Name string `json:"name"`
	}
	type event struct {
		Action string    `json:"action"`
		Post   inner     `json:"post"`
		When   time.Time `json:"when"`
		Skip   string    `json:"-"`
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	raw, err := encodeBroadcast("u", &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"posts", event{"create", inner{"abc", "Ada"}, at, "x"}}}, opts(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, p, _, err := decodeBroadcast(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"posts", obj("action", "create", "post", obj("_id", "abc", "name", "Ada"), "when", "2026-01-02T03:04:05.006Z")}
	if !reflect.DeepEqual(p.Data, want) {
		t.Errorf("decoded %#v", p.Data)
	}
	// Key order: action before post before when, as in the struct.
	if i, j := bytes.Index(raw, []byte("action")), bytes.Index(raw, []byte("post\x82")); i < 0 || j < 0 || i > j {
		t.Errorf("struct key order lost: %x", raw)
	}
}

func TestFromUID(t *testing.T) {
	raw := golden(t, "emit")
	if !fromUID(raw, "9hzGkZ") || fromUID(raw, "9hzGkY") || fromUID(raw[:4], "9hzGkZ") {
		t.Error("fromUID")
	}
	if got := escapeGlob(`a*b?[c]\`); got != `a\*b\?\[c\]\\` {
		t.Errorf("escapeGlob: %s", got)
	}
}

// A fetchSockets answer of socket.io 4.8.4 / redis-adapter 8.3.0, as
// published (redis-cli MONITOR).
const nodeFetchAnswer = `{"requestId":"XwA5gp","sockets":[{"id":"pyQQrSzvUdGLj1NLAAAA","handshake":{"headers":{"sec-websocket-version":"13","sec-websocket-key":"HNfjW7EsufJc3urp7+hRyg==","connection":"Upgrade","upgrade":"websocket","sec-websocket-extensions":"permessage-deflate; client_max_window_bits","host":"127.0.0.1:39495"},"time":"Wed Nov 25 2026 08:25:52 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1795595152615,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{}},"rooms":["pyQQrSzvUdGLj1NLAAAA"],"data":{"server":"node","n":1}}]}`

// TestDecodeNodeSockets: Node's sockets read as SocketDetails; one whose
// handshake has an unexpected shape keeps its id, rooms and data.
func TestDecodeNodeSockets(t *testing.T) {
	res, err := decodeResponse([]byte(nodeFetchAnswer))
	if err != nil || res.RequestID != "XwA5gp" {
		t.Fatalf("%v %+v", err, res)
	}
	var raws []json.RawMessage
	_ = json.Unmarshal(res.Sockets, &raws)
	rs := nodewire.RemoteSocket(raws[0])
	hs := rs.Handshake()
	if rs.Id() != "pyQQrSzvUdGLj1NLAAAA" || !rs.Rooms().Has("pyQQrSzvUdGLj1NLAAAA") || string(mustMarshal(t, rs.Data())) != `{"server":"node","n":1}` ||
		hs.Url != "/socket.io/?EIO=4&transport=websocket" || hs.Issued != 1795595152615 || hs.Headers["upgrade"] != "websocket" || hs.Query["EIO"] != "4" {
		t.Errorf("decoded %+v, handshake %+v", rs, hs)
	}
	odd := nodewire.RemoteSocket(json.RawMessage(`{"id":"x","handshake":{"auth":"a string","issued":"soon"},"rooms":[1,"r"],"data":null}`))
	if odd == nil || odd.Id() != "x" || !odd.Rooms().Has("1") || odd.Handshake() == nil {
		t.Errorf("odd socket %+v", odd)
	}
}

// TestNodeHandshake: a Go socket's handshake goes out in Node's shape.
func TestNodeHandshake(t *testing.T) {
	h := nodewire.NodeHandshake(&socket.Handshake{
		Headers: types.IncomingHttpHeaders{"Upgrade": []string{"websocket"}, "Accept": []string{"a", "b"}, "Set-Cookie": []string{"x=1"}},
		Query:   types.ParsedUrlQuery{"EIO": []string{"4"}, "tag": []string{"a", "b"}},
	})
	raw, _ := json.Marshal(h)
	for _, want := range []string{`"upgrade":"websocket"`, `"accept":"a, b"`, `"set-cookie":["x=1"]`, `"EIO":"4"`, `"tag":["a","b"]`, `"auth":{}`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("%s lacks %s", raw, want)
		}
	}
}
