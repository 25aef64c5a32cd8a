package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// TestSlowClientDropped: a WebSocket client that stops reading is dropped
// once a write to it times out, and meanwhile the other clients get every
// event. (The bound on what one connection may hold is raised past the
// burst here: TestSilentClientsDropped has it cut first.)
func TestSlowClientDropped(t *testing.T) {
	env := mustStart(t, func(c *Config) { c.SocketIO.MaxQueued, c.SocketIO.WriteTimeout = 32<<20, 500*time.Millisecond })
	mustRawSocket(t, webSocketURL(env.url)) // the slow client: connected, it reads nothing from now on
	fast := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}, "reconnection": false})
	fast.MustConnect()

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
	storetest.WaitFor(t, "the slow client dropped (one Engine.IO client left)", func() bool {
		return env.srv.SocketIO().Engine().ClientsCount() == 1
	})
}

// TestBroadcastOrderAcrossUpgrade: clients that start on long-polling and
// upgrade to WebSocket while broadcasts stream in get every event sent
// from their connection on, in order, across the upgrade: the switch from
// the polling buffer to the WebSocket neither reorders nor loses any.
// Afterwards every session is on WebSocket. The stream lasts until
// every client has upgraded and goes on for a while after, however long
// the machine takes.
func TestBroadcastOrderAcrossUpgrade(t *testing.T) {
	env := mustStart(t, nil)
	var sent atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			env.srv.bc.Broadcast("seq", i)
			sent.Store(int64(i + 1))
			// Part of what is tested: a paced stream, so that clients
			// connect and upgrade while it flows.
			time.Sleep(2 * time.Millisecond) // the pace of the stream (see above)
		}
	}()
	var once sync.Once
	stopStream := func() { once.Do(func() { close(stop); <-done }) }
	t.Cleanup(stopStream) // before the server stops, if the test fails

	var clients []*servertest.NodeClient
	var seqs []*seqCheck
	for i := range 6 {
		// Each client joins further on in the stream than the one before.
		at := sent.Load() + 50
		storetest.WaitFor(t, fmt.Sprintf("event %d sent", at), func() bool { return sent.Load() >= at })
		version := 4
		if i%3 == 2 {
			version = 2
		}
		c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": version, "reconnection": false, "listen": []string{"seq"}})
		c.MustConnect()
		clients = append(clients, c)
		// Its socket is in the namespace now: every event from this one
		// on must reach it.
		seqs = append(seqs, &seqCheck{t: t, client: i, c: c, first: -1, connectedAt: int(sent.Load())})
	}
	for _, s := range seqs {
		s.readUntilUpgrade()
	}
	storetest.WaitFor(t, "every session on WebSocket", func() bool { return webSocketSessions(env) == len(clients) })
	at := sent.Load() + 200 // and more events after the last upgrade
	storetest.WaitFor(t, fmt.Sprintf("event %d sent", at), func() bool { return sent.Load() >= at })
	stopStream()
	n := int(sent.Load())
	for _, s := range seqs {
		s.readTo(n)
		if s.first > s.connectedAt || s.afterUpgrade == 0 {
			t.Errorf("client %d, connected when %d events were sent, got events %d to %d (%d before its upgrade, %d after)",
				s.client, s.connectedAt, s.first, s.next-1, s.beforeUpgrade, s.afterUpgrade)
		}
	}
	if ws := webSocketSessions(env); ws != len(clients) {
		t.Errorf("%d of %d sessions on WebSocket", ws, len(clients))
	}
}

// seqCheck follows the "seq" events of one client: consecutive numbers
// from its first one on, counted on each side of its upgrade (events the
// server queues during the upgrade go out on the new transport, so a
// client may get none before it).
type seqCheck struct {
	t                           *testing.T
	client                      int
	c                           *servertest.NodeClient
	connectedAt                 int // events sent when it had connected
	first, next                 int
	upgraded                    bool
	beforeUpgrade, afterUpgrade int
}

// readUntilUpgrade checks the events that come before the upgrade.
func (s *seqCheck) readUntilUpgrade() {
	s.t.Helper()
	for !s.upgraded {
		s.take(s.c.Next(10*time.Second, "event", "upgrade"))
	}
}

