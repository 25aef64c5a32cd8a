package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Protocol conformance, written from the Engine.IO v4 and Socket.IO v5
// specifications, against the server the conformance command runs
// (SuiteOptions: pingInterval 300 ms, pingTimeout 200 ms).

// mustConformance serves ConformanceHandler(mode) on 127.0.0.1:0.
func mustConformance(t *testing.T, mode string) (httpURL, wsURL string) {
	t.Helper()
	h, closeRT, err := ConformanceHandler(mode, SuiteOptions)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() { closeRT(); ts.Close() })
	return ts.URL, "ws" + strings.TrimPrefix(ts.URL, "http")
}

// wsConn is a raw WebSocket with a read deadline per message.
type wsConn struct {
	t *testing.T
	*websocket.Conn
}

func mustDial(t *testing.T, url string) *wsConn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return &wsConn{t, c}
}

// read returns the next message that is not a ping (pings are answered).
func (c *wsConn) read() (int, string) {
	c.t.Helper()
	for {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		kind, msg, err := c.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if kind == websocket.TextMessage && string(msg) == "2" {
			c.send("3")
			continue
		}
		return kind, string(msg)
	}
}

func (c *wsConn) send(msg string) {
	c.t.Helper()
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// closed waits for the server to close the connection, answering pings
// unless pong is false.
func (c *wsConn) closed(within time.Duration, pong bool) bool {
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

// openPacket parses an Engine.IO open packet and checks its fields.
func checkOpen(t *testing.T, msg string, wantUpgrades []string) string {
	t.Helper()
	if !strings.HasPrefix(msg, "0") {
		t.Fatalf("open packet %q", msg)
	}
	var open map[string]any
	if err := json.Unmarshal([]byte(msg[1:]), &open); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"pingInterval": 300.0, "pingTimeout": 200.0, "maxPayload": 1e6}
	for k, v := range want {
		if open[k] != v {
			t.Errorf("%s = %v, want %v", k, open[k], v)
		}
	}
	if len(open) != 5 {
		t.Errorf("open packet keys %v, want sid, upgrades, pingInterval, pingTimeout, maxPayload", open)
	}
	up, _ := json.Marshal(open["upgrades"])
	if want, _ := json.Marshal(wantUpgrades); string(up) != string(want) {
		t.Errorf("upgrades %s, want %s", up, want)
	}
	sid, _ := open["sid"].(string)
	if sid == "" {
		t.Errorf("no sid in %q", msg)
	}
	return sid
}

func TestConformanceEngineIO(t *testing.T) {
	base, ws := mustConformance(t, "engineio")
	eio := base + "/engine.io/?EIO=4&transport=polling"

	t.Run("handshake", func(t *testing.T) {
		status, body := do(t, "GET", eio, "")
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		checkOpen(t, body, []string{"websocket"})
		c := mustDial(t, ws+"/engine.io/?EIO=4&transport=websocket")
		_, msg := c.read()
		checkOpen(t, msg, []string{})
		for _, q := range []string{"transport=polling", "EIO=3&transport=polling", "EIO=4", "EIO=4&transport=abc"} {
			if status, _ := do(t, "GET", base+"/engine.io/?"+q, ""); status != 400 {
				t.Errorf("%s: status %d, want 400", q, status)
			}
		}
	})

	t.Run("polling payloads", func(t *testing.T) {
		sid := pollSession(t, eio)
		if status, body := do(t, "POST", eio+"&sid="+sid, "4hello\x1e4world\x1ebAQIDBA=="); status != 200 || body != "ok" {
			t.Fatalf("post: %d %q", status, body)
		}
		if _, body := do(t, "GET", eio+"&sid="+sid, ""); body != "4hello\x1e4world\x1ebAQIDBA==" {
			t.Errorf("echo %q", body)
		}
	})

	t.Run("invalid payload closes the session", func(t *testing.T) {
		sid := pollSession(t, eio)
		do(t, "POST", eio+"&sid="+sid, "abc")
		if status, _ := do(t, "GET", eio+"&sid="+sid, ""); status != 400 {
			t.Errorf("poll after a bad payload: %d, want 400", status)
		}
	})

	t.Run("heartbeat", func(t *testing.T) {
		c := mustDial(t, ws+"/engine.io/?EIO=4&transport=websocket")
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, _, _ = c.ReadMessage() // open
		for range 2 {
			start := time.Now()
			_, msg, err := c.ReadMessage()
			if err != nil || string(msg) != "2" {
				t.Fatalf("want a ping, got %q %v", msg, err)
			}
			if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
				t.Errorf("ping after %v, want about pingInterval (300 ms)", d)
			}
			c.send("3")
		}
		// No pong: the server closes after pingInterval + pingTimeout.
		if !c.closed(3*time.Second, false) {
			t.Error("session not closed without pongs")
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		sid := pollSession(t, eio)
		c := mustDial(t, ws+"/engine.io/?EIO=4&transport=websocket&sid="+sid)
		c.send("2probe")
		if _, msg := c.read(); msg != "3probe" {
			t.Fatalf("probe answer %q", msg)
		}
		// The pending poll is released with a noop before the switch.
		if _, body := do(t, "GET", eio+"&sid="+sid, ""); body != "6" {
			t.Errorf("poll during upgrade: %q, want noop", body)
		}
		c.send("5")
		c.send("4after upgrade")
		if _, msg := c.read(); msg != "4after upgrade" {
			t.Errorf("echo over the upgraded transport: %q", msg)
		}
		if status, _ := do(t, "GET", eio+"&sid="+sid, ""); status != 400 {
			t.Errorf("poll after upgrade: %d, want 400", status)
		}
	})
}

// pollSession opens a long-polling session and returns its sid.
func pollSession(t *testing.T, url string) string {
	t.Helper()
	status, body := do(t, "GET", url, "")
	if status != 200 {
		t.Fatalf("handshake %d %q", status, body)
	}
	return checkOpen(t, body, []string{"websocket"})
}

func TestConformanceSocketIO(t *testing.T) {
	_, ws := mustConformance(t, "socketio")
	connect := func(t *testing.T) *wsConn {
		c := mustDial(t, ws+"/socket.io/?EIO=4&transport=websocket")
		c.read() // open
		return c
	}

	t.Run("namespaces and auth", func(t *testing.T) {
		cases := []struct{ send, wantPrefix, wantAuth string }{
			{"40", "40{", `42["auth",{}]`},
			{`40{"token":"123"}`, "40{", `42["auth",{"token":"123"}]`},
			{"40/custom,", "40/custom,{", `42/custom,["auth",{}]`},
			{`40/custom,{"token":"abc"}`, "40/custom,{", `42/custom,["auth",{"token":"abc"}]`},
		}
		for _, tc := range cases {
			c := connect(t)
			c.send(tc.send)
			_, msg := c.read()
			if !strings.HasPrefix(msg, tc.wantPrefix) {
				t.Fatalf("%s: connect answer %q", tc.send, msg)
			}
			var hs map[string]any
			_ = json.Unmarshal([]byte(msg[strings.Index(msg, "{"):]), &hs)
			if len(hs) != 1 || hs["sid"] == nil {
				t.Errorf("%s: CONNECT payload %q, want exactly {sid}", tc.send, msg)
			}
			if _, msg := c.read(); msg != tc.wantAuth {
				t.Errorf("%s: auth event %q, want %q", tc.send, msg, tc.wantAuth)
			}
		}
		c := connect(t)
		c.send("40/random")
		if _, msg := c.read(); msg != `44/random,{"message":"Invalid namespace"}` {
			t.Errorf("unknown namespace: %q", msg)
		}
	})

	t.Run("acks and binary", func(t *testing.T) {
		c := connect(t)
		c.send("40")
		c.read()
		c.read()
		c.send(`42["message",1,"2",{"3":[true]}]`)
		if _, msg := c.read(); msg != `42["message-back",1,"2",{"3":[true]}]` {
			t.Errorf("event echo %q", msg)
		}
		c.send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
		if _, msg := c.read(); msg != `43456[1,"2",{"3":[false]}]` {
			t.Errorf("ack %q", msg)
		}
		c.send(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		_ = c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		_ = c.WriteMessage(websocket.BinaryMessage, []byte{4, 5, 6})
		if _, msg := c.read(); msg != `462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]` {
			t.Errorf("binary ack header %q", msg)
		}
		for _, want := range [][]byte{{1, 2, 3}, {4, 5, 6}} {
			kind, msg := c.read()
			if kind != websocket.BinaryMessage || !bytes.Equal([]byte(msg), want) {
				t.Errorf("attachment %v, want %v", []byte(msg), want)
			}
		}
	})

	t.Run("invalid packets close the connection", func(t *testing.T) {
		for _, bad := range []string{"4abc", "42{}", `42abc["message-with-ack",1]`, `4{`} {
			c := connect(t)
			c.send("40")
			c.read()
			c.read()
			c.send(bad)
			if !c.closed(3*time.Second, true) {
				t.Errorf("%q: connection still open", bad)
			}
		}
	})

	t.Run("no CONNECT closes the connection", func(t *testing.T) {
		c := connect(t)
		start := time.Now()
		if !c.closed(3*time.Second, true) {
			t.Fatal("connection without a namespace still open after connectTimeout")
		}
		if d := time.Since(start); d < 800*time.Millisecond {
			t.Errorf("closed after %v, before connectTimeout (1 s)", d)
		}
	})
}
