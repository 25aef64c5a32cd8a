package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	engine "github.com/zishang520/socket.io/servers/engine/v3"
)

// TestSlowClientDropped: a WebSocket client that stops reading is dropped
// once a write to it times out, and meanwhile the other clients get every
// event.
func TestSlowClientDropped(t *testing.T) {
	env := mustStart(t, nil, WithWebSocketWriteTimeout(500*time.Millisecond))
	ws := "ws" + strings.TrimPrefix(env.url, "http") + "/socket.io/?EIO=4&transport=websocket"
	slow := mustDial(t, ws)
	slow.read()
	slow.send("40")
	slow.read() // connected; from now on it reads nothing
	fast := mustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}, "reconnection": false})
	fast.mustConnect()

	big := strings.Repeat("x", 256<<10)
	const n = 60 // ~15 MiB: more than the kernel buffers between the sockets
	for i := range n {
		env.srv.bc.Broadcast("news", map[string]any{"i": i, "pad": big})
	}
	for i := range n {
		ev := waitEvent(t, fast, "news")
		if !strings.HasPrefix(string(ev.Args[0]), fmt.Sprintf(`{"i":%d,`, i)) {
			t.Fatalf("event %d: %.40s", i, ev.Args[0])
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for env.srv.SocketIO().Engine().ClientsCount() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d Engine.IO clients, want the slow one dropped", env.srv.SocketIO().Engine().ClientsCount())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBroadcastOrderAcrossUpgrade: clients that start on long-polling and
// upgrade to WebSocket while broadcasts stream in get every event from
// their first one on, in order: the switch from the library's path to
// the adapter's direct path (fanoutAdapter, fastWebSocket.sendFrame)
// neither reorders nor loses any. Afterwards every WebSocket session is
// on the direct path.
func TestBroadcastOrderAcrossUpgrade(t *testing.T) {
	env := mustStart(t, nil)
	const n = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			env.srv.bc.Broadcast("seq", i)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var clients []*nodeClient
	for i := range 6 {
		version := 4
		if i%3 == 2 {
			version = 2
		}
		c := mustNodeClient(t, map[string]any{"url": env.url, "version": version, "reconnection": false, "listen": []string{"seq"}})
		c.mustConnect()
		clients = append(clients, c)
		time.Sleep(150 * time.Millisecond)
	}
	<-done
	for ci, c := range clients {
		first := -1
		for want := 0; want < n; want++ {
			m := c.next(10*time.Second, "event")
			var got int
			if m.Name != "seq" || len(m.Args) == 0 || json.Unmarshal(m.Args[0], &got) != nil {
				t.Fatalf("client %d: unexpected event %s %s", ci, m.Name, m.Args)
			}
			if first < 0 {
				first, want = got, got
			}
			if got != want {
				t.Fatalf("client %d (first event %d): got event %d, want %d", ci, first, got, want)
			}
		}
		if first > n-500 {
			t.Errorf("client %d saw its first event only at %d of %d", ci, first, n)
		}
	}
	direct := 0
	env.srv.SocketIO().Engine().Clients().Range(func(_ string, s engine.Socket) bool {
		if w, ok := s.Transport().(*fastWebSocket); ok {
			w.mu.Lock()
			if w.direct {
				direct++
			}
			w.mu.Unlock()
		}
		return true
	})
	if direct != len(clients) {
		t.Errorf("%d of %d sessions on the direct broadcast path", direct, len(clients))
	}
}

// TestServerDisconnectAfterBurst: a socket the server disconnects right
// after a burst of broadcasts still gets the whole burst, then the
// disconnect packet ("io server disconnect"), before the connection is
// closed: closing waits for the transport's queue.
func TestServerDisconnectAfterBurst(t *testing.T) {
	env := mustStart(t, nil)
	c := mustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}, "reconnection": false})
	c.mustConnect()
	const n = 200
	pad := strings.Repeat("x", 16<<10)
	for i := range n {
		env.srv.bc.Broadcast("news", map[string]any{"i": i, "pad": pad})
	}
	env.srv.bc.close() // every event is on the transport's queue
	env.srv.SocketIO().DisconnectSockets(true)
	for i := range n {
		ev := waitEvent(t, c, "news")
		if !strings.HasPrefix(string(ev.Args[0]), fmt.Sprintf(`{"i":%d,`, i)) {
			t.Fatalf("event %d: %.40s", i, ev.Args[0])
		}
	}
	if m := c.next(10*time.Second, "disconnect"); m.Reason != "io server disconnect" {
		t.Fatalf("disconnect reason %q, want %q", m.Reason, "io server disconnect")
	}
}
