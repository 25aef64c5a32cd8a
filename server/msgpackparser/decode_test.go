package msgpackparser

import (
	"encoding/hex"
	"errors"
	"reflect"
	"testing"

	"feedrt/server/nodewire"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// packetBytes is a msgpack map of the key/value pairs kv, as a client
// writes a packet.
func packetBytes(t testing.TB, kv ...any) []byte {
	t.Helper()
	b := nodewire.AppendMapLen(nil, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		b = nodewire.AppendString(b, kv[i].(string))
		if raw, ok := kv[i+1].(rawValue); ok {
			b = append(b, raw...)
			continue
		}
		var err error
		if b, err = nodewire.AppendValue(b, kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// rawValue is msgpack bytes put in a packet as they are.
type rawValue []byte

func mustHex(s string) rawValue {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecode(t *testing.T) {
	id := uint64(3)
	cases := []struct {
		name string
		raw  []byte
		want *parser.Packet
	}{
		{"connect", packetBytes(t, "type", 0, "nsp", "/"), &parser.Packet{Type: parser.CONNECT, Nsp: "/"}},
		{"connect with auth", packetBytes(t, "type", 0, "nsp", "/a", "data", map[string]any{"token": "x"}),
			&parser.Packet{Type: parser.CONNECT, Nsp: "/a", Data: map[string]any{"token": "x"}}},
		{"event, as socket.io-client writes it (options too)",
			packetBytes(t, "type", 2, "data", []any{"hi", 1, -2.5, []byte{9}, nil, map[string]any{"k": true}}, "options", map[string]any{"compress": true}, "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"hi", 1.0, -2.5, types.NewBytesBuffer([]byte{9}), nil, map[string]any{"k": true}}}},
		{"event with ack id", packetBytes(t, "type", 2, "data", []any{"a"}, "id", 3, "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a"}, Id: &id}},
		{"id as an integral float", packetBytes(t, "type", 2, "data", []any{"a"}, "id", mustHex("cb4008000000000000"), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a"}, Id: &id}},
		{"id undefined", packetBytes(t, "type", 2, "data", []any{"a"}, "id", mustHex("d40000"), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a"}}},
		{"numeric event name", packetBytes(t, "type", 2, "data", []any{1}, "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{1.0}}},
		{"ack", packetBytes(t, "id", 3, "type", 3, "data", []any{}, "nsp", "/"),
			&parser.Packet{Type: parser.ACK, Nsp: "/", Data: []any{}, Id: &id}},
		{"disconnect", packetBytes(t, "type", 1, "nsp", "/"), &parser.Packet{Type: parser.DISCONNECT, Nsp: "/"}},
		{"connect error", packetBytes(t, "type", 4, "nsp", "/", "data", "no"), &parser.Packet{Type: parser.CONNECT_ERROR, Nsp: "/", Data: "no"}},
		{"undefined in objects and arrays, as JSON would drop it",
			packetBytes(t, "type", 2, "data", rawValue(append(mustHex("93a161"), append(mustHex("d40000"), mustHex("81a178d40000")...)...)), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a", nil, map[string]any{}}}},
		{"ArrayBuffer (ext 0) is binary", packetBytes(t, "type", 2, "data", rawValue(mustHex("92a161c7020001ff")), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a", types.NewBytesBuffer([]byte{1, 0xff})}}},
		{"Date is its ISO string", packetBytes(t, "type", 2, "data", rawValue(mustHex("92a161d7000000018cc820d88e")), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a", "2024-01-02T03:04:05.006Z"}}},
		{"other extension is [type, binary]", packetBytes(t, "type", 2, "data", rawValue(mustHex("92a161d50501ff")), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a", []any{5.0, types.NewBytesBuffer([]byte{1, 0xff})}}}},
		{"every integer form is a float64", packetBytes(t, "type", 2, "data", rawValue(mustHex("96a161cc80d0dfcf0020000000000000ca3fc00000d3ffffffff7fffffff")), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a", 128.0, -33.0, float64(1 << 53), 1.5, -2147483649.0}}},
		{"repeated key takes the last value", packetBytes(t, "type", 2, "data", rawValue(mustHex("92a16182a16101a16102")), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a", map[string]any{"a": 2.0}}}},
		{"invalid UTF-8 replaced", packetBytes(t, "type", 2, "data", rawValue(mustHex("91a2ff61")), "nsp", "/"),
			&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"\uFFFDa"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	big := append(mustHex("91dd"), 0xff, 0xff, 0xff, 0xff) // an array claiming 4 G elements
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty", nil, nodewire.ErrTruncated},
		{"not a map", mustHex("93010203"), ErrPacketType},
		{"nil", mustHex("c0"), ErrPacketType},
		{"no type", packetBytes(t, "nsp", "/"), ErrPacketType},
		{"type a string", packetBytes(t, "type", "2", "nsp", "/"), ErrPacketType},
		{"type a fraction", packetBytes(t, "type", 2.5, "nsp", "/"), ErrPacketType},
		{"binary event type", packetBytes(t, "type", 5, "nsp", "/", "data", []any{"a"}), ErrPacketType},
		{"negative type", packetBytes(t, "type", -1, "nsp", "/"), ErrPacketType},
		{"no nsp", packetBytes(t, "type", 0), ErrNamespace},
		{"nsp a number", packetBytes(t, "type", 0, "nsp", 1), ErrNamespace},
		{"nsp too long", packetBytes(t, "type", 0, "nsp", string(make([]byte, 513))), ErrNamespace},
		{"connect with an array", packetBytes(t, "type", 0, "nsp", "/", "data", []any{}), ErrPayload},
		{"disconnect with data", packetBytes(t, "type", 1, "nsp", "/", "data", "x"), ErrPayload},
		{"event without data", packetBytes(t, "type", 2, "nsp", "/"), ErrPayload},
		{"event with an object", packetBytes(t, "type", 2, "nsp", "/", "data", map[string]any{}), ErrPayload},
		{"event with no name", packetBytes(t, "type", 2, "nsp", "/", "data", []any{}), ErrPayload},
		{"reserved event name", packetBytes(t, "type", 2, "nsp", "/", "data", []any{"disconnect"}), ErrPayload},
		{"event name an object", packetBytes(t, "type", 2, "nsp", "/", "data", []any{map[string]any{}}), ErrPayload},
		{"ack with a string", packetBytes(t, "type", 3, "nsp", "/", "data", "x", "id", 1), ErrPayload},
		{"connect error with an array", packetBytes(t, "type", 4, "nsp", "/", "data", []any{}), ErrPayload},
		{"id a string", packetBytes(t, "type", 2, "nsp", "/", "data", []any{"a"}, "id", "1"), ErrID},
		{"id negative", packetBytes(t, "type", 2, "nsp", "/", "data", []any{"a"}, "id", -1), ErrID},
		{"id a fraction", packetBytes(t, "type", 2, "nsp", "/", "data", []any{"a"}, "id", 1.5), ErrID},
		{"trailing bytes", append(packetBytes(t, "type", 0, "nsp", "/"), 0), nodewire.ErrTrailing},
		{"array longer than the message", big, nodewire.ErrTruncated},
		{"map longer than the message", append(mustHex("df"), 0xff, 0xff, 0xff, 0xff), nodewire.ErrTruncated},
		{"string longer than the message", append(mustHex("db"), 0x7f, 0xff, 0xff, 0xff), nodewire.ErrTruncated},
		{"bin longer than the message", append(mustHex("c6"), 0xff, 0xff, 0xff, 0xff, 1), nodewire.ErrTruncated},
		{"ext longer than the message", append(mustHex("c9"), 0xff, 0xff, 0xff, 0xff, 0, 1), nodewire.ErrTruncated},
		{"truncated float", mustHex("cb3ff8"), nodewire.ErrTruncated},
		{"truncated fixext", mustHex("d4"), nodewire.ErrTruncated},
		{"nested too deep", append(repeat(0x91, nodewire.MaxDepth+2), 0xc0), nodewire.ErrDepth},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Decode(c.raw)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want error %v", p, err, c.want)
			}
		})
	}
	for _, raw := range [][]byte{mustHex("c1"), packetBytes(t, "type", 0, "nsp", "/", "data", rawValue(mustHex("81c3c0")))} { // 0xc1; a key true
		if _, err := Decode(raw); err == nil {
			t.Errorf("%x decoded", raw)
		}
	}
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// TestDecoderAdd: a text message is refused (the library then closes
// the client), a binary one emits its packet.
func TestDecoderAdd(t *testing.T) {
	d := New().NewDecoder()
	var got []*parser.Packet
	_ = d.On("decoded", func(args ...any) { got = append(got, args[0].(*parser.Packet)) })
	if err := d.Add(types.NewStringBufferString("2[\"a\"]")); !errors.Is(err, ErrText) {
		t.Fatalf("text: %v", err)
	}
	if err := d.Add(types.NewBytesBuffer(packetBytes(t, "type", 0, "nsp", "/"))); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Type != parser.CONNECT {
		t.Fatalf("decoded %v", got)
	}
}

// TestRoundTrip: what the encoder writes, the decoder reads back as the
// values a JSON round trip gives.
func TestRoundTrip(t *testing.T) {
	id := uint64(12)
	in := &parser.Packet{Type: parser.EVENT, Nsp: "/chat", Id: &id, Data: []any{"ev",
		map[string]any{"n": 1, "f": -1.25, "s": "x", "b": []byte{1, 2}, "l": []any{true, nil}}}}
	out, err := Decode(New().NewEncoder().Encode(in)[0].Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := &parser.Packet{Type: parser.EVENT, Nsp: "/chat", Id: &id, Data: []any{"ev",
		map[string]any{"n": 1.0, "f": -1.25, "s": "x", "b": types.NewBytesBuffer([]byte{1, 2}), "l": []any{true, nil}}}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got  %#v\nwant %#v", out, want)
	}
}
