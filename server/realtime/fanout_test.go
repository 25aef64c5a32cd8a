package realtime

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"feedrt/server/cors"
	"feedrt/server/servertest"
)

// startTest is a server with the configuration's defaults (compressed
// long-polling on) behind an httptest server, closed with the test.
func startTest(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	sio, err := New(Options{
		PingInterval:             25 * time.Second,
		PingTimeout:              20 * time.Second,
		MaxHTTPBufferSize:        1e6,
		Transports:               []string{"polling", "websocket"},
		AllowUpgrades:            true,
		HTTPCompression:          true,
		HTTPCompressionThreshold: 1024,
		CORS:                     cors.New(cors.Options{Origins: []string{"*"}, Methods: []string{"GET", "POST"}, Credentials: true}),
		UpgradeTimeout:           10 * time.Second,
		ConnectTimeout:           45 * time.Second,
		WriteTimeout:             10 * time.Second,
		MaxQueued:                1 << 20,
		MaxQueuedTotal:           64 << 20,
		Log:                      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sio.Handler)
	t.Cleanup(func() {
		sio.IO.Close(nil)
		hs.Close()
	})
	return sio, hs
}

// TestBroadcastInSessionOrder: a broadcast to everyone walks the sockets
// in the order their sessions opened, whatever order the library's
// socket map gives, and reaches each of them once.
func TestBroadcastInSessionOrder(t *testing.T) {
	sio, hs := startTest(t)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"

	const n = 40
	var conns []*servertest.WSConn
	var ids []string // Socket.IO ids, in the order the sessions opened
	for range n {
		c := servertest.MustOpen(t, url)
		c.Send("40")
		_, msg := c.Read()
		var ack struct{ SID string }
		if !strings.HasPrefix(msg, "40") || json.Unmarshal([]byte(msg[2:]), &ack) != nil || ack.SID == "" {
			t.Fatalf("CONNECT answer %q", msg)
		}
		conns = append(conns, c)
		ids = append(ids, ack.SID)
	}

	sio.IO.Emit("news", 1)
	for i, c := range conns {
		if _, msg := c.Read(); msg != `42["news",1]` {
			t.Fatalf("client %d got %q", i, msg)
		}
	}
	a := sio.IO.Of("/", nil).Adapter().(*fanoutAdapter)
	l := a.everyone.Load()
	if l == nil || len(l.targets) != n {
		t.Fatalf("broadcast list %v, want %d sockets", l, n)
	}
	for i, tg := range l.targets {
		if tg.c == nil || string(tg.s.Id()) != ids[i] {
			t.Fatalf("socket %d of the broadcast is %s, want %s (the %d-th to connect)", i, tg.s.Id(), ids[i], i)
		}
	}
}

// TestBroadcastCompressFalse: a broadcast sent with compress(false)
// reaches a long-polling client that accepts gzip uncompressed, as Node
// sends it; the same broadcast without it comes compressed (it is past
// the threshold).
func TestBroadcastCompressFalse(t *testing.T) {
	sio, hs := startTest(t)
	base := hs.URL + "/socket.io/?EIO=4&transport=polling"
	_, open := servertest.Do(t, "GET", base, "")
	var hs0 struct{ SID string }
	if json.Unmarshal([]byte(strings.TrimPrefix(open, "0")), &hs0) != nil || hs0.SID == "" {
		t.Fatalf("handshake %q", open)
	}
	base += "&sid=" + hs0.SID
	if code, _ := servertest.Do(t, "POST", base, "40"); code != http.StatusOK {
		t.Fatalf("CONNECT: %d", code)
	}
	if _, msg := servertest.Do(t, "GET", base, ""); !strings.HasPrefix(msg, "40") {
		t.Fatalf("CONNECT answer %q", msg)
	}
	// poll is the answer to one GET sent with Accept-Encoding: gzip after
	// emit has run (the GET may already be waiting when it does).
	poll := func(emit func()) (encoding string, body []byte) {
		req, _ := http.NewRequest("GET", base, nil)
		req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client does not inflate
		done := make(chan *http.Response, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
			}
			done <- resp
		}()
		emit()
		resp := <-done
		if resp == nil {
			t.FailNow()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("Content-Encoding"), b
	}
	text := strings.Repeat("compressible ", 200)
	enc, body := poll(func() { sio.IO.Compress(false).Emit("news", text) })
	if enc != "" || !strings.HasPrefix(string(body), `42["news","compressible`) {
		t.Errorf("compress(false): Content-Encoding %q, body %.40q; want it plain", enc, body)
	}
	if enc, _ = poll(func() { sio.IO.Emit("news", text) }); enc != "gzip" {
		t.Errorf("default: Content-Encoding %q, want gzip", enc)
	}
}
