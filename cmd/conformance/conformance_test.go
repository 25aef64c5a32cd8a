package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"feedrt/server/realtime"
	"feedrt/server/servertest"
)

// Protocol conformance, written from the Engine.IO v4 and Socket.IO v5
// specifications, against the server the conformance command runs
// (suiteOptions: pingInterval 300 ms, pingTimeout 200 ms).

// mustConformance serves handler(mode) on 127.0.0.1:0.
func mustConformance(t *testing.T, mode string) (httpURL, wsURL string) {
	t.Helper()
	o, err := suiteOptions()
	if err != nil {
		t.Fatal(err)
	}
	return mustConformanceWith(t, mode, o)
}

// mustConformanceWith is mustConformance with other options.
func mustConformanceWith(t *testing.T, mode string, o realtime.Options) (httpURL, wsURL string) {
	t.Helper()
	su, err := handler(mode, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(su.Handler)
	su.KeepAlive(ts.Config)
	ts.Start()
	t.Cleanup(func() { su.Close(); ts.Close() })
	return ts.URL, "ws" + strings.TrimPrefix(ts.URL, "http")
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
		status, body := servertest.Do(t, "GET", eio, "")
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		checkOpen(t, body, []string{"websocket"})
		c := servertest.MustDial(t, ws+"/engine.io/?EIO=4&transport=websocket")
		_, msg := c.Read()
		checkOpen(t, msg, []string{})
		for _, q := range []string{"transport=polling", "EIO=3&transport=polling", "EIO=4", "EIO=4&transport=abc"} {
			if status, _ := servertest.Do(t, "GET", base+"/engine.io/?"+q, ""); status != 400 {
				t.Errorf("%s: status %d, want 400", q, status)
			}
		}
	})

	t.Run("polling payloads", func(t *testing.T) {
		sid := pollSession(t, eio)
		if status, body := servertest.Do(t, "POST", eio+"&sid="+sid, "4hello\x1e4world\x1ebAQIDBA=="); status != 200 || body != "ok" {
			t.Fatalf("post: %d %q", status, body)
		}
		if _, body := servertest.Do(t, "GET", eio+"&sid="+sid, ""); body != "4hello\x1e4world\x1ebAQIDBA==" {
			t.Errorf("echo %q", body)
		}
	})

	t.Run("invalid payload closes the session", func(t *testing.T) {
		sid := pollSession(t, eio)
		servertest.Do(t, "POST", eio+"&sid="+sid, "abc")
		if status, _ := servertest.Do(t, "GET", eio+"&sid="+sid, ""); status != 400 {
			t.Errorf("poll after a bad payload: %d, want 400", status)
		}
	})

	t.Run("heartbeat", func(t *testing.T) {
		c := servertest.MustDial(t, ws+"/engine.io/?EIO=4&transport=websocket")
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
			c.Send("3")
		}
		// No pong: the server closes after pingInterval + pingTimeout.
		if !c.Closed(3*time.Second, false) {
			t.Error("session not closed without pongs")
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		// Pings far apart: the suite's 300 + 200 ms heartbeat (checked
		// above) can end a polling session that waits out its probe on a
		// loaded machine.
		o, err := suiteOptions()
		if err != nil {
			t.Fatal(err)
		}
		o.PingInterval = time.Minute
		base, ws := mustConformanceWith(t, "engineio", o)
		eio := base + "/engine.io/?EIO=4&transport=polling"
		status, body := servertest.Do(t, "GET", eio, "")
		var open struct{ Sid string }
		if status != 200 || !strings.HasPrefix(body, "0") || json.Unmarshal([]byte(body[1:]), &open) != nil {
			t.Fatalf("handshake %d %q", status, body)
		}
		sid := open.Sid
		c := servertest.MustDial(t, ws+"/engine.io/?EIO=4&transport=websocket&sid="+sid)
		c.Send("2probe")
		if _, msg := c.Read(); msg != "3probe" {
			t.Fatalf("probe answer %q", msg)
		}
		// The pending poll is released with a noop before the switch.
		if _, body := servertest.Do(t, "GET", eio+"&sid="+sid, ""); body != "6" {
			t.Errorf("poll during upgrade: %q, want noop", body)
		}
		c.Send("5")
		c.Send("4after upgrade")
		if _, msg := c.Read(); msg != "4after upgrade" {
			t.Errorf("echo over the upgraded transport: %q", msg)
		}
		if status, _ := servertest.Do(t, "GET", eio+"&sid="+sid, ""); status != 400 {
			t.Errorf("poll after upgrade: %d, want 400", status)
		}
		// Another WebSocket for the upgraded session opens and is closed
		// (Node's answer; the suite fails on a refused handshake).
		again := servertest.MustDial(t, ws+"/engine.io/?EIO=4&transport=websocket&sid="+sid)
		if !again.Closed(3*time.Second, false) {
			t.Error("second WebSocket for an upgraded session not closed")
		}
		c.Send("4still")
		if _, msg := c.Read(); msg != "4still" {
			t.Errorf("the upgraded transport after the second WebSocket: %q", msg)
		}
	})
}

