package engineio

import (
	"fmt"
	"io"
	"net"
	"net/http"
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
func polledConn(t *testing.T, e *testEngine) *rawConn {
	t.Helper()
	c := dialConn(t, e.addr())
	c.handshake(t)
	return c
}

// waitClosed waits (up to 10 s) for the server to close conn and returns
// how long after since it did.
func waitClosed(t *testing.T, c *rawConn, since time.Time) time.Duration {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.br.ReadByte(); err == nil {
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
	start := time.Now()
	var conns []*rawConn
	if d := goroutinesAdded(func() {
		for range 100 {
			conns = append(conns, polledConn(t, e))
		}
	}); d > 10 {
		t.Errorf("100 idle connections on the poller took %d goroutines, want none", d)
	}
	for _, c := range conns {
		if d := waitClosed(t, c, start); d < testIdleTimeout {
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
	conn := polledConn(t, e)
	start := time.Now()
	go trickle(conn, "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 1000))
	if d := waitClosed(t, conn, start); d < testHeaderTimeout || d > testHeaderTimeout+5*time.Second {
		t.Errorf("closed %v after the header's first byte, want just past %v", d, testHeaderTimeout)
	}
}

// TestPollerBodyTimeout: a polling POST whose body is trickled is cut
// ReadTimeout after the request's first byte, as net/http cuts it.
func TestPollerBodyTimeout(t *testing.T) {
	e := mustDeadlineEngine(t, time.Minute, testReadTimeout, time.Minute)
	sid, _ := pollingSession(t, e)
	conn := polledConn(t, e)
	start := time.Now()
	fmt.Fprintf(conn, "POST /engine.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n", sid)
	go trickle(conn, strings.Repeat("4", 500))
	if d := waitClosed(t, conn, start); d < testReadTimeout || d > testReadTimeout+5*time.Second {
		t.Errorf("closed %v after the request's first byte, want just past %v", d, testReadTimeout)
	}
}

// TestPollerTimeoutsDefault: with no ReadHeaderTimeout or IdleTimeout,
// the http.Server's ReadTimeout bounds both, as in net/http.
func TestPollerTimeoutsDefault(t *testing.T) {
	e := mustDeadlineEngine(t, 0, testReadTimeout, 0)
	start := time.Now() // before the request: its answer starts the wait
	conn := polledConn(t, e)
	if d := waitClosed(t, conn, start); d < testReadTimeout {
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
	conn := polledConn(t, e) // on the poller
	conn.get("/plain", "")   // lent to net/http
	if res, body := conn.answer(t); res.StatusCode != 200 || body != "plain" {
		t.Fatalf("plain request: %d %q", res.StatusCode, body)
	}
	conn.get(wsPath, wsUpgrade)
	if res, body := conn.answer(t); res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %d %q", res.StatusCode, body)
	}
	if op, payload := readServerFrame(t, conn); op != opText || !strings.HasPrefix(string(payload), "0{") {
		t.Fatalf("open packet: %x %q", op, payload)
	}
	if _, err := conn.Write(clientFrame(0x80|opText, []byte("4hello"), false)); err != nil {
		t.Fatal(err)
	}
	if op, payload := readServerFrame(t, conn); op != opText || string(payload) != "4hello" {
		t.Errorf("echo: %x %q", op, payload)
	}
}
