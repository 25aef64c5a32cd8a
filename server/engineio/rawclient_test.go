package engineio

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Clients written by hand on one TCP connection: they send the bytes a
// test gives and read only when it asks, so the server meets a silent,
// slow or malformed client as it would on the network, and thousands of
// them cost the test no goroutine.

// rawConn is a connection to a test server and the reader of what the
// server sends on it.
type rawConn struct {
	net.Conn
	br   *bufio.Reader
	addr string // host:port, the Host header
}

// addr is the engine's host:port.
func (e *testEngine) addr() string { return strings.TrimPrefix(e.hs.URL, "http://") }

// connect connects to addr; the caller closes the connection.
func connect(tb testing.TB, addr string) *rawConn {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	return &rawConn{Conn: conn, br: bufio.NewReader(conn), addr: addr}
}

// dialConn is connect, the connection closed at cleanup.
func dialConn(tb testing.TB, addr string) *rawConn {
	tb.Helper()
	c := connect(tb, addr)
	tb.Cleanup(func() { c.Close() })
	return c
}

// wsUpgrade is the header of a WebSocket upgrade request.
const wsUpgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

// wsPath is the path and query of a WebSocket session of protocol 4.
const wsPath = "/engine.io/?EIO=4&transport=websocket"

// pollPath is the path and query of a polling request of protocol eio
// for session sid ("": the handshake).
func pollPath(eio, sid string) string {
	p := "/engine.io/?EIO=" + eio + "&transport=polling"
	if sid != "" {
		p += "&sid=" + sid
	}
	return p
}

// get sends a GET of target (path and query) with header: lines that
// each end in \r\n.
func (c *rawConn) get(target, header string) {
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target, c.addr, header)
}

// answer reads one answer and its whole body.
func (c *rawConn) answer(tb testing.TB) (*http.Response, string) {
	tb.Helper()
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		tb.Fatal(err)
	}
	return res, string(b)
}

// handshake opens a polling session on c (which moves the connection to
// the poller) and returns its id.
func (c *rawConn) handshake(tb testing.TB) string {
	tb.Helper()
	c.get(pollPath("4", ""), "")
	res, body := c.answer(tb)
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("handshake: %d %q", res.StatusCode, body)
	}
	sid, _ := openData(tb, body)
	return sid
}

// openData reads the open packet at the start of a polling body
// (protocol 4, or 3's "<length>:" framing).
func openData(tb testing.TB, body string) (sid string, upgrades []string) {
	tb.Helper()
	i := strings.Index(body, "0{")
	var open struct {
		Sid      string
		Upgrades []string
	}
	if i < 0 || json.NewDecoder(strings.NewReader(body[i+1:])).Decode(&open) != nil {
		tb.Fatalf("no open packet in %q", body)
	}
	return open.Sid, open.Upgrades
}

// dialWebSocket opens a WebSocket session on a connection of its own
// (see upgrade) and returns it with the server's 101.
func dialWebSocket(tb testing.TB, addr, ext string) (*rawConn, *http.Response) {
	tb.Helper()
	c := dialConn(tb, addr)
	return c, c.upgrade(tb, ext)
}

// upgrade opens a WebSocket session on c, offering the extensions ext
// (none when empty), and returns the server's 101.
func (c *rawConn) upgrade(tb testing.TB, ext string) *http.Response {
	tb.Helper()
	h := wsUpgrade
	if ext != "" {
		h += "Sec-WebSocket-Extensions: " + ext + "\r\n"
	}
	c.get(wsPath, h)
	res, body := c.answer(tb)
	if res.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("upgrade: %d %q", res.StatusCode, body)
	}
	return res
}

// dialRaw is dialWebSocket with no extension, the connection left alone.
func dialRaw(tb testing.TB, addr string) *rawConn {
	c, _ := dialWebSocket(tb, addr, "")
	return c
}

// frame reads one whole unmasked frame within 5 s: its first byte (FIN,
// RSV and opcode) and its payload.
func (c *rawConn) frame(tb testing.TB) (byte, []byte) {
	tb.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		tb.Fatal(err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, _ = io.ReadFull(c.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, _ = io.ReadFull(c.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c.br, p); err != nil {
		tb.Fatal(err)
	}
	return h[0], p
}

// goroutinesAdded runs f and returns how many more goroutines run after
// it than before.
func goroutinesAdded(f func()) int {
	g := runtime.NumGoroutine()
	f()
	return runtime.NumGoroutine() - g
}
