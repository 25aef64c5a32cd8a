package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
)

// addEchoHandlers gives every socket of "/" an "echo" event that answers
// through the ack and a "binary" event that sends its arguments back as
// a "binary" event, as a user's own handlers would.
func addEchoHandlers(io *socket.Server) {
	io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.On("echo", acked(func(a []any) []any { return a }))
		s.On("binary", func(a ...any) {
			s.Emit("binary", a...)
		})
	})
}

// TestNodeClients runs the official socket.io-client 4.x and 2.x over each
// transport choice against the real server: connect (and upgrade when
// both transports are allowed), receive a broadcast, an ack round-trip and
// a binary round-trip.
func TestNodeClients(t *testing.T) {
	env := mustStart(t, nil)
	addEchoHandlers(env.srv.SocketIO())

	cases := []struct {
		version    int
		transports []string
		wantFirst  string
		wantFinal  string
	}{
		{4, nil, "polling", "websocket"},
		{4, []string{"websocket"}, "websocket", "websocket"},
		{4, []string{"polling"}, "polling", "polling"},
		{2, nil, "polling", "websocket"},
		{2, []string{"websocket"}, "websocket", "websocket"},
		{2, []string{"polling"}, "polling", "polling"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("v%d/%v", tc.version, tc.transports), func(t *testing.T) {
			t.Parallel()
			opts := map[string]any{"url": env.url, "version": tc.version}
			if tc.transports != nil {
				opts["transports"] = tc.transports
			}
			c := servertest.MustNodeClient(t, opts)
			m := c.MustConnect()
			if m.Transport != tc.wantFirst {
				t.Errorf("connected over %q, want %q", m.Transport, tc.wantFirst)
			}
			c.WaitTransport(tc.wantFinal)

			// Broadcast: every connected socket sees it, this one included
			// (and those of the parallel subtests: skip theirs).
			want := fmt.Sprintf(`{"n":%d,"transports":%q,"text":"héllo"}`, tc.version, fmt.Sprint(tc.transports))
			env.srv.bc.Broadcast("news", json.RawMessage(want))
			for {
				ev := waitEvent(t, c, "news")
				if len(ev.Args) != 1 {
					t.Fatalf("news args = %s, want [%s]", ev.Args, want)
				}
				if jsonEqual(ev.Args[0], want) {
					break
				}
			}

			// Ack round-trip with mixed argument types.
			c.Send(map[string]any{"op": "emit", "event": "echo", "args": []any{"a", 1, map[string]any{"k": []int{1, 2}}}, "ack": true, "id": 7})
			ack := c.Next(5*time.Second, "ack")
			if got, _ := json.Marshal(ack.Args); string(got) != `["a",1,{"k":[1,2]}]` {
				t.Errorf("ack args = %s", got)
			}

			// Binary round-trip: bytes out, same bytes back as an attachment.
			payload := []byte{0, 1, 2, 250, 255}
			b64 := base64.StdEncoding.EncodeToString(payload)
			c.Send(map[string]any{"op": "emit", "event": "binary", "args": []any{"bin", map[string]any{"$bin": b64}}})
			ev := waitEvent(t, c, "binary")
			if got, _ := json.Marshal(ev.Args); string(got) != fmt.Sprintf(`["bin",{"$bin":%q}]`, b64) {
				t.Errorf("binary echo = %s", got)
			}
		})
	}
}

// waitEvent waits for the named server event, skipping other messages.
// With connection state recovery on, the server appends the packet's
// offset (a string) to every event, exactly as Node does; it is checked
// and removed here so callers see the arguments that were emitted.
func waitEvent(t *testing.T, c *servertest.NodeClient, name string) servertest.NodeMsg {
	t.Helper()
	m := waitEventAny(t, c, name)
	var offset string
	if n := len(m.Args); n == 0 || json.Unmarshal(m.Args[n-1], &offset) != nil || offset == "" {
		t.Fatalf("%q event without a recovery offset: %s", name, m.Args)
	}
	m.Args = m.Args[:len(m.Args)-1]
	return m
}

// waitEventAny waits for the named event, with or without a recovery
// offset (a Node server without recovery sends none), skipping others.
func waitEventAny(t *testing.T, c *servertest.NodeClient, name string) servertest.NodeMsg {
	t.Helper()
	return c.NextWhere(10*time.Second, "event", func(m servertest.NodeMsg) bool { return m.Name == name })
}

// jsonEqual compares two JSON texts by value.
func jsonEqual(a json.RawMessage, b string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(ax) == string(by)
}

// TestWebSocketOutlivesHTTPTimeouts: net/http leaves the ReadTimeout and
// WriteTimeout deadlines on a hijacked connection; a WebSocket must keep
// working in both directions long after them.
func TestWebSocketOutlivesHTTPTimeouts(t *testing.T) {
	env := mustStart(t, nil, WithHTTPTimeouts(500*time.Millisecond, 500*time.Millisecond))
	addEchoHandlers(env.srv.SocketIO())
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}, "reconnection": false})
	c.MustConnect()
	// What is tested: the connection outlives the deadlines net/http set
	// on it, so time must pass them.
	time.Sleep(1500 * time.Millisecond) // three times the deadlines (see above)
	c.Send(map[string]any{"op": "emit", "event": "echo", "args": []any{"late"}, "ack": true, "id": 1})
	if m := c.Next(5*time.Second, "ack", "disconnect"); m.Ev != "ack" {
		t.Fatalf("got %s (%s), want the ack", m.Ev, m.Reason)
	}
	env.srv.bc.Broadcast("news", "late")
	if ev := waitEvent(t, c, "news"); !jsonEqual(ev.Args[0], `"late"`) {
		t.Errorf("news = %s", ev.Args)
	}
}

// TestBroadcastOrderAndDrain: events arrive once each and in the order
// they were queued, and the ones still queued at shutdown are delivered
// before the sockets close.
func TestBroadcastOrderAndDrain(t *testing.T) {
	env := mustStart(t, nil)
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}, "reconnection": false})
	c.MustConnect()
	const n = 300
	for i := range n {
		env.srv.bc.Broadcast("news", i)
	}
	env.srv.bc.Close() // what Shutdown does first: drain, then stop
	for i := range n {
		ev := waitEvent(t, c, "news")
		if !jsonEqual(ev.Args[0], fmt.Sprint(i)) {
			t.Fatalf("event %d carried %s", i, ev.Args[0])
		}
	}
	env.srv.bc.Broadcast("news", "after close") // dropped, no panic
}