// pollSession opens a long-polling session and returns its sid.
func pollSession(t *testing.T, url string) string {
	t.Helper()
	status, body := servertest.Do(t, "GET", url, "")
	if status != 200 {
		t.Fatalf("handshake %d %q", status, body)
	}
	return checkOpen(t, body, []string{"websocket"})
}

func TestConformanceSocketIO(t *testing.T) {
	_, ws := mustConformance(t, "socketio")
	connect := func(t *testing.T) *servertest.WSConn {
		c := servertest.MustDial(t, ws+"/socket.io/?EIO=4&transport=websocket")
		c.Read() // open
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
			c.Send(tc.send)
			_, msg := c.Read()
			if !strings.HasPrefix(msg, tc.wantPrefix) {
				t.Fatalf("%s: connect answer %q", tc.send, msg)
			}
			var hs map[string]any
			_ = json.Unmarshal([]byte(msg[strings.Index(msg, "{"):]), &hs)
			if len(hs) != 1 || hs["sid"] == nil {
				t.Errorf("%s: CONNECT payload %q, want exactly {sid}", tc.send, msg)
			}
			if _, msg := c.Read(); msg != tc.wantAuth {
				t.Errorf("%s: auth event %q, want %q", tc.send, msg, tc.wantAuth)
			}
		}
		c := connect(t)
		c.Send("40/random")
		if _, msg := c.Read(); msg != `44/random,{"message":"Invalid namespace"}` {
			t.Errorf("unknown namespace: %q", msg)
		}
	})

	t.Run("acks and binary", func(t *testing.T) {
		c := connect(t)
		c.Send("40")
		c.Read()
		c.Read()
		c.Send(`42["message",1,"2",{"3":[true]}]`)
		if _, msg := c.Read(); msg != `42["message-back",1,"2",{"3":[true]}]` {
			t.Errorf("event echo %q", msg)
		}
		c.Send(`42456["message-with-ack",1,"2",{"3":[false]}]`)
		if _, msg := c.Read(); msg != `43456[1,"2",{"3":[false]}]` {
			t.Errorf("ack %q", msg)
		}
		c.Send(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
		_ = c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
		_ = c.WriteMessage(websocket.BinaryMessage, []byte{4, 5, 6})
		if _, msg := c.Read(); msg != `462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]` {
			t.Errorf("binary ack header %q", msg)
		}
		for _, want := range [][]byte{{1, 2, 3}, {4, 5, 6}} {
			kind, msg := c.Read()
			if kind != websocket.BinaryMessage || !bytes.Equal([]byte(msg), want) {
				t.Errorf("attachment %v, want %v", []byte(msg), want)
			}
		}
	})

	t.Run("invalid packets close the connection", func(t *testing.T) {
		for _, bad := range []string{"4abc", "42{}", `42abc["message-with-ack",1]`, `4{`} {
			c := connect(t)
			c.Send("40")
			c.Read()
			c.Read()
			c.Send(bad)
			if !c.Closed(3*time.Second, true) {
				t.Errorf("%q: connection still open", bad)
			}
		}
	})

	t.Run("no CONNECT closes the connection", func(t *testing.T) {
		c := connect(t)
		start := time.Now()
		if !c.Closed(3*time.Second, true) {
			t.Fatal("connection without a namespace still open after connectTimeout")
		}
		if d := time.Since(start); d < 800*time.Millisecond {
			t.Errorf("closed after %v, before connectTimeout (1 s)", d)
		}
	})
}
