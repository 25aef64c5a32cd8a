package server

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// durableRedis is a redis-server of a test's own that keeps its data
// (an append-only file, written before each reply) across a kill and a
// restart, so the stream outlives the outage.
type durableRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startDurableRedis(t *testing.T) *durableRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server (Debian's redis-server package) is needed: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &durableRedis{t: t, port: ln.Addr().(*net.TCPAddr).Port, dir: t.TempDir()}
	_ = ln.Close()
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *durableRedis) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

func (r *durableRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir)
	if *verbose {
		r.cmd.Stdout = os.Stderr
	}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	mustPingRedisWithin(r.t, r.url(), 10*time.Second)
}

// stop kills the server (SIGKILL): what it had answered is on disk.
func (r *durableRedis) stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// mustPingRedisWithin waits until the Redis at url answers PING.
func mustPingRedisWithin(t *testing.T, url string, d time.Duration) {
	t.Helper()
	rdb := mustRedisClient(t, url)
	deadline := time.Now().Add(d)
	for rdb.Ping(t.Context()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Redis at %s did not answer within %v", url, d)
		}
		time.Sleep(20 * time.Millisecond) // polling the condition
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
	rp := startDurableRedis(t)
	s := newStreams(t, rp.url())
	a, b := mustStart(t, s.config(t)), mustStart(t, s.config(t))
	onA := mustNodeClient(t, map[string]any{"url": a.url, "version": 4, "transports": []string{"websocket"}})
	onB := mustNodeClient(t, map[string]any{"url": b.url, "version": 4, "transports": []string{"websocket"}})
	onA.MustConnect()
	onB.MustConnect()
	linked(t, map[string]func(){"a": goLink(a.srv.SocketIO(), "a"), "b": goLink(b.srv.SocketIO(), "b")}, onA, onB)
	api, _ := mustUser(t, b.url, "ines@example.com", "Ines")
	create := func(title string) {
		t.Helper()
		start := time.Now()
		api.mustCreatePost(title, "redis restart", 9)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("create %q took %v", title, d)
		}
	}
	ready := func(env *testEnv) int { status, _ := do(t, "GET", env.url+"/readyz", ""); return status }

	create("Before")
	for _, c := range []*nodeClient{onA, onB} {
		postTitles(t, c, "Before")
	}

	rp.stop()
	waitFor(t, "/readyz 503 on both servers", func() bool { return ready(a) == 503 && ready(b) == 503 })
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

	rp.start()
	waitFor(t, "B ready again", func() bool { return ready(b) == 200 })
	after := []string{"After 1", "After 2", "After 3"}
	for _, title := range after {
		create(title)
	}
	waitFor(t, "A ready again", func() bool { return ready(a) == 200 })

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
	for name, c := range map[string]*nodeClient{"A": onA, "B": onB} {
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
