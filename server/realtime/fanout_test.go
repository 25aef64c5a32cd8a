package realtime

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"feedrt/server/cors"
	"feedrt/server/servertest"
)

// TestBroadcastInSessionOrder: a broadcast to everyone walks the sockets
// in the order their sessions opened, whatever order the library's
// socket map gives, and reaches each of them once.
func TestBroadcastInSessionOrder(t *testing.T) {
	sio, err := New(Options{
		PingInterval:      25 * time.Second,
		PingTimeout:       20 * time.Second,
		MaxHTTPBufferSize: 1e6,
		Transports:        []string{"polling", "websocket"},
		AllowUpgrades:     true,
		CORS:              cors.New(cors.Options{Origins: []string{"*"}, Methods: []string{"GET", "POST"}, Credentials: true}),
		UpgradeTimeout:    10 * time.Second,
		ConnectTimeout:    45 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxQueued:         1 << 20,
		MaxQueuedTotal:    64 << 20,
		Log:               slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sio.Handler)
	t.Cleanup(func() {
		sio.IO.Close(nil)
		hs.Close()
	})
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"

	const n = 40
	var conns []*servertest.WSConn
	var ids []string // Socket.IO ids, in the order the sessions opened
	for range n {
		c := servertest.MustDial(t, url)
		if _, open := c.Read(); !strings.HasPrefix(open, "0{") {
			t.Fatalf("open packet %q", open)
		}
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
