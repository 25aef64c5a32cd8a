package redisstreams

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// golden is what Node's @socket.io/redis-streams-adapter 0.3.1 wrote to
// Redis, recorded by testdata/nodegen/gen.js.
type golden struct {
	Entries   []map[string]any `json:"entries"`
	Session   string           `json:"session"`
	Published []string         `json:"published"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden/node.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Entries) != 10 || len(g.Published) != 3 || g.Session == "" {
		t.Fatalf("golden file: %d entries, %d published, session %q", len(g.Entries), len(g.Published), g.Session)
	}
	return g
}

// TestNodeEntriesRoundTrip: every stream entry and channel message Node
// wrote decodes, and written again by this package gives Node's bytes.
func TestNodeEntriesRoundTrip(t *testing.T) {
	g := loadGolden(t)
	for i, e := range g.Entries {
		m, err := decodeEntry(e)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		fields, err := entryFields(m.UID, m.Nsp, m.Type, m.Value)
		if err != nil {
			t.Fatal(err)
		}
		want := []any{"uid", e["uid"], "nsp", e["nsp"], "type", e["type"], "data", e["data"]}
		if !reflect.DeepEqual(fields, want) {
			t.Errorf("entry %d written again:\n%v\nwant\n%v", i, fields, want)
		}
	}
	for i, b64 := range g.Published {
		raw, _ := base64.StdEncoding.DecodeString(b64)
		m, err := decodePubSub(raw)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		again, err := encodePubSub(m.UID, m.Nsp, m.Type, m.Value)
		if err != nil || base64.StdEncoding.EncodeToString(again) != b64 {
			t.Errorf("message %d written again: %x (%v), want %x", i, again, err, raw)
		}
	}
}

// TestNodeEntriesDecode: the values Node sent are read as a client of a
// Node server would get them: key order, numbers, binary, rooms, flags.
func TestNodeEntriesDecode(t *testing.T) {
	g := loadGolden(t)
	m, _ := decodeEntry(g.Entries[0])
	p := m.Packet()
	body, err := nodewire.MarshalJSON(p.Data)
	if err != nil {
		t.Fatal(err)
	}
	if want := `["posts",{"action":"create","post":{"_id":"65a1","title":"Q&A <b>","n":1.5,"big":9007199254740992,"neg":-7,"ok":true,"none":null}}]`; string(body) != want {
		t.Errorf("posts event data %s, want %s", body, want)
	}
	if m.Type != redisbase.TypeBroadcast || p.Type != parser.EVENT || p.Nsp != "/" {
		t.Errorf("message %+v packet %+v", m, p)
	}
	m, _ = decodeEntry(g.Entries[3])
	if o := m.Opts(); !o.Rooms.Has("red") || !o.Rooms.Has("blue") || !o.Except.Has("green") || o.Rooms.Len() != 2 {
		t.Errorf("rooms/except %v %v", o.Rooms.Keys(), o.Except.Keys())
	}
	m, _ = decodeEntry(g.Entries[4])
	data := m.Packet().Data.([]any)
	nested, _ := data[2].(*nodewire.Object).Get("nested")
	if !reflect.DeepEqual(data[1], []byte{1, 2, 3}) || !reflect.DeepEqual(nested, []byte("hi")) {
		t.Errorf("binary event data %#v", data)
	}
	m, _ = decodeEntry(g.Entries[5])
	if !m.Opts().Flags.Volatile {
		t.Error("volatile flag lost")
	}
	m, _ = decodeEntry(g.Entries[6])
	if c := m.Opts().Flags.Compress; c == nil || *c {
		t.Error("compress false lost")
	}
	m, _ = decodeEntry(g.Entries[7])
	if !reflect.DeepEqual(m.Rooms(), []socket.Room{"blue", "green"}) || !m.Opts().Rooms.Has("red") {
		t.Errorf("socketsJoin rooms %v", m.Rooms())
	}
	m, _ = decodeEntry(g.Entries[9])
	if m.Type != redisbase.TypeDisconnectSockets || m.Data["close"] != true {
		t.Errorf("disconnectSockets %+v", m)
	}
	s, err := decodeSession(g.Session)
	if err != nil {
		t.Fatal(err)
	}
	user, _ := s.Data.(*nodewire.Object).Get("user")
	if s.Sid != "sid1" || s.Pid != "pid1" || s.Rooms.Len() != 2 || !s.Rooms.Has("red") || user != "u1" {
		t.Errorf("session %+v", s)
	}
}

// post is a Go value whose JSON has the key order of the Node test's.
type post struct {
	ID    string  `json:"_id"`
	Title string  `json:"title"`
	N     float64 `json:"n"`
	Big   int64   `json:"big"`
	Neg   int     `json:"neg"`
	OK    bool    `json:"ok"`
	None  *string `json:"none"`
}

// TestGoWritesAsNode: what this package writes for Go values equals what
// Node writes for the same JavaScript values.
func TestGoWritesAsNode(t *testing.T) {
	g := loadGolden(t)
	rooms := func(rs ...socket.Room) *types.Set[socket.Room] { return types.NewSet(rs...) }
	no := false
	for _, tc := range []struct {
		entry int
		data  []any
		opts  *socket.BroadcastOptions
	}{
		{0, []any{"posts", map[string]any{"action": "create", "post": post{"65a1", "Q&A <b>", 1.5, 1 << 53, -7, true, nil}}}, nil},
		{1, []any{"room", 1}, &socket.BroadcastOptions{Rooms: rooms("red")}},
		{2, []any{"except", []any{1, "two"}}, &socket.BroadcastOptions{Except: rooms("red")}},
		{4, []any{"binary", []byte{1, 2, 3}, map[string]any{"nested": []byte("hi")}}, nil},
		{5, []any{"volatile", 1}, &socket.BroadcastOptions{Flags: &socket.BroadcastFlags{WriteOptions: socket.WriteOptions{Volatile: true}}}},
		{6, []any{"compress", 1}, &socket.BroadcastOptions{Flags: &socket.BroadcastFlags{WriteOptions: socket.WriteOptions{Options: packet.Options{Compress: &no}}}}},
	} {
		e := g.Entries[tc.entry]
		p := &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: tc.data}
		fields, err := entryFields(e["uid"].(string), "/", redisbase.TypeBroadcast, nodewire.Obj("packet", nodewire.PacketObject(p), "opts", nodewire.OptsObject(tc.opts)))
		if err != nil {
			t.Fatal(err)
		}
		if fields[7] != e["data"] {
			t.Errorf("entry %d: Go writes\n%v\nNode\n%v", tc.entry, fields[7], e["data"])
		}
	}
	join, _ := entryFields("u", "/", redisbase.TypeSocketsJoin, nodewire.Obj("opts", nodewire.OptsObject(&socket.BroadcastOptions{Rooms: rooms("red")}), "rooms", redisbase.RoomNames([]socket.Room{"blue", "green"})))
	if join[7] != g.Entries[7]["data"] {
		t.Errorf("socketsJoin: Go writes %v, Node %v", join[7], g.Entries[7]["data"])
	}
	session, _ := nodewire.EncodeMsgpack(nodewire.Obj("sid", "sid1", "pid", "pid1", "rooms", sessionRooms("sid1", rooms("red", "sid1")), "data", nodewire.NewObject([]string{"user", "n"}, []any{"u1", 2})))
	if got := base64.StdEncoding.EncodeToString(session); got != g.Session {
		t.Errorf("session: Go writes %s, Node %s", got, g.Session)
	}
	raw, _ := base64.StdEncoding.DecodeString(g.Published[0])
	sse, _ := decodePubSub(raw)
	mine, _ := encodePubSub(sse.UID, "/", redisbase.TypeServerSideEmit, nodewire.Obj("packet", []any{"hello", "world", 1}))
	if !reflect.DeepEqual(mine, raw) {
		t.Errorf("serverSideEmit: Go writes %x, Node %x", mine, raw)
	}
}

// TestHostileEntries: entries that are not what a Socket.IO server writes
// are refused, not a crash.
func TestHostileEntries(t *testing.T) {
	for _, values := range []map[string]any{
		{"uid": "x", "nsp": "/", "type": "three"},
		{"uid": "x", "nsp": "/", "type": "3", "data": "{not json"},
		{"uid": "x", "nsp": "/", "type": "3", "data": "!!!not base64"},
		{"uid": "x", "nsp": "/", "type": "3", "data": base64.StdEncoding.EncodeToString([]byte{0xc1})},
		{"uid": "x", "nsp": "/", "type": "3", "data": "[1,2]"},
		{"uid": "x", "nsp": "/", "type": "3", "data": "{" + string(make([]byte, maxFieldBytes)) + "}"},
	} {
		if _, err := decodeEntry(values); err == nil {
			t.Errorf("%.60v: no error", values)
		}
	}
	// A well-formed entry with a packet of the wrong shape is ignored.
	m, err := decodeEntry(map[string]any{"uid": "x", "nsp": "/", "type": "3", "data": `{"packet":"nope","opts":7}`})
	if err != nil || m.Packet() != nil {
		t.Errorf("entry with a bad packet: %v, %v", err, m)
	}
	if _, err := decodePubSub([]byte{0x93, 1, 2, 3}); err == nil {
		t.Error("channel message that is an array: no error")
	}
}
