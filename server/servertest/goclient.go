package servertest

import (
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// GoClient connects the zishang520 Go client over WebSocket only and
// records every event it receives. It does not reconnect: a test whose
// client is dropped sees the events stop rather than a new socket.
//
// The client (v3.0.6) is a port of the JavaScript one that still counts
// on an event loop; its goroutines race when they run in parallel, as
// under -race on a loaded machine:
//
//   - Socket.Connect subscribes to the manager's "open", starts the
//     Engine.IO connection, then sends CONNECT itself if the manager is
//     open by then; an open in between sends a second CONNECT on the
//     same connection (about 1 connect in 20 with four CPU burners on
//     two cores). The server either makes a second socket of it (every
//     event then arrives twice) or closes the connection as being in an
//     invalid state (the client reconnects; what was sent meanwhile is
//     lost).
//   - Manager.Open starts the Engine.IO connection before it listens for
//     its "open": an early open is missed and the attempt waits for its
//     timeout (about 1 in 12 there).
//   - Manager.Open arms the attempt's timeout after it listens for the
//     "open": an early open leaves the timer armed, and when it fires it
//     closes the connection that opened (then reconnects).
//
// So each attempt is a new client whose manager is opened alone, with a
// timeout that never fires during a test (the test's end clears it), and
// is given up on (closed, never connected to the namespace, so it leaves
// no socket) if it has not opened within 1 s, then 2 s, up to 8 s: an
// open is missed, or a loaded machine is slow. Once the manager is open
// the socket connects, and Socket.Connect sends one CONNECT.
func GoClient(t testing.TB, url string) (*client.Socket, chan []any) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	wait := time.Second
	var c *client.Socket
	for c == nil {
		if time.Now().After(deadline) {
			t.Fatal("Go client did not connect")
		}
		c = openGoClient(t, url, wait)
		wait = min(2*wait, 8*time.Second)
	}
	t.Cleanup(func() { c.Close() })

	events := make(chan []any, 64)
	connected := make(chan struct{}, 1)
	_ = c.On("connect", func(...any) {
		select {
		case connected <- struct{}{}:
		default:
		}
	})
	c.OnAny(func(args ...any) { events <- args })
	c.Connect()
	select {
	case <-connected:
	case <-time.After(30 * time.Second):
		t.Fatal("Go client did not connect")
	}
	return c, events
}

// openGoClient makes a client whose Engine.IO connection to url is open,
// or nil if it did not open within wait (the client is then closed); an
// error (the server refused) fails the test.
func openGoClient(t testing.TB, url string, wait time.Duration) *client.Socket {
	t.Helper()
	opts := client.DefaultOptions()
	opts.SetTransports(types.NewSet(client.WebSocket))
	opts.SetForceNew(true)
	opts.SetReconnection(false)
	opts.SetAutoConnect(false) // listeners first, and the manager open first
	opts.SetTimeout(time.Hour) // see GoClient: it must not fire
	c, err := client.Connect(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	c.Io().Open(func(err error) {
		select {
		case opened <- err:
		default:
		}
	})
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("Go client: %v", err)
		}
		return c
	case <-time.After(wait):
	}
	c.Close()
	return nil
}
