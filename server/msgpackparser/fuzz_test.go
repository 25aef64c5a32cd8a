package msgpackparser

import (
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
)

// FuzzDecode: any message decodes or is refused, never panics, and
// allocates in proportion to its size; what decodes re-encodes, and that
// decodes to the same packet type, namespace and id.
func FuzzDecode(f *testing.F) {
	enc := New().NewEncoder()
	id := uint64(1)
	for _, p := range []*parser.Packet{
		{Type: parser.CONNECT, Nsp: "/", Data: map[string]any{"token": "t"}},
		{Type: parser.EVENT, Nsp: "/", Data: []any{"a", 1.5, []byte{1}, map[string]any{"k": []any{nil, true}}}, Id: &id},
		{Type: parser.ACK, Nsp: "/x", Data: []any{"ok"}, Id: &id},
		{Type: parser.DISCONNECT, Nsp: "/"},
		{Type: parser.CONNECT_ERROR, Nsp: "/", Data: "no"},
	} {
		f.Add(enc.Encode(p)[0].Bytes())
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x81, 0xa4, 't', 'y', 'p', 'e', 0xd7, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := Decode(raw)
		if err != nil {
			return
		}
		again, err := Decode(enc.Encode(p)[0].Bytes())
		if err != nil {
			t.Fatalf("re-encoded %v does not decode: %v", p, err)
		}
		if again.Type != p.Type || again.Nsp != p.Nsp || (again.Id == nil) != (p.Id == nil) || (p.Id != nil && *again.Id != *p.Id) {
			t.Fatalf("re-encoded %v decodes as %v", p, again)
		}
	})
}
