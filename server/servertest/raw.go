package servertest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Do sends one request and returns status and body.
func Do(tb testing.TB, method, url, body string) (int, string) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// WSConn is a raw WebSocket with a read deadline per message, for tests
// that speak Engine.IO and Socket.IO packets themselves.
type WSConn struct {
	tb testing.TB
	*websocket.Conn
	Res *http.Response // the answer to the WebSocket handshake
}

// MustDial opens a WebSocket to url, closed at cleanup.
func MustDial(tb testing.TB, url string) *WSConn {
	tb.Helper()
	c, res, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	tb.Cleanup(func() { c.Close() })
	return &WSConn{tb, c, res}
}

// MustOpen opens a WebSocket to url, an Engine.IO endpoint, and reads
// the open packet: a session that has joined no namespace yet.
func MustOpen(tb testing.TB, url string) *WSConn {
	tb.Helper()
	c := MustDial(tb, url)
	if _, msg := c.Read(); !strings.HasPrefix(msg, "0{") {
		tb.Fatalf("open packet %q from %s", msg, url)
	}
	return c
}

// Read returns the next message that is not a ping (pings are answered).
func (c *WSConn) Read() (int, string) {
	c.tb.Helper()
	for {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		kind, msg, err := c.ReadMessage()
		if err != nil {
			c.tb.Fatalf("read: %v", err)
		}
		if kind == websocket.TextMessage && string(msg) == "2" {
			c.Send("3")
			continue
		}
		return kind, string(msg)
	}
}

// Send writes msg as a text message.
func (c *WSConn) Send(msg string) {
	c.tb.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.tb.Fatalf("write: %v", err)
	}
}

// Closed waits for the server to close the connection, answering pings
// unless pong is false.
func (c *WSConn) Closed(within time.Duration, pong bool) bool {
	_ = c.SetReadDeadline(time.Now().Add(within))
	for {
		kind, msg, err := c.ReadMessage()
		if err != nil {
			return !strings.Contains(err.Error(), "timeout")
		}
		if pong && kind == websocket.TextMessage && string(msg) == "2" {
			_ = c.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
}
