package msgpackparser

import (
	"encoding/hex"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// TestEncodePackets holds each packet's keys to the order socket.io 4.8
// builds the packet object in (see Encode).
func TestEncodePackets(t *testing.T) {
	id := uint64(7)
	type connectData struct {
		Sid string `json:"sid"`
		Pid string `json:"pid,omitempty"`
	}
	cases := []struct {
		name string
		p    parser.Packet
		want string
	}{
		{"connect with pid", parser.Packet{Type: parser.CONNECT, Nsp: "/", Data: &connectData{"s", "p"}},
			"83a47479706500a46461746182a3736964a173a3706964a170a36e7370a12f"},
		{"connect, recovery off: pid undefined", parser.Packet{Type: parser.CONNECT, Nsp: "/", Data: &connectData{Sid: "s"}},
			"83a47479706500a46461746182a3736964a173a3706964d40000a36e7370a12f"},
		{"connect, protocol 3", parser.Packet{Type: parser.CONNECT, Nsp: "/"},
			"82a47479706500a36e7370a12f"},
		{"disconnect", parser.Packet{Type: parser.DISCONNECT, Nsp: "/x"},
			"82a47479706501a36e7370a22f78"},
		{"event", parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a"}},
			"83a47479706502a46461746191a161a36e7370a12f"},
		{"event with ack", parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a"}, Id: &id},
			"84a47479706502a46461746191a161a2696407a36e7370a12f"},
		{"ack", parser.Packet{Type: parser.ACK, Nsp: "/", Data: []any{}, Id: &id},
			"84a2696407a47479706503a46461746190a36e7370a12f"},
		{"connect error, unknown namespace", parser.Packet{Type: parser.CONNECT_ERROR, Nsp: "/n", Data: map[string]any{"message": "Invalid namespace"}},
			"83a47479706504a36e7370a22f6ea46461746181a76d657373616765b1496e76616c6964206e616d657370616365"},
		{"connect error, middleware", parser.Packet{Type: parser.CONNECT_ERROR, Nsp: "/", Data: map[string]any{"message": "no", "data": nil}},
			"83a47479706504a46461746182a76d657373616765a26e6fa464617461d40000a36e7370a12f"},
		{"unencodable data is left out", parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"a", func() {}}},
			"82a47479706502a36e7370a12f"},
	}
	enc := New().NewEncoder()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := enc.Encode(&c.p)
			if len(out) != 1 {
				t.Fatalf("%d buffers, want 1", len(out))
			}
			if _, text := out[0].(*types.StringBuffer); text {
				t.Fatal("a text buffer, want binary")
			}
			if h := hex.EncodeToString(out[0].Bytes()); h != c.want {
				t.Errorf("got  %s\nwant %s", h, c.want)
			}
		})
	}
}