// readTo checks the events up to the last one sent, n-1.
func (s *seqCheck) readTo(n int) {
	s.t.Helper()
	for s.next < n {
		s.take(s.c.Next(10*time.Second, "event", "upgrade"))
	}
}

func (s *seqCheck) take(m servertest.NodeMsg) {
	s.t.Helper()
	if m.Ev == "upgrade" {
		if m.Transport != "websocket" || s.upgraded {
			s.t.Fatalf("client %d: upgrade to %q (upgraded before: %v)", s.client, m.Transport, s.upgraded)
		}
		s.upgraded = true
		return
	}
	var got int
	if m.Name != "seq" || len(m.Args) == 0 || json.Unmarshal(m.Args[0], &got) != nil {
		s.t.Fatalf("client %d: unexpected event %s %s", s.client, m.Name, m.Args)
	}
	if s.first < 0 {
		s.first, s.next = got, got
	}
	if got != s.next {
		s.t.Fatalf("client %d (first event %d): got event %d, want %d", s.client, s.first, got, s.next)
	}
	s.next++
	if s.upgraded {
		s.afterUpgrade++
	} else {
		s.beforeUpgrade++
	}
}

// webSocketSessions counts the sockets of "/" whose session is on
// WebSocket, where every broadcast is the one shared frame.
func webSocketSessions(env *testEnv) int {
	n := 0
	env.srv.SocketIO().Sockets().Sockets().Range(func(_ socket.SocketId, s *socket.Socket) bool {
		if s.Conn().Transport().Name() == "websocket" {
			n++
		}
		return true
	})
	return n
}

// TestServerDisconnectAfterBurst: a socket the server disconnects right
// after a burst of broadcasts still gets the whole burst, then the
// disconnect packet ("io server disconnect"), before the connection is
// closed: closing waits for the transport's queue.
func TestServerDisconnectAfterBurst(t *testing.T) {
	env := mustStart(t, nil)
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}, "reconnection": false})
	c.MustConnect()
	const n = 200
	pad := strings.Repeat("x", 16<<10)
	for i := range n {
		env.srv.bc.Broadcast("news", map[string]any{"i": i, "pad": pad})
	}
	env.srv.bc.Close() // every event is on the transport's queue
	env.srv.SocketIO().DisconnectSockets(true)
	for i := range n {
		ev := waitEvent(t, c, "news")
		if !strings.HasPrefix(string(ev.Args[0]), fmt.Sprintf(`{"i":%d,`, i)) {
			t.Fatalf("event %d: %.40s", i, ev.Args[0])
		}
	}
	if m := c.Next(10*time.Second, "disconnect"); m.Reason != "io server disconnect" {
		t.Fatalf("disconnect reason %q, want %q", m.Reason, "io server disconnect")
	}
}

