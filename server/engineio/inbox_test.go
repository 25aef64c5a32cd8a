package engineio

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"feedrt/store/storetest"
)

// TestWebSocketResumesReading: a client that sends faster than its
// packets are handled has its WebSocket stop reading once more than
// MaxPayload waits in its packet queue, and read again once the queue has
// run down: every message sent comes back.
func TestWebSocketResumesReading(t *testing.T) {
	e := mustEngine(t, func(o *Options) { noPings(o); o.MaxPayload = 10_000 })
	gate := make(chan struct{})
	_ = e.srv.On("connection", func(args ...any) {
		_ = args[0].(*Socket).On("data", func(...any) { <-gate })
	})
	ws := e.openWS(t)
	const n = 40
	msg := "4" + strings.Repeat("x", 999)
	for range n {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	storetest.WaitFor(t, "the packet queue to pass MaxPayload", func() bool {
		c := e.srv.sessions()
		return len(c) == 1 && c[0].inboundFull()
	})
	close(gate)
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range n {
		if _, m, err := ws.ReadMessage(); err != nil || string(m) != msg {
			t.Fatalf("echo %d of %d: %v (%d bytes)", i+1, n, err, len(m))
		}
	}
}
