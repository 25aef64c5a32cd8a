package servertest

import (
	"testing"
	"time"

	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// GoClient connects the zishang520 Go client over WebSocket only and
// records every event it receives.
func GoClient(t testing.TB, url string) (*client.Socket, chan []any) {
	t.Helper()
	opts := client.DefaultOptions()
	opts.SetTransports(types.NewSet(client.WebSocket))
	opts.SetForceNew(true)
	// The Go client now and then misses the Engine.IO open packet of a
	// fresh WebSocket (about 1 connect in 25 here; a raw gorilla client
	// never does against the same server), so a stalled connect times out
	// and is retried rather than failing the test. Not sooner than 5 s: a
	// connect merely slow (a loaded CI machine) that times out is not
	// abandoned by the client, whose retry then makes a second socket
	// that gets every event too.
	opts.SetTimeout(5 * time.Second)
	opts.SetReconnectionDelay(100)
	opts.SetReconnectionDelayMax(200)
	opts.SetAutoConnect(false) // listeners first, or "connect" may fire before them
	c, err := client.Connect(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	events := make(chan []any, 64)
	connected := make(chan struct{}, 1)
	_ = c.On("connect", func(...any) { connected <- struct{}{} })
	c.OnAny(func(args ...any) { events <- args })
	c.Connect()
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("Go client did not connect")
	}
	return c, events
}
