package redisadapter

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// obj builds an Object of key, value pairs, in that order.
func obj(kv ...any) *nodewire.Object {
	var keys []string
	var values []any
	for i := 0; i+1 < len(kv); i += 2 {
		keys, values = append(keys, kv[i].(string)), append(values, kv[i+1])
	}
	return nodewire.NewObject(keys, values)
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// clientText is what the Go Socket.IO encoder writes to a client for an
// event with data, as the library's adapter and ours encode broadcasts.
func clientText(t *testing.T, data any) string {
	t.Helper()
	enc := parser.NewEncoder().Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: data})
	if len(enc) != 1 {
		t.Fatalf("%d parts", len(enc))
	}
	return string(enc[0].Bytes())
}

// TestCodecKeepsOrder: a map notepack.io wrote, {b: 1, a: {d: 2, c: 3}},
// reaches a client with its keys in that order, and encodes back to the
// same bytes.
func TestCodecKeepsOrder(t *testing.T) {
	raw, _ := hex.DecodeString("82a16201a16182a16402a16303")
	v, err := nodewire.DecodeMsgpack(raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := obj("b", 1.0, "a", obj("d", 2.0, "c", 3.0)); !reflect.DeepEqual(v, want) {
		t.Errorf("decoded %#v", v)
	}
	if got, want := clientText(t, []any{"posts", v}), `2["posts",{"b":1,"a":{"d":2,"c":3}}]`; got != want {
		t.Errorf("client gets %s, want %s", got, want)
	}
	if b, err := nodewire.AppendValue(nil, v); err != nil || !bytes.Equal(b, raw) {
		t.Errorf("re-encoded %x (%v), want %x", b, err, raw)
	}
	o := v.(*nodewire.Object)
	if a, ok := o.Get("a"); o.Len() != 2 || !ok || a.(*nodewire.Object).Keys()[0] != "d" {
		t.Errorf("Get/Len/Keys on %#v", o)
	}
}

// roundTrip publishes data as an event to all and returns the data
// another server decodes from it.
func roundTrip(t *testing.T, data []any) any {
	t.Helper()
	raw, err := encodeBroadcast("u1", &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: data}, opts(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, p, _, err := decodeBroadcast(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p.Data
}

// TestCodecExactValues: integers, floats, nil, booleans, strings and
// binary come back as the sender had them, and what the clients receive
// is the sender's JSON.
func TestCodecExactValues(t *testing.T) {
	big := int64(1)<<60 + 1
	data := []any{"v", obj("i", 7, "neg", -70000, "big", big, "huge", uint64(1)<<63+3, "f", 0.1, "whole", 2.0, "nil", nil, "t", true, "s", "é<&>", "list", []any{1, 1.5, "x"})}
	decoded := roundTrip(t, data)
	want := []any{"v", obj("i", 7.0, "neg", -70000.0, "big", big, "huge", uint64(1)<<63+3, "f", 0.1, "whole", 2.0, "nil", nil, "t", true, "s", "é<&>", "list", []any{1.0, 1.5, "x"})}
	if !reflect.DeepEqual(decoded, want) {
		t.Errorf("decoded %#v", decoded)
	}
	if got, sent := clientText(t, decoded), clientText(t, data); got != sent {
		t.Errorf("the receiver's clients get\n%s\nthe sender's\n%s", got, sent)
	}

	bin := []any{"b", obj("z", 1, "blob", []byte{0, 1}, "deep", obj("y", []byte{2}))}
	decoded = roundTrip(t, bin)
	if want := []any{"b", obj("z", 1.0, "blob", []byte{0, 1}, "deep", obj("y", []byte{2}))}; !reflect.DeepEqual(decoded, want) {
		t.Errorf("binary decoded %#v", decoded)
	}
}

// TestCodecParser: nodewire.Parser's encoder sends binary inside objects as
// attachments, keys in order and placeholders numbered as Node numbers
// them, without changing the data; without it, the adapter hands the
// library's encoder maps, in which it finds the binary.
func TestCodecParser(t *testing.T) {
	data := []any{"b", obj("z", 1.0, "blob", []byte{0, 1}, "deep", obj("y", []byte{2})), "off"}
	enc := nodewire.Parser(parser.NewParser()).NewEncoder()
	parts := enc.Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: data})
	want := `52-["b",{"z":1,"blob":{"_placeholder":true,"num":0},"deep":{"y":{"_placeholder":true,"num":1}}},"off"]`
	if len(parts) != 3 || string(parts[0].Bytes()) != want || !bytes.Equal(parts[1].Bytes(), []byte{0, 1}) || !bytes.Equal(parts[2].Bytes(), []byte{2}) {
		t.Errorf("encoded %d parts, header %s", len(parts), parts[0].Bytes())
	}
	id := uint64(4)
	parts = enc.Encode(&parser.Packet{Type: parser.ACK, Nsp: "/chat", Id: &id, Data: []any{obj("b", []byte{9})}})
	if len(parts) != 2 || string(parts[0].Bytes()) != `61-/chat,4[{"b":{"_placeholder":true,"num":0}}]` {
		t.Errorf("ack header %s", parts[0].Bytes())
	}
	if again := clientText(t, []any{"x", obj("b", 1, "a", 2)}); again != `2["x",{"b":1,"a":2}]` {
		t.Errorf("no binary: %s", again)
	}
	if !reflect.DeepEqual(data[1], obj("z", 1.0, "blob", []byte{0, 1}, "deep", obj("y", []byte{2}))) {
		t.Errorf("data changed: %#v", data[1])
	}
	plain := nodewire.Deliverable(data, false)
	if !parser.HasBinary(plain) || !reflect.DeepEqual(plain.([]any)[1], map[string]any{"z": 1.0, "blob": []byte{0, 1}, "deep": map[string]any{"y": []byte{2}}}) {
		t.Errorf("as maps: %#v", plain)
	}
}

// TestCodecJSONMessages: the JSON messages (requests, responses, and
// broadcasts of a Node adapter set up with a JSON parser) keep the
// order of the objects they carry too.
func TestCodecJSONMessages(t *testing.T) {
	uid, p, o, err := decodeBroadcast([]byte(`["n1",{"type":2,"data":["posts",{"b":1,"a":[{"y":null,"x":2.5}]}],"nsp":"/"},{"rooms":["r1"],"except":[],"flags":{"volatile":true}}]`))
	if err != nil || uid != "n1" || !o.Rooms.Has("r1") || !o.Flags.Volatile {
		t.Fatalf("JSON broadcast: %v %q %+v", err, uid, o)
	}
	if got := clientText(t, p.Data); got != `2["posts",{"b":1,"a":[{"y":null,"x":2.5}]}]` {
		t.Errorf("JSON broadcast reaches clients as %s", got)
	}

	req, err := decodeRequest([]byte(`{"uid":"n1","type":6,"data":["sse",{"b":1,"a":2},9007199254740993]}`))
	if err != nil || req.Type != typeServerSideEmit || !reflect.DeepEqual(req.Data, []any{"sse", obj("b", 1.0, "a", 2.0), int64(9007199254740993)}) {
		t.Errorf("serverSideEmit request: %v %#v", err, req)
	}
	res, err := decodeResponse([]byte(`{"type":6,"requestId":"r1","data":{"from":"node","args":["q"]}}`))
	if err != nil || res.RequestID != "r1" || string(mustMarshal(t, res.data)) != `{"from":"node","args":["q"]}` {
		t.Errorf("serverSideEmit response: %v %#v", err, res)
	}

	req, err = decodeRequest([]byte(`{"uid":"n1","requestId":"r2","type":7,"packet":{"type":2,"data":["ask",{"b":1,"a":2}],"nsp":"/","id":3},"opts":{"rooms":[],"except":["e"],"flags":{"timeout":1000}}}`))
	if err != nil || req.packet == nil || req.bopts == nil || !req.bopts.Except.Has("e") || req.bopts.Flags.Timeout == nil {
		t.Fatalf("broadcast request: %v %#v", err, req)
	}
	if got := clientText(t, req.packet.Data); got != `2["ask",{"b":1,"a":2}]` {
		t.Errorf("broadcast request reaches clients as %s", got)
	}
	res, err = decodeResponse([]byte(`{"type":9,"requestId":"r2","packet":{"b":1,"a":2}}`))
	if err != nil || res.Type == nil || *res.Type != typeBroadcastAck || string(mustMarshal(t, res.packet)) != `{"b":1,"a":2}` {
		t.Errorf("broadcast ack: %v %#v", err, res)
	}
	res, _ = decodeResponse([]byte(`{"requestId":"r3","sockets":[{"id":"s1","handshake":{},"rooms":[],"data":{"server":"node","n":1}}]}`))
	var raws []json.RawMessage
	_ = json.Unmarshal(res.Sockets, &raws)
	if rs := nodewire.RemoteSocket(raws[0]); rs == nil || string(mustMarshal(t, rs.Data())) != `{"server":"node","n":1}` {
		t.Errorf("fetchSockets data: %#v", rs)
	}
}

// TestCodecTranscodesStructs: a Go struct is published with its fields
// in order, and re-decoded keeps them so.
func TestCodecTranscodesStructs(t *testing.T) {
	type post struct {
		ID      string `json:"_id"`
		Title   string `json:"title"`
		Content string `json:"content"`
	}
	sent := []any{"posts", map[string]any{"action": "create", "post": post{"p1", "T", "C"}}}
	if got, want := clientText(t, roundTrip(t, sent)), clientText(t, sent); got != want || want != `2["posts",{"action":"create","post":{"_id":"p1","title":"T","content":"C"}}]` {
		t.Errorf("the receiver's clients get\n%s\nthe sender's\n%s", got, want)
	}
}

// TestCodecAdapterKnowsParser: the adapter hands data from other servers
// on as it came when the server has nodewire.Parser's encoder, and with objects
// holding binary as maps when it has the library's own.
func TestCodecAdapterKnowsParser(t *testing.T) {
	url := redisURL(t)
	for _, withParser := range []bool{false, true} {
		c, err := Open(redisbase.Addr{URL: url}, testOptions(prefix(t)))
		if err != nil {
			t.Fatal(err)
		}
		so := socket.DefaultServerOptions()
		so.SetAdapter(c)
		if withParser {
			so.SetParser(nodewire.Parser(parser.NewParser()))
		}
		io := socket.NewServer(nil, so)
		a, ok := io.Sockets().Adapter().(*Adapter)
		if !ok {
			t.Fatalf("adapter %T", io.Sockets().Adapter())
		}
		data := []any{"b", obj("b", 1.0, "a", []byte{1}), obj("plain", true)}
		want := []any{"b", map[string]any{"b": 1.0, "a": []byte{1}}, obj("plain", true)}
		if withParser {
			want = data
		}
		if got := a.deliverable(data); !reflect.DeepEqual(got, want) {
			t.Errorf("with Parser %v: %#v", withParser, got)
		}
		io.Close(nil)
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}
}
