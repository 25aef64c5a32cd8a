package engineio

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"feedrt/store/storetest"
)

// deflating turns permessage-deflate on, with Node's threshold.
func deflating(o *Options) {
	o.PerMessageDeflate, o.DeflateThreshold = true, 1024
	o.PingInterval = time.Hour // no ping frames among those read
}

// TestDeflateNegotiation: the answer to each offer, as RFC 7692 allows
// a server to answer it; "" declines.
func TestDeflateNegotiation(t *testing.T) {
	const yes = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	for _, tc := range []struct{ offer, answer string }{
		{"", ""},
		{"x-webkit-deflate-frame", ""},
		{"permessage-deflate", yes},
		{"permessage-deflate; client_max_window_bits", yes},                                      // Node's ws, Chromium
		{"permessage-deflate; server_no_context_takeover; client_no_context_takeover", yes},      // gorilla
		{"permessage-deflate; client_max_window_bits=10", yes},                                   // its own window: inflate reads any
		{"permessage-deflate; server_max_window_bits=15", yes + "; server_max_window_bits=15"},   // what flate uses
		{`permessage-deflate; server_max_window_bits="15"`, yes + "; server_max_window_bits=15"}, // quoted, as 7.1 allows
		{"permessage-deflate; server_max_window_bits=10", ""},                                    // a smaller window than flate's
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", yes},               // the next offer
		{"permessage-deflate; server_max_window_bits=16", ""},                                    // out of range
		{"permessage-deflate; client_max_window_bits=7", ""},                                     // out of range
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", ""},       // twice
		{"permessage-deflate; server_no_context_takeover=1", ""},                                 // takes no value
		{"permessage-deflate; mystery", ""},                                                      // unknown
		{"foo, PERMESSAGE-DEFLATE ; client_max_window_bits", yes},                                // after another extension, any case
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		if tc.offer != "" {
			r.Header.Set("Sec-WebSocket-Extensions", tc.offer)
		}
		if got := acceptDeflate(r); got != tc.answer {
			t.Errorf("offer %q: answer %q, want %q", tc.offer, got, tc.answer)
		}
	}
}

// dialCompressing opens a WebSocket session with gorilla offering
// permessage-deflate and returns it and the extensions the server
// answered with.
func dialCompressing(tb testing.TB, e *testEngine) (*websocket.Conn, string) {
	tb.Helper()
	d := &websocket.Dialer{EnableCompression: true, HandshakeTimeout: 5 * time.Second}
	ws, res, err := d.Dial(e.wsURL("EIO=4&transport=websocket"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ws.Close() })
	return ws, res.Header.Get("Sec-WebSocket-Extensions")
}

// inflateFrame inflates a compressed frame's payload as a client does.
func inflateFrame(tb testing.TB, p []byte) string {
	tb.Helper()
	b, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(inflateTail))))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestDeflateSharedFrame: a broadcast to many sockets with the extension
