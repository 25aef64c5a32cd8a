package server

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
)

// TestSocketIOBadInput throws garbage at /socket.io/ and checks that each
// request gets the Engine.IO protocol's error answer, that bad packets end
// the session, and that the server keeps serving afterwards.
func TestSocketIOBadInput(t *testing.T) {
	env := mustStart(t, nil)
	base := env.url + "/socket.io/"

	cases := []struct {
		name       string
		method     string
		query      string
		body       string
		wantStatus int
		wantBody   string // JSON, compared by value; empty: not checked
	}{
		{"unknown transport", "GET", "EIO=4&transport=carrier-pigeon", "", 400, `{"code":0,"message":"Transport unknown"}`},
		{"no transport", "GET", "EIO=4", "", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", "", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"unknown sid post", "POST", "EIO=4&transport=polling&sid=nope", "4hello", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"handshake by POST", "POST", "EIO=4&transport=polling", "4hello", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket handshake without upgrade", "GET", "EIO=4&transport=websocket", "", 400, `{"code":3,"message":"Bad request"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := servertest.Do(t, tc.method, base+"?"+tc.query, tc.body)
			if status != tc.wantStatus {
				t.Errorf("status %d, want %d (body %q)", status, tc.wantStatus, body)
			}
			if tc.wantBody != "" && !jsonEqual([]byte(body), tc.wantBody) {
				t.Errorf("body %s, want %s", body, tc.wantBody)
			}
		})
	}

	// A bad or missing EIO is protocol 3, as in Node with allowEIO3: the
	// handshake answers in v3 framing ("<length>:<packet>").
	t.Run("EIO other than 4 is v3", func(t *testing.T) {
		for _, q := range []string{"EIO=3&transport=polling", "EIO=5&transport=polling", "EIO=x&transport=polling", "transport=polling"} {
			status, body := servertest.Do(t, "GET", base+"?"+q, "")
			if status != 200 || !regexp.MustCompile(`^\d+:0\{`).MatchString(body) {
				t.Errorf("%s: %d %q, want a v3 open packet", q, status, body)
			}
		}
	})

	t.Run("oversized polling payload", func(t *testing.T) {
		sid := handshake(t, base)
		status, _ := servertest.Do(t, "POST", base+"?EIO=4&transport=polling&sid="+sid, "4"+strings.Repeat("a", 1_000_000+10))
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", status)
		}
	})

	// Chunked, the size is known only while reading: still 413, and the
	// close packet before the cut is not processed.
	t.Run("oversized chunked polling payload", func(t *testing.T) {
		sid := handshake(t, base)
		url := base + "?EIO=4&transport=polling&sid=" + sid
		body := io.MultiReader(strings.NewReader("1\x1e4"), strings.NewReader(strings.Repeat("a", 1_000_000+10)))
		req, err := http.NewRequest("POST", url, body)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", res.StatusCode)
		}
		servertest.Do(t, "POST", url, "40")
		if status, body := servertest.Do(t, "GET", url, ""); status != 200 || !strings.HasPrefix(body, "40{") {
			t.Errorf("after the refused payload: %d %q, want the session open and connected", status, body)
		}
	})

	// A session whose client stopped polling is closed once its buffer
	// passes the bound, instead of holding a copy of every broadcast.
	t.Run("abandoned polling session", func(t *testing.T) {
		sid := handshake(t, base)
		url := base + "?EIO=4&transport=polling&sid=" + sid
		servertest.Do(t, "POST", url, "40")
		_, body := servertest.Do(t, "GET", url, "")
		var connected struct{ Sid socket.SocketId }
		if !strings.HasPrefix(body, "40{") || json.Unmarshal([]byte(body[2:]), &connected) != nil {
			t.Fatalf("connect answer %q", body)
		}
		big := strings.Repeat("x", 100_000)
		for range int(env.srv.cfg.SocketIO.MaxQueued)/len(big) + 2 {
			env.srv.bc.Broadcast("news", big)
		}
		deadline := time.Now().Add(10 * time.Second)
		for _, open := env.srv.SocketIO().Sockets().Sockets().Load(connected.Sid); open; _, open = env.srv.SocketIO().Sockets().Sockets().Load(connected.Sid) {
			if time.Now().After(deadline) {
				t.Fatal("the session is still open")
			}
			time.Sleep(10 * time.Millisecond) // polling the condition
		}
		if status, body := servertest.Do(t, "GET", url, ""); status != 400 || !strings.Contains(body, "Session ID unknown") {
			t.Errorf("GET after the drop: %d %q, want 400 Session ID unknown", status, body)
		}
	})

	// An unparsable Socket.IO packet ends the session, as in Node.
	for _, pkt := range []string{`42["a",`, `4x`, `49`, `40/nonexistent-namespace-with-bad-auth,{`, `42{"not":"an array"}`} {
		t.Run("invalid socket.io packet "+pkt, func(t *testing.T) {
			sid := handshake(t, base)
			url := base + "?EIO=4&transport=polling&sid=" + sid
			servertest.Do(t, "POST", url, "40")
			if _, body := servertest.Do(t, "GET", url, ""); !strings.HasPrefix(body, "40{") {
				t.Fatalf("connect answer %q", body)
			}
			servertest.Do(t, "POST", url, pkt)
			deadline := time.Now().Add(5 * time.Second)
			for {
				status, body := servertest.Do(t, "GET", url, "")
				if status == 400 && strings.Contains(body, "Session ID unknown") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("session still open after %q: %d %q", pkt, status, body)
				}
			}
		})
	}

	t.Run("websocket garbage", func(t *testing.T) {
		frames := []struct {
			kind int
			data string
		}{
			{websocket.TextMessage, `42["a",`},
			{websocket.TextMessage, "\x00\xff"},
			{websocket.BinaryMessage, "\x04\x00\xff\xfe"},
			{websocket.TextMessage, `451-["a",{"_placeholder":true,"num":99}]`},
		}
		for _, f := range frames {
			c := mustRawSocket(t, webSocketURL(env.url))
			_ = c.WriteMessage(f.kind, []byte(f.data))
			c.Closed(5*time.Second, false) // drain until the server closes or the deadline passes
			c.Close()
		}
	})

	t.Run("random bytes", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for range 200 {
			sid := handshake(t, base)
			b := make([]byte, rng.IntN(64))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			servertest.Do(t, "POST", base+"?EIO=4&transport=polling&sid="+sid, string(b))
		}
	})

	// Still alive: health check and a real client connect.
	if status, _ := servertest.Do(t, "GET", env.url+"/healthz", ""); status != 200 {
		t.Fatalf("healthz after garbage: %d", status)
	}
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4})
	c.MustConnect()
}
