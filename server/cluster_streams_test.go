package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// The streams adapter (REDIS_ADAPTER=streams) across processes and
// through a Redis restart. Two cmd/server processes on one Redis stream,
// clients reaching them through a load balancer without sticky sessions
// (a storetest.Proxy whose target changes): connection state recovery
// works across the processes.

// hostOf is the host:port of a server's http:// URL, what a proxy
// forwards to.
func hostOf(url string) string { return strings.TrimPrefix(url, "http://") }

// mustProcessPair builds cmd/server and runs two processes on the test's
// stream, and a user on B for the posts.
func mustProcessPair(t *testing.T) (s *streamsSetup, a, b *servertest.Process, api *apiClient) {
	t.Helper()
	s = newStreams(t, testRedisURL(t))
	bin := servertest.BuildServer(t)
	a = mustGoProcess(t, bin, s.env()...)
	b = mustGoProcess(t, bin, s.env()...)
	api, _ = mustUser(t, b.URL, "sam@example.com", "Sam")
	return s, a, b, api
}

// linkedPosts makes B's posts reach watcher, a client of A: a post every
// 100 ms until one arrives (A's stream reader may start after the
// first), and returns the title of the last it created.
func linkedPosts(t *testing.T, api *apiClient, watcher *servertest.NodeClient) string {
	t.Helper()
	title := ""
	i := 0
	stop := repeating(func() bool {
		title = fmt.Sprintf("Link post %d", i)
		i++
		if status, body := api.form("POST", "/feed/post", map[string]string{"title": title, "content": "linking"}, pngBytes(t, 1)); status != 201 {
			t.Errorf("create %q: %d %v", title, status, body)
			return false
		}
		return true
	})
	waitEvent(t, watcher, "posts")
	stop()
	return title
}

// TestStreamsRecoveryAcrossProcesses: a WebSocket-only client of process
// A loses its connection while posts are created through process B; it
// reconnects through the balancer to B and gets its session back (same
// id, recovered) with every missed `posts` event, in order, once, each
// packet byte for byte what a client that stayed connected to A got.
func TestStreamsRecoveryAcrossProcesses(t *testing.T) {
	s, a, b, api := mustProcessPair(t)
	lb := storetest.StartProxy(t, hostOf(a.URL))
	raw := func(url string) *servertest.NodeClient {
		return servertest.MustNodeClient(t, map[string]any{"url": url, "version": 4, "transports": []string{"websocket"}, "raw": true})
	}
	c, watcher := raw("http://"+lb.Addr()), raw(a.URL)
	first := c.MustConnect()
	watcher.MustConnect()
	linkedPosts(t, api, watcher)
	api.mustCreatePost("Seen post", "before the drop", 2)
	postPackets(t, c, "Seen post") // recovery resumes after the last event received
	postPackets(t, watcher, "Seen post")

	lb.Hold()
	lb.Cut()
	if m := c.Next(10*time.Second, "disconnect"); m.Reason != "transport close" && m.Reason != "transport error" {
		t.Errorf("disconnect reason %q", m.Reason)
	}
	for i := 1; i <= 3; i++ {
		api.mustCreatePost(fmt.Sprintf("Missed post %d", i), "while away", uint8(10+i))
	}
	// In the stream: A's watcher got them through it. And A has kept the
	// session in Redis (a process persists it when the connection drops).
	live := postPackets(t, watcher, "Missed post 3")
	storetest.WaitFor(t, "a session in Redis", func() bool { return s.sessionKeys(t) > 0 })

	lb.SetTarget(hostOf(b.URL))
	lb.Release()
	again := c.MustConnect()
	if !again.Recovered || again.ID != first.ID {
		t.Fatalf("reconnect to B: recovered=%v id %v (was %v)", again.Recovered, again.ID, first.ID)
	}
	if got := postPackets(t, c, "Missed post 3"); !slices.Equal(got, live) {
		t.Errorf("missed packets on B:\n%q\nwant (as A's watcher got them live):\n%q", got, live)
	}
	api.mustCreatePost("After the return", "live again", 20)
	if got := postPackets(t, c, "After the return"); len(got) != 1 {
		t.Errorf("after the missed events: %q, want only the new post", got)
	}
}

