package engineio

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"feedrt/store/storetest"
)

// The deadlines of keep-alive connections on the poller, as net/http's
// http.Server has them: short here, so that the tests see them cut.
const (
	testHeaderTimeout = 300 * time.Millisecond
	testReadTimeout   = 600 * time.Millisecond
	testIdleTimeout   = 400 * time.Millisecond
)

// mustDeadlineEngine is an engine whose http.Server has the test
// deadlines (long ones for those a test does not look at).
func mustDeadlineEngine(t *testing.T, header, read, idle time.Duration) *testEngine {
	t.Helper()
	return mustEngineWith(t, engineSetup{options: noPings, keepAlive: true, http: func(s *http.Server) {
		s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout = header, read, idle
	}})
}

// polledConn opens a connection whose one polling request (a handshake)
// moved it to the poller; its answer is read.
func polledConn(t *testing.T, e *testEngine) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, br, _ := handshakeOn(t, strings.TrimPrefix(e.hs.URL, "http://"))
	t.Cleanup(func() { conn.Close() })
	return conn, br
}

// waitClosed waits (up to 10 s) for the server to close conn and returns
// how long after since it did.
func waitClosed(t *testing.T, conn net.Conn, br *bufio.Reader, since time.Time) time.Duration {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("the server sent something; want the connection closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the connection is still open after 10 s")
	}
	return time.Since(since)
}

// trickle writes s a byte at a time, every 20 ms, until it is all sent or
// the connection fails.
func trickle(conn net.Conn, s string) {
	for i := range len(s) {
		if _, err := conn.Write([]byte{s[i]}); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond) // the trickle's pace: what is under test
	}
}

// TestPollerIdleTimeout: a connection on the poller that sends nothing
// after its request is closed after the http.Server's IdleTimeout, as
// net/http closes its own; a hundred such connections take no goroutine
// while they wait.
func TestPollerIdleTimeout(t *testing.T) {
	e := mustDeadlineEngine(t, time.Minute, time.Minute, testIdleTimeout)
	g := runtime.NumGoroutine()
	start := time.Now()
	type held struct {
		conn net.Conn
		br   *bufio.Reader
	}
	var conns []held
	for range 100 {
		conn, br := polledConn(t, e)
		conns = append(conns, held{conn, br})
	}
	if d := runtime.NumGoroutine() - g; d > 10 {
		t.Errorf("100 idle connections on the poller took %d goroutines, want none", d)
	}
	for _, c := range conns {
		if d := waitClosed(t, c.conn, c.br, start); d < testIdleTimeout {
			t.Fatalf("closed %v after the request, before the idle timeout (%v)", d, testIdleTimeout)
		}
	}
	storetest.WaitFor(t, "the poller to let the connections go", func() bool { return e.srv.PollerConns() == 0 })
}

// TestPollerHeaderTimeout: a request header trickled a byte at a time
// on a connection on the poller is cut ReadHeaderTimeout after its first
// byte, as net/http cuts it.
func TestPollerHeaderTimeout(t *testing.T) {
	e := mustDeadlineEngine(t, testHeaderTimeout, time.Minute, time.Minute)
	conn, br := polledConn(t, e)
	start := time.Now()
	go trickle(conn, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 1000))
	if d := waitClosed(t, conn, br, start); d < testHeaderTimeout || d > testHeaderTimeout+5*time.Second {
		t.Errorf("closed %v after the header's first byte, want just past %v", d, testHeaderTimeout)
	}
}

// TestPollerBodyTimeout: a polling POST whose body is trickled is cut
// ReadTimeout after the request's first byte, as net/http cuts it.
func TestPollerBodyTimeout(t *testing.T) {
	e := mustDeadlineEngine(t, time.Minute, testReadTimeout, time.Minute)
	sid, _ := pollingSession(t, e)
	conn, br := polledConn(t, e)
	start := time.Now()
	fmt.Fprintf(conn, "POST /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n", sid)
	go trickle(conn, strings.Repeat("4", 500))
	if d := waitClosed(t, conn, br, start); d < testReadTimeout || d > testReadTimeout+5*time.Second {
		t.Errorf("closed %v after the request's first byte, want just past %v", d, testReadTimeout)
	}
}

// TestPollerTimeoutsDefault: with no ReadHeaderTimeout or IdleTimeout,
// the http.Server's ReadTimeout bounds both, as in net/http.
func TestPollerTimeoutsDefault(t *testing.T) {
	e := mustDeadlineEngine(t, 0, testReadTimeout, 0)
	start := time.Now() // before the request: its answer starts the wait
	conn, br := polledConn(t, e)
	if d := waitClosed(t, conn, br, start); d < testReadTimeout {
		t.Errorf("idle connection closed after %v, before ReadTimeout (%v)", d, testReadTimeout)
	}
}

// TestWebSocketOnLentConnection: a connection on the poller that a
// request of another kind lent to net/http, and that then carries a
// WebSocket upgrade (a client that reuses its keep-alive connection for
// it), becomes that WebSocket in place: the session opens and echoes.
func TestWebSocketOnLentConnection(t *testing.T) {
	e := mustEngineWith(t, engineSetup{options: noPings, keepAlive: true, handler: func(srv *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/plain" {
				_, _ = io.WriteString(w, "plain")
				return
			}
			wrapped(srv).ServeHTTP(w, r)
		})
	}})
	conn, br := polledConn(t, e) // on the poller
	addr := strings.TrimPrefix(e.hs.URL, "http://")
	fmt.Fprintf(conn, "GET /plain HTTP/1.1\r\nHost: %s\r\n\r\n", addr) // lent to net/http
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("plain request: %v %v", res, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	fmt.Fprintf(conn, "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	if res, err = http.ReadResponse(br, nil); err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if op, payload := readServerFrame(t, br); op != opText || !strings.HasPrefix(string(payload), "0{") {
		t.Fatalf("open packet: %x %q", op, payload)
	}
	if _, err := conn.Write(clientFrame(0x80|opText, []byte("4hello"), false)); err != nil {
		t.Fatal(err)
	}
	if op, payload := readServerFrame(t, br); op != opText || string(payload) != "4hello" {
		t.Errorf("echo: %x %q", op, payload)
	}
}