// TestBroadcastToManySockets: with enough sockets that a broadcast's
// writes are split over several goroutines, every socket still gets
// every event, once, in order.
func TestBroadcastToManySockets(t *testing.T) {
	env := mustStart(t, nil)
	const clients, events = 600, 30
	conns := make([]*servertest.WSConn, clients)
	for i := range conns {
		conns[i] = mustRawSocket(t, webSocketURL(env.url))
	}
	for i := range events {
		env.srv.bc.Broadcast("news", map[string]any{"i": i})
	}
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for n, c := range conns {
		wg.Go(func() {
			for i := range events {
				_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
				_, msg, err := c.ReadMessage()
				if want := fmt.Sprintf(`42["news",{"i":%d},`, i); err != nil || !strings.HasPrefix(string(msg), want) {
					errs <- fmt.Sprintf("client %d, event %d: %.40q, %v", n, i, msg, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkBroadcast measures one `posts`-sized broadcast reaching every
// one of N raw WebSocket clients of the in-process server (clients and
// server share the process, so allocations include the clients' reads).
//
//	go test ./server -run '^$' -bench Broadcast -benchmem
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			env := mustStart(b, nil)
			ws := webSocketURL(env.url)
			var received atomic.Int64
			var wg sync.WaitGroup
			conns := make([]*servertest.WSConn, 0, n)
			for range n {
				c := mustRawSocket(b, ws)
				conns = append(conns, c)
				_ = c.SetReadDeadline(time.Time{}) // the reader below waits as long as the benchmark runs
				wg.Go(func() {
					for {
						_, msg, err := c.ReadMessage()
						if err != nil {
							return
						}
						if len(msg) == 1 && msg[0] == '2' {
							_ = c.WriteMessage(websocket.TextMessage, []byte("3"))
							continue
						}
						received.Add(1)
					}
				})
			}
			payload := map[string]any{"action": "create", "post": map[string]any{
				"_id": "6b0691681e9a705b920c7fac", "title": "Hello world", "content": strings.Repeat("Some content. ", 10),
				"imageUrl":  "images/aa51b65dd470b5471d1c229ffbafcb86.png",
				"creator":   map[string]any{"_id": "6b0691671e9a705b920c7fab", "name": "Foo"},
				"createdAt": "2026-11-25T07:42:32.230Z", "updatedAt": "2026-11-25T07:42:32.230Z",
			}}
			b.ResetTimer()
			for i := range b.N {
				env.srv.bc.Broadcast("posts", payload)
				want := int64(n) * int64(i+1)
				deadline := time.Now().Add(30 * time.Second)
				for received.Load() < want {
					if time.Now().After(deadline) {
						b.Fatalf("broadcast %d reached %d of %d clients", i, received.Load()-int64(n)*int64(i), n)
					}
					time.Sleep(50 * time.Microsecond) // polling the condition
				}
			}
			b.StopTimer()
			for _, c := range conns {
				c.Close()
			}
			wg.Wait()
		})
	}
}

// TestBroadcastFollowsConnects: a broadcast to all reaches the sockets
// connected at that moment, whatever connected or left since the last
// one (the fan-out keeps its list of sockets between broadcasts).
func TestBroadcastFollowsConnects(t *testing.T) {
	env := mustStart(t, nil)
	ws := webSocketURL(env.url)
	expect := func(c *servertest.WSConn, i int) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, msg, err := c.ReadMessage()
		if want := fmt.Sprintf(`42["news",{"i":%d},`, i); err != nil || !strings.HasPrefix(string(msg), want) {
			t.Fatalf("event %d: %.40q, %v", i, msg, err)
		}
	}
	a := mustRawSocket(t, ws)
	env.srv.bc.Broadcast("news", map[string]any{"i": 0})
	expect(a, 0)
	b := mustRawSocket(t, ws)
	env.srv.bc.Broadcast("news", map[string]any{"i": 1})
	expect(a, 1)
	expect(b, 1)
	_ = b.Close()
	storetest.WaitFor(t, "the closed socket to leave", func() bool { return env.srv.io.Engine().ClientsCount() == 1 })
	c := mustRawSocket(t, ws)
	env.srv.bc.Broadcast("news", map[string]any{"i": 2})
	expect(a, 2)
	expect(c, 2)
}

// TestSilentClientsDropped: WebSocket clients that connect and never read
// again, while a user creates posts of the largest content, are dropped
// once what waits for each passes SOCKETIO_MAX_QUEUED_BYTES (the kernel's
// buffers first take some megabytes); a client that reads gets every
// post; and once the silent ones are gone nothing is counted as queued
// any more.
func TestSilentClientsDropped(t *testing.T) {
	env := mustStart(t, withMetrics)
	for range 5 {
		mustRawSocket(t, webSocketURL(env.url)) // connected to "/", never read again
	}
	reader := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}, "reconnection": false})
	reader.MustConnect()
	api, _ := mustUser(t, env.url, "writer@example.com", "Writer")
	content := strings.Repeat("x", env.srv.cfg.Posts.MaxContentLength-10)
	img := pngBytes(t, 9)
	const posts = 400 // 8 MB of events to each client
	for i := range posts {
		if status, body := api.form("POST", "/feed/post", map[string]string{"title": fmt.Sprintf("Post %d", i), "content": content}, img); status != 201 {
			t.Fatalf("create %d: %d %v", i, status, body)
		}
		waitEvent(t, reader, "posts")
	}
	waitMetric(t, env, 5, "feedrt_socket_slow_consumers_dropped_total", "bound", "connection")
	waitMetric(t, env, 0, "feedrt_socket_queued_bytes")
	if n := env.srv.SocketIO().Engine().ClientsCount(); n != 1 {
		t.Errorf("%d Engine.IO clients, want the reader alone", n)
	}
}
