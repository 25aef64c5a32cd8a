package server

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

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
	ready := func(env *testEnv) int { status, _ := servertest.Do(t, "GET", env.url+"/readyz", ""); return status }

	create("Before")
	for _, c := range []*servertest.NodeClient{onA, onB} {
		postTitles(t, c, "Before")
	}

	rp.Stop()
	storetest.WaitFor(t, "/readyz 503 on both servers", func() bool { return ready(a) == 503 && ready(b) == 503 })
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
	storetest.WaitFor(t, "B ready again", func() bool { return ready(b) == 200 })
	after := []string{"After 1", "After 2", "After 3"}
	for _, title := range after {
		create(title)
	}
	storetest.WaitFor(t, "A ready again", func() bool { return ready(a) == 200 })

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