// is compressed once, every one of them gets that frame (RSV1 set), the
// sockets without it the plain frame; the compressed frame counts in the
// queued total with the message. A message below the threshold goes out
// plain to all.
func TestDeflateSharedFrame(t *testing.T) {
	e := mustEngine(t, deflating)
	type raw struct {
		conn *rawConn
		pmd  bool
	}
	var clients []raw
	for i := range 30 {
		offer := "permessage-deflate; client_max_window_bits"
		if i%5 == 0 {
			offer = ""
		}
		conn, res := dialWebSocket(t, e.addr(), offer)
		ext := res.Header.Get("Sec-WebSocket-Extensions")
		if want := offer != ""; (ext != "") != want {
			t.Fatalf("offer %q: answer %q", offer, ext)
		}
		if b0, p := conn.frame(t); b0 != 0x81 || p[0] != '0' {
			t.Fatalf("open frame %#x %q", b0, p)
		}
		clients = append(clients, raw{conn, offer != ""})
	}
	storetest.WaitFor(t, "30 sessions", func() bool { return e.srv.ClientsCount() == 30 })
	data := bigText(8 << 10)
	m := NewMessage([]byte(data))
	before := e.srv.deflates.Load()
	e.broadcast(m)
	if n := e.srv.deflates.Load() - before; n != 1 {
		t.Errorf("%d compressions for one broadcast to 24 sockets, want 1", n)
	}
	if m.pmdFrame == nil || len(m.pmdFrame) > len(m.frame)/2 {
		t.Fatalf("compressed frame of %d bytes for a %d-byte frame", len(m.pmdFrame), len(m.frame))
	}
	for i, c := range clients {
		b0, p := c.conn.frame(t)
		switch {
		case c.pmd && (b0 != 0xc1 || !bytes.Equal(p, m.pmdFrame[len(m.pmdFrame)-len(p):]) || inflateFrame(t, p) != "4"+data):
			t.Errorf("client %d (deflate): frame %#x, %d bytes, not the shared compressed frame", i, b0, len(p))
		case !c.pmd && (b0 != 0x81 || string(p) != "4"+data):
			t.Errorf("client %d (plain): frame %#x, %d bytes", i, b0, len(p))
		}
	}
	m.mu.Lock()
	if m.zipMem != int64(len(m.pmdFrame)) {
		t.Errorf("the message counts %d bytes besides its own, want its compressed frame's %d", m.zipMem, len(m.pmdFrame))
	}
	m.mu.Unlock()

	small := NewMessage([]byte(strings.Repeat("s", 1022))) // 1023 bytes with its type
	before = e.srv.deflates.Load()
	e.broadcast(small)
	for i, c := range clients {
		if b0, p := c.conn.frame(t); b0 != 0x81 || len(p) != 1023 {
			t.Errorf("client %d: below the threshold, frame %#x of %d bytes", i, b0, len(p))
		}
	}
	if n := e.srv.deflates.Load() - before; n != 0 {
		t.Errorf("%d compressions below the threshold", n)
	}
	at := NewMessage([]byte(strings.Repeat("s", 1023))) // 1024: compressed
	e.broadcast(at)
	for i, c := range clients {
		if b0, _ := c.conn.frame(t); (b0 == 0xc1) != c.pmd {
			t.Errorf("client %d: at the threshold, frame %#x", i, b0)
		}
	}
}

// TestDeflateRoundTrip: with gorilla negotiating the extension, a large
// message to the server is inflated and echoed back compressed; the
// server's own packet (not a broadcast) is compressed per message.
func TestDeflateRoundTrip(t *testing.T) {
	e := mustEngine(t, deflating)
	ws, ext := dialCompressing(t, e)
	if !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("extensions %q", ext)
	}
	if _, m, _ := ws.ReadMessage(); !strings.HasPrefix(string(m), "0{") {
		t.Fatalf("open packet %q", m)
	}
	data := "4" + bigText(200<<10)
	ws.EnableWriteCompression(true)
	for range 3 { // pooled readers and writers reused
		before := e.srv.deflates.Load()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(data)); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, m, err := ws.ReadMessage(); err != nil || string(m) != data {
			t.Fatalf("echo: %d bytes, %v", len(m), err)
		}
		if n := e.srv.deflates.Load() - before; n != 1 {
			t.Errorf("%d compressions of the echo, want 1", n)
		}
	}
}

