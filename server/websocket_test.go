package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSlowClientDropped: a WebSocket client that stops reading is dropped
// once a write to it times out, and meanwhile the other clients get every
// event.
func TestSlowClientDropped(t *testing.T) {
	env := mustStart(t, func(c *Config) { c.wsWriteTimeout = 500 * time.Millisecond })
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
		env.srv.Broadcaster().Broadcast("news", map[string]any{"i": i, "pad": big})
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
