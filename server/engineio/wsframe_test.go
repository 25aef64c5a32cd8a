package engineio

import (
	"encoding/binary"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"feedrt/store/storetest"
)

// clientFrame is a frame as a client sends it: masked (unless unmasked),
// with the first byte b0 (FIN, RSV bits, opcode) and payload.
func clientFrame(b0 byte, payload []byte, unmasked bool) []byte {
	f := []byte{b0}
	n := len(payload)
	var mask byte = 0x80
	if unmasked {
		mask = 0
	}
	switch {
	case n < 126:
		f = append(f, mask|byte(n))
	case n <= 0xffff:
		f = append(f, mask|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, mask|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	if unmasked {
		return append(f, payload...)
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	f = append(f, key...)
	for i, c := range payload {
		f = append(f, c^key[i&3])
	}
	return f
}

// recorded is what a wsReader reported.
type recorded struct {
	messages []string
	pings    []string
	close    int // -1: none
}

func (r *recorded) message(p []byte, binary bool) {
	kind := "text:"
	if binary {
		kind = "binary:"
	}
	r.messages = append(r.messages, kind+string(p))
}
func (r *recorded) ping(p []byte)       { r.pings = append(r.pings, string(p)) }
func (r *recorded) closeFrame(c uint16) { r.close = int(c) }

// TestWebSocketFrames: the frames a client may send are read, split
// anywhere across reads; the ones RFC 6455 forbids a client are faults
// with the status the connection closes with.
func TestWebSocketFrames(t *testing.T) {
	const fin = 0x80
	text := func(s string) []byte { return clientFrame(fin|opText, []byte(s), false) }
	cat := func(fs ...[]byte) []byte {
		var b []byte
		for _, f := range fs {
			b = append(b, f...)
		}
		return b
	}
	big := strings.Repeat("x", 70_000)
	for _, tc := range []struct {
		name     string
		in       []byte
		messages []string
		pings    []string
		close    int
		fault    int // 0: none
	}{
		{"text", text("4hello"), []string{"text:4hello"}, nil, -1, 0},
		{"binary", clientFrame(fin|opBinary, []byte{1, 2, 3}, false), []string{"binary:\x01\x02\x03"}, nil, -1, 0},
		{"long lengths", cat(text(strings.Repeat("y", 300)), text(big)), []string{"text:" + strings.Repeat("y", 300), "text:" + big}, nil, -1, 0},
		{"fragments with a ping between", cat(clientFrame(opText, []byte("4he"), false), clientFrame(fin|opPing, []byte("p"), false),
			clientFrame(opContinuation, []byte("ll"), false), clientFrame(fin|opContinuation, []byte("o"), false)), []string{"text:4hello"}, []string{"p"}, -1, 0},
		{"close with a status", cat(text("4a"), clientFrame(fin|opClose, []byte{0x03, 0xe9, 'b', 'y', 'e'}, false), text("4after")), []string{"text:4a"}, nil, 1001, 0},
		{"close without a status", clientFrame(fin|opClose, nil, false), nil, nil, 0, 0},
		{"pong ignored", cat(clientFrame(fin|opPong, []byte("x"), false), text("4a")), []string{"text:4a"}, nil, -1, 0},
		{"unmasked", cat(text("4a"), clientFrame(fin|opText, []byte("4b"), true)), []string{"text:4a"}, nil, -1, closeProtocol},
		{"reserved bit", clientFrame(fin|0x40|opText, []byte("4a"), false), nil, nil, -1, closeProtocol},
		{"reserved opcode", clientFrame(fin|0x3, []byte("4a"), false), nil, nil, -1, closeProtocol},
		{"fragmented control", clientFrame(opPing, []byte("p"), false), nil, nil, -1, closeProtocol},
		{"long control", clientFrame(fin|opPing, []byte(strings.Repeat("p", 126)), false), nil, nil, -1, closeProtocol},
		{"continuation without a start", clientFrame(fin|opContinuation, []byte("x"), false), nil, nil, -1, closeProtocol},
		{"new message inside a fragmented one", cat(clientFrame(opText, []byte("4a"), false), text("4b")), nil, nil, -1, closeProtocol},
		{"64-bit length with the top bit", append([]byte{fin | opText, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, 1, 2, 3, 4), nil, nil, -1, closeProtocol},
		{"past the payload limit", clientFrame(fin|opText, make([]byte, 100_001), false), nil, nil, -1, closeTooBig},
		{"fragments past the payload limit", cat(clientFrame(opText, make([]byte, 60_000), false), clientFrame(fin|opContinuation, make([]byte, 60_000), false)), nil, nil, -1, closeTooBig},
		{"text not UTF-8", clientFrame(fin|opText, []byte{'4', 0xff}, false), nil, nil, -1, closeInvalidData},
		{"close reason not UTF-8", clientFrame(fin|opClose, []byte{0x03, 0xe8, 0xff}, false), nil, nil, -1, closeProtocol},
	} {
		for _, step := range []int{len(tc.in), 1, 7} { // whole, a byte at a time, in 7-byte reads
			r := &wsReader{max: 100_000}
			got := &recorded{close: -1}
			var err error
			for in := tc.in; len(in) > 0 && err == nil; {
				n := min(step, len(in))
				var done bool
				done, err = r.feed(in[:n], got)
				in = in[n:]
				if done {
					break
				}
			}
			var fault wsError
			if errors.As(err, &fault) != (tc.fault != 0) || tc.fault != 0 && int(fault) != tc.fault {
				t.Errorf("%s, %d-byte reads: fault %v, want %d", tc.name, step, err, tc.fault)
			}
			if strings.Join(got.messages, "|") != strings.Join(tc.messages, "|") || strings.Join(got.pings, "|") != strings.Join(tc.pings, "|") || got.close != tc.close {
				t.Errorf("%s, %d-byte reads: messages %.60q, pings %q, close %d; want %.60q, %q, %d",
					tc.name, step, got.messages, got.pings, got.close, tc.messages, tc.pings, tc.close)
			}
		}
	}
}

// TestWebSocketUnmaskedFrame: a client that sends an unmasked frame gets
// a close frame with status 1002 and its connection closed (RFC 6455,
// section 5.1); its session ends with "transport error".
func TestWebSocketUnmaskedFrame(t *testing.T) {
	e := mustEngine(t, noPings)
	conn := dialRaw(t, e.addr())
	if op, payload := readServerFrame(t, conn); op != opText || !strings.HasPrefix(string(payload), "0{") {
		t.Fatalf("open packet: %x %q", op, payload)
	}
	if _, err := conn.Write(clientFrame(0x80|opText, []byte("4unmasked"), true)); err != nil {
		t.Fatal(err)
	}
	op, payload := readServerFrame(t, conn)
	if op != opClose || len(payload) < 2 || binary.BigEndian.Uint16(payload) != closeProtocol {
		t.Errorf("answer: opcode %x %q, want a close frame with 1002", op, payload)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.br.ReadByte(); err == nil {
		t.Error("the connection is still open")
	}
	if r := e.waitClose(t); r != "transport error" {
		t.Errorf("close reason %q, want transport error", r)
	}
}

// readServerFrame reads one unmasked frame from the server: its opcode
// and payload.
func readServerFrame(t *testing.T, c *rawConn) (op byte, payload []byte) {
	t.Helper()
	b0, p := c.frame(t)
	return b0 & 0x0f, p
}

// TestCloseBeforeListeners: a session that closes while its
// "connection" listeners still run (a client that answers the open
// packet with a fault at once) tells the listeners they added of the
// close once they are done, so that nothing they set up waits forever.
func TestCloseBeforeListeners(t *testing.T) {
	srv, err := New(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	release, closes := make(chan struct{}), make(chan string, 1)
	_ = srv.On("connection", func(args ...any) {
		c := args[0].(*Socket)
		<-release
		_ = c.Once("close", func(a ...any) { closes <- a[0].(string) })
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	conn := dialRaw(t, strings.TrimPrefix(hs.URL, "http://"))
	if op, _ := readServerFrame(t, conn); op != opText {
		t.Fatalf("open packet: opcode %x", op)
	}
	if _, err := conn.Write(clientFrame(0x80|opText, []byte("4x"), true)); err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "the session closed", func() bool { return srv.ClientsCount() == 0 })
	close(release)
	if r := storetest.Receive(t, "the listeners added at connection to hear of the close", closes); r != "transport error" {
		t.Errorf("close reason %q, want transport error", r)
	}
}
