package redisstreams

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisbase"
	"feedrt/store/storetest"
)

// TestRequests: fetchSockets sees the sockets of both servers (rooms
// included), serverSideEmit reaches the other server's listeners, and
// its acknowledgement comes back; disconnectSockets through B drops a
// client of A.
func TestRequests(t *testing.T) {
	a, b, ca, cb := twoServers(t)
	a.io.In(socket.Room(ca.sid)).SocketsJoin("red")

	fetched := make(chan []string, 1)
	a.io.FetchSockets()(func(sockets []*socket.RemoteSocket, err error) {
		if err != nil {
			t.Error(err)
		}
		var ids []string
		for _, s := range sockets {
			ids = append(ids, string(s.Id()))
		}
		slices.Sort(ids)
		fetched <- ids
	})
	want := []string{ca.sid, cb.sid}
	slices.Sort(want)
	if got := <-fetched; !reflect.DeepEqual(got, want) {
		t.Errorf("fetchSockets from A: %v, want %v", got, want)
	}
	inRed := make(chan []string, 1)
	b.io.In("red").FetchSockets()(func(sockets []*socket.RemoteSocket, err error) {
		var ids []string
		for _, s := range sockets {
			ids = append(ids, string(s.Id()))
		}
		inRed <- ids
	})
	if got := <-inRed; !reflect.DeepEqual(got, []string{ca.sid}) {
		t.Errorf("fetchSockets of room red from B: %v, want [%s]", got, ca.sid)
	}

	heard := make(chan []any, 1)
	_ = b.io.On("ping-servers", func(args ...any) {
		ack := args[len(args)-1].(socket.Ack)
		heard <- args[:len(args)-1]
		ack([]any{"pong from B"}, nil)
	})
	answers := make(chan []any, 1)
	if err := a.io.ServerSideEmit("ping-servers", "hello", float64(2), func(res []any, err error) {
		if err != nil {
			t.Error(err)
		}
		answers <- res
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-heard:
		if !reflect.DeepEqual(got, []any{"hello", float64(2)}) {
			t.Errorf("B heard %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("B never heard the server-side emit")
	}
	select {
	case got := <-answers:
		if !reflect.DeepEqual(got, []any{"pong from B"}) {
			t.Errorf("answers %v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no acknowledgement")
	}

	b.io.In("red").DisconnectSockets(true)
	if !ca.Closed(5*time.Second, true) {
		t.Error("the client of A in red was not disconnected through B")
	}
}

// TestCloseStopsEverything: closing the Socket.IO server and the Cluster
// ends every goroutine they started (stream reader, subscriptions,
// publisher), also with a namespace besides "/" and requests made.
func TestCloseStopsEverything(t *testing.T) {
	url := redisURL(t)
	opts := testOptions(t, url)
	noLeaks := storetest.LeakCheck(t)
	c, err := Open(redisbase.Addr{URL: url}, opts)
	if err != nil {
		t.Fatal(err)
	}
	so := socket.DefaultServerOptions()
	so.SetConnectionStateRecovery(&socket.ConnectionStateRecovery{})
	so.SetAdapter(c)
	io := socket.NewServer(nil, so)
	_ = io.Of("/other", nil)
	_ = io.Emit("hello", 1)
	done := make(chan error, 1)
	io.FetchSockets()(func(_ []*socket.RemoteSocket, err error) { done <- err })
	if err := <-done; err != nil {
		t.Error(err)
	}
	io.Close(nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	noLeaks()
}

// TestBroadcastWithAcks: an emit with acknowledgements from A reaches the
// clients of both servers, and A gets every client's answer (B forwards
// its clients' through Redis) before the timeout.
func TestBroadcastWithAcks(t *testing.T) {
	a, _, ca, cb := twoServers(t)
	answered := make(chan []any, 1)
	a.io.Timeout(5*time.Second).EmitWithAck("question", 42)(func(args []any, err error) {
		if err != nil {
			t.Errorf("emit with ack: %v", err)
		}
		answered <- args
	})
	for name, c := range map[string]*client{"A": ca, "B": cb} {
		_, msg := c.Read()
		rest, ok := strings.CutPrefix(msg, "42")
		i := strings.IndexByte(rest, '[')
		if !ok || i < 1 || rest[i:] != `["question",42]` {
			t.Fatalf("client on %s got %q, want an event with an ack id", name, msg)
		}
		c.Send("43" + rest[:i] + `["answer from ` + name + `"]`)
	}
	select {
	case args := <-answered:
		got := fmt.Sprint(args)
		if len(args) != 2 || !strings.Contains(got, "answer from A") || !strings.Contains(got, "answer from B") {
			t.Errorf("answers %v, want one from each client", args)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answers")
	}
}

// twoServers starts two servers on one stream, both aware of the other,
// and connects a client to each.
func twoServers(t *testing.T) (a, b *node, ca, cb *client) {
	t.Helper()
	url := redisURL(t)
	opts := testOptions(t, url)
	a, b = mustNode(t, url, opts), mustNode(t, url, opts)
	waitServers(t, a, 2)
	waitServers(t, b, 2)
	return a, b, connect(t, a, ""), connect(t, b, "")
}
