package server

import (
	"bytes"
	"io"
	"testing"
	"time"

	"feedrt/server/servertest"
)

// TestGoClient: the Go Socket.IO client gets broadcasts, ack round-trips
// and binary round-trips over WebSocket.
func TestGoClient(t *testing.T) {
	env := mustStart(t, nil)
	addEchoHandlers(env.srv.SocketIO())
	c, events := servertest.GoClient(t, env.url)

	env.srv.bc.Broadcast("news", map[string]any{"text": "hi"})
	args := nextGoEvent(t, events, "news")
	if m, ok := args[0].(map[string]any); !ok || m["text"] != "hi" {
		t.Errorf("news = %#v", args)
	}

	acked := newAck()
	c.EmitWithAck("echo", "a", float64(1))(acked.callback)
	if a := acked.wait(t, "ack", 5*time.Second); len(a) != 2 || a[0] != "a" || a[1] != float64(1) {
		t.Errorf("ack args %#v", a)
	}

	payload := []byte{0, 1, 2, 250, 255}
	if err := c.Emit("binary", payload); err != nil {
		t.Fatal(err)
	}
	args = nextGoEvent(t, events, "binary")
	if got := readBinary(t, args[0]); !bytes.Equal(got, payload) {
		t.Errorf("binary echo %v, want %v", got, payload)
	}
}

// nextGoEvent returns the arguments of the next event called name,
// without the event name and the recovery offset.
func nextGoEvent(t *testing.T, events chan []any, name string) []any {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if len(ev) > 0 && ev[0] == name {
				return ev[1:]
			}
		case <-timeout:
			t.Fatalf("no %q event", name)
		}
	}
}

// readBinary turns whatever the Go client hands over for an attachment
// into bytes.
func readBinary(t *testing.T, v any) []byte {
	t.Helper()
	switch b := v.(type) {
	case []byte:
		return b
	case io.Reader:
		out, err := io.ReadAll(b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatalf("binary arrived as %T", v)
	return nil
}