// TestStreamsRecoveryAfterSIGKILL: process A is killed (SIGKILL, no
// goodbye, nothing persisted at the end) while posts stream in through
// B; A's clients reconnect through the balancer to B and recover, and
// every client, A's or B's, has every post exactly once, in order.
func TestStreamsRecoveryAfterSIGKILL(t *testing.T) {
	_, a, b, api := mustProcessPair(t)
	lb := storetest.StartProxy(t, hostOf(a.URL))
	var onA []*servertest.NodeClient
	ids := map[*servertest.NodeClient]any{}
	for range 2 {
		c := servertest.MustNodeClient(t, map[string]any{"url": "http://" + lb.Addr(), "version": 4, "transports": []string{"websocket"}})
		ids[c] = c.MustConnect().ID
		onA = append(onA, c)
	}
	onB := servertest.MustNodeClient(t, map[string]any{"url": b.URL, "version": 4, "transports": []string{"websocket"}})
	onB.MustConnect()
	linkedPosts(t, api, onA[0])

	var titles []string
	post := func(i int) {
		t.Helper()
		titles = append(titles, fmt.Sprintf("Stream post %d", i))
		api.mustCreatePost(titles[len(titles)-1], "mid-stream", uint8(i))
	}
	post(1)
	post(2)
	for _, c := range append(onA, onB) {
		if got := postTitles(t, c, titles[1]); !slices.Equal(got[len(got)-2:], titles) {
			t.Fatalf("before the kill: %v", got)
		}
	}
	post(3) // on its way to A's clients, or not, when A dies
	lb.SetTarget(hostOf(b.URL))
	a.Kill()
	for i := 4; i <= 6; i++ {
		post(i)
	}
	for _, c := range onA {
		c.Next(10*time.Second, "disconnect")
		again := c.MustConnect()
		if !again.Recovered || again.ID != ids[c] {
			t.Errorf("reconnect to B after A's death: recovered=%v id %v (was %v)", again.Recovered, again.ID, ids[c])
		}
	}
	post(7)
	for i, c := range append(onA, onB) {
		if got := postTitles(t, c, titles[len(titles)-1]); !slices.Equal(got, titles[2:]) {
			t.Errorf("client %d got %v, want %v", i, got, titles[2:])
		}
	}
}

// TestStreamsRedisRestart stops Redis under two Go servers on the
// streams adapter: each keeps delivering its own broadcasts to its own
// clients, without stalling, and /readyz answers 503; once Redis is back
// (with the stream as it was), /readyz is 200 again and the posts B
// makes at once reach A's clients: every one (A's reader resumes after
// the last entry it read, not at the stream's end, which would skip what
// B added before A reconnected), in order, none twice (nor anything from
// before the outage: not from the stream's start either).
func TestStreamsRedisRestart(t *testing.T) {
	rp := startRedis(t, servertest.RedisConfig{Durable: true})
	s := newStreams(t, rp.URL())
	a, b := mustStart(t, s.config(t)), mustStart(t, s.config(t))
	onA := servertest.MustNodeClient(t, map[string]any{"url": a.url, "version": 4, "transports": []string{"websocket"}})
	onB := servertest.MustNodeClient(t, map[string]any{"url": b.url, "version": 4, "transports": []string{"websocket"}})
	onA.MustConnect()
	onB.MustConnect()
	linked(t, map[string]func(){"a": goLink(a.srv.SocketIO(), "a"), "b": goLink(b.srv.SocketIO(), "b")}, onA, onB)
	api, _ := mustUser(t, b.url, "ines@example.com", "Ines")
	create := func(title string) { t.Helper(); api.mustCreatePostWithin(3*time.Second, title, "redis restart", 9) }

	create("Before")
	for _, c := range []*servertest.NodeClient{onA, onB} {
		postTitles(t, c, "Before")
	}

	rp.Stop()
	storetest.WaitFor(t, "/readyz 503 on both servers", func() bool { return readyz(t, a) == 503 && readyz(t, b) == 503 })
	start := time.Now()
	create("During")
	if got := postTitles(t, onB, "During"); !slices.Equal(got, []string{"During"}) {
		t.Errorf("B's client during the outage got %v", got)
	}
	const burst = 100
	for i := range burst {
		_ = b.srv.SocketIO().Emit("news", i)
	}
	for i := range burst {
		var n int
		_ = decodeArgInt(waitEventAny(t, onB, "news").Args[0], &n) // no offset: the stream never had it
		if n != i {
			t.Fatalf("B's client got news %d, want %d", n, i)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("local delivery during the outage took %v", d)
	}

	rp.Start()
	storetest.WaitFor(t, "B ready again", func() bool { return readyz(t, b) == 200 })
	after := []string{"After 1", "After 2", "After 3"}
	for _, title := range after {
		create(title)
	}
	storetest.WaitFor(t, "A ready again", func() bool { return readyz(t, a) == 200 })

	if got := postTitles(t, onB, "After 3"); !slices.Equal(got, after) {
		t.Errorf("B's client got %v", got)
	}
	// "During" never reached Redis; if the adapter delivers it late, once.
	got := postTitles(t, onA, "After 3")
	if len(got) > 0 && got[0] == "During" {
		got = got[1:]
	}
	if !slices.Equal(got, after) {
		t.Errorf("A's client got %v after the outage, want %v", got, after)
	}
	// Nothing more: a marker from B is the next `posts` or later event.
	_ = b.srv.SocketIO().Emit("end")
	for name, c := range map[string]*servertest.NodeClient{"A": onA, "B": onB} {
		if extra := slices.DeleteFunc(eventsUntil(t, c, "end"), func(n string) bool { return n == "link" || n == "news" }); len(extra) != 0 {
			t.Errorf("%s's client got more: %v", name, extra)
		}
	}
}

// decodeArgInt decodes an event argument that is a number.
func decodeArgInt(raw []byte, n *int) error {
	_, err := fmt.Sscan(string(raw), n)
	return err
}