// TestDeflateInflateBound: a compressed message that inflates past
// MaxPayload closes the connection with 1009, and inflating it allocates
// about the bound, not what it would inflate to.
func TestDeflateInflateBound(t *testing.T) {
	var bomb bytes.Buffer
	fw, _ := flate.NewWriter(&bomb, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 64 { // 64 MiB of zeros, some 64 KiB compressed
		_, _ = fw.Write(zeros)
	}
	_ = fw.Flush()
	compressed := bytes.TrimSuffix(bomb.Bytes(), deflateTail)

	e := mustEngine(t, func(o *Options) { deflating(o); o.MaxPayload = 100_000 })
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	_, err := e.srv.inflate(compressed, 100_000)
	runtime.ReadMemStats(&ms1)
	if !errors.Is(err, errTooBig) {
		t.Errorf("inflate: %v, want errTooBig", err)
	}
	if n := ms1.TotalAlloc - ms0.TotalAlloc; n > 1<<20 {
		t.Errorf("inflating a bomb past a 100 kB bound allocated %d bytes", n)
	}
	if out, err := e.srv.inflate(compressed, 64<<20); err != nil || len(out) != 64<<20 {
		t.Errorf("within the bound: %d bytes, %v", len(out), err)
	}

	conn, _ := dialWebSocket(t, e.addr(), "permessage-deflate")
	conn.frame(t) // open
	_, _ = conn.Write(clientFrame(0x80|0x40|opText, compressed, false))
	if b0, p := conn.frame(t); b0 != 0x88 || binary.BigEndian.Uint16(p) != closeTooBig {
		t.Errorf("after a bomb: frame %#x %v, want close 1009", b0, p)
	}
	if r := e.waitClose(t); r != "transport error" {
		t.Errorf("close reason %q", r)
	}
}

// TestDeflateFaults: RSV1 without the extension, or on a continuation or
// control frame with it, is a protocol error (1002); bytes that are not
// DEFLATE are invalid data (1007, as ws closes). A compressed message in
// fragments is inflated whole.
func TestDeflateFaults(t *testing.T) {
	e := mustEngine(t, deflating)
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.DefaultCompression)
	_, _ = fw.Write([]byte("4hello"))
	_ = fw.Flush()
	hello := bytes.TrimSuffix(z.Bytes(), deflateTail)
	for _, tc := range []struct {
		name   string
		offer  string
		frames [][]byte
		code   uint16 // 0: the message is echoed
	}{
		{"RSV1 without the extension", "", [][]byte{clientFrame(0x80|0x40|opText, hello, false)}, closeProtocol},
		{"RSV1 on a ping", "permessage-deflate", [][]byte{clientFrame(0x80|0x40|opPing, nil, false)}, closeProtocol},
		{"RSV1 on a continuation", "permessage-deflate", [][]byte{clientFrame(0x40|opText, hello[:2], false), clientFrame(0x80|0x40|opContinuation, hello[2:], false)}, closeProtocol},
		{"RSV2", "permessage-deflate", [][]byte{clientFrame(0x80|0x20|opText, hello, false)}, closeProtocol},
		{"not DEFLATE", "permessage-deflate", [][]byte{clientFrame(0x80|0x40|opText, []byte{0xff, 0xff, 0xff}, false)}, closeInvalidData},
		{"compressed in fragments", "permessage-deflate", [][]byte{clientFrame(0x40|opText, hello[:2], false), clientFrame(0x80|opContinuation, hello[2:], false)}, 0},
		{"plain with the extension", "permessage-deflate", [][]byte{clientFrame(0x80|opText, []byte("4hello"), false)}, 0},
	} {
		conn, _ := dialWebSocket(t, e.addr(), tc.offer)
		conn.frame(t) // open
		for _, f := range tc.frames {
			_, _ = conn.Write(f)
		}
		b0, p := conn.frame(t)
		switch {
		case tc.code == 0 && (b0 != 0x81 || string(p) != "4hello"):
			t.Errorf("%s: frame %#x %q, want the echo", tc.name, b0, p)
		case tc.code != 0 && (b0 != 0x88 || len(p) < 2 || binary.BigEndian.Uint16(p) != tc.code):
			t.Errorf("%s: frame %#x %v, want close %d", tc.name, b0, p, tc.code)
		}
		conn.Close()
	}
}

// TestDeflateOff: with the option off (Node's default) an offer gets no
// extension, and large messages go out plain.
func TestDeflateOff(t *testing.T) {
	e := mustEngine(t, noPings)
	ws, ext := dialCompressing(t, e)
	if ext != "" {
		t.Errorf("extensions %q with the option off", ext)
	}
	_, _, _ = ws.ReadMessage()
	data := "4" + bigText(8<<10)
	_ = ws.WriteMessage(websocket.TextMessage, []byte(data))
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != data {
		t.Errorf("echo: %d bytes, %v", len(m), err)
	}
	if n := e.srv.deflates.Load(); n != 0 {
		t.Errorf("%d compressions with the option off", n)
	}
}
