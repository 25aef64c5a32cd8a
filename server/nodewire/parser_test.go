package nodewire

import (
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// TestParserWritesJSONAsNode: packets come out as the library writes them, but
// with '<', '>' and '&' unescaped, as Node's JSON.stringify writes them.
func TestParserWritesJSONAsNode(t *testing.T) {
	id := uint64(7)
	enc := Parser(parser.NewParser()).NewEncoder()
	cases := []struct {
		name string
		p    *parser.Packet
		want []string
	}{
		{"event", &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"posts", map[string]any{"title": "Q&A <b>"}}},
			[]string{`2["posts",{"title":"Q&A <b>"}]`}},
		{"namespace and ack id", &parser.Packet{Type: parser.EVENT, Nsp: "/admin", Id: &id, Data: []any{"x", "a<b"}},
			[]string{`2/admin,7["x","a<b"]`}},
		{"ack", &parser.Packet{Type: parser.ACK, Nsp: "/", Id: &id, Data: []any{"&"}}, []string{`37["&"]`}},
		{"nil containers", &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"auth", map[string]any(nil), []any(nil)}},
			[]string{`2["auth",{},[]]`}},
		{"connect", &parser.Packet{Type: parser.CONNECT, Nsp: "/", Data: map[string]any{"sid": "abc"}}, []string{`0{"sid":"abc"}`}},
		{"no data", &parser.Packet{Type: parser.DISCONNECT, Nsp: "/x"}, []string{`1/x,`}},
		{"binary", &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"bin", "<&>", []byte{1, 2}}},
			[]string{`51-["bin","<&>",{"_placeholder":true,"num":0}]`, "\x01\x02"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := enc.Encode(tc.p)
			if len(got) != len(tc.want) {
				t.Fatalf("%d parts, want %d", len(got), len(tc.want))
			}
			for i, part := range got {
				if part.String() != tc.want[i] {
					t.Errorf("part %d = %q, want %q", i, part.String(), tc.want[i])
				}
			}
			if _, ok := got[0].(*types.StringBuffer); !ok {
				t.Errorf("text part is a %T, want *types.StringBuffer (the fan-out frames those once)", got[0])
			}
		})
	}
}
