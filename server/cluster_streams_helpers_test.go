package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// streamsSetup is one test's Redis Streams cluster settings: a stream,
// a session key prefix and a channel prefix no other test uses, in the
// environment names the Go server and testdata/noderedis both read.
type streamsSetup struct {
	url, stream, sessions, key string
	adapter                    string // REDIS_ADAPTER; "" is the default (pub/sub)
}

// newStreams names a test's stream, sessions and channels on the Redis at
// url, and removes what they leave in Redis at cleanup.
func newStreams(t *testing.T, url string) *streamsSetup {
	t.Helper()
	p := testPrefix(t)
	s := &streamsSetup{url: url, stream: p + "-stream", sessions: p + ":session:", key: p, adapter: "streams"}
	rdb := mustRedisClient(t, url)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		keys, _ := rdb.Keys(ctx, s.sessions+"*").Result()
		_ = rdb.Del(ctx, append(keys, s.stream)...).Err()
	})
	return s
}

// env is the servers' environment, KEY=value.
func (s *streamsSetup) env() []string {
	return []string{"REDIS_URL=" + s.url, "REDIS_ADAPTER=" + s.adapter, "REDIS_STREAM_NAME=" + s.stream,
		"REDIS_SESSION_KEY_PREFIX=" + s.sessions, "REDIS_KEY_PREFIX=" + s.key}
}

// config is a mustStart edit that reads env the way the server's start
// does (so these tests depend on the environment names only), keeping
// what mustStart set for tests.
func (s *streamsSetup) config(t *testing.T) func(*Config) {
	return func(c *Config) {
		vars := map[string]string{}
		for _, kv := range s.env() {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		fromEnv(t, vars)(c)
	}
}

// sessionKeys counts the sessions kept in Redis.
func (s *streamsSetup) sessionKeys(t *testing.T) int {
	t.Helper()
	keys, err := mustRedisClient(t, s.url).Keys(context.Background(), s.sessions+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// session finds the session of the socket id kept in Redis, decoded as
// @socket.io/redis-streams-adapter 0.3.x writes it (base64 of msgpack
// {sid, pid, rooms, data}), so a Go server's is checked to be one a Node
// server can restore, and the reverse.
func (s *streamsSetup) session(t *testing.T, sid any) (map[string]any, bool) {
	t.Helper()
	rdb := mustRedisClient(t, s.url)
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, s.sessions+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		v, err := rdb.Get(ctx, k).Result()
		if err != nil {
			continue // restored (GETDEL) meanwhile
		}
		raw, err := base64.StdEncoding.DecodeString(v)
		var session map[string]any
		if err != nil || msgpack.Unmarshal(raw, &session) != nil {
			t.Errorf("session %s is not base64 msgpack: %q", k, v)
			continue
		}
		if session["sid"] == sid {
			if pid, _ := session["pid"].(string); k != s.sessions+pid {
				t.Errorf("session %v under the key %s", session, k)
			}
			return session, true
		}
	}
	return nil, false
}

// mustStreamsNode starts testdata/noderedis on the streams adapter.
func (s *streamsSetup) mustNode(t *testing.T) *nodeServer {
	t.Helper()
	return mustNodeServerEnv(t, s.url, s.key, s.env()...)
}

// linked waits until every server's broadcasts reach the clients of every
// other: a reader that starts at the stream's end ("$", as Node's) misses
// what was added before it, so each emitter repeats a "link" event until
// each watcher (one per server) has had one from each emitter.
func linked(t *testing.T, emitters map[string]func(), watchers ...*servertest.NodeClient) {
	t.Helper()
	stop := repeating(func() bool {
		for _, emit := range emitters {
			emit()
		}
		return true
	})
	defer stop()
	deadline := time.Now().Add(15 * time.Second)
	for i, w := range watchers {
		seen := map[string]bool{}
		for len(seen) < len(emitters) {
			if time.Now().After(deadline) {
				t.Fatalf("watcher %d has had links from %v only, want all of %d servers", i, seen, len(emitters))
			}
			var from string
			_ = json.Unmarshal(waitEventAny(t, w, "link").Args[0], &from)
			seen[from] = true
		}
	}
}

// repeating calls do at once and then every 100 ms, in a goroutine of
// its own, until do returns false or stop is called; stop returns once
// that goroutine has ended, so what do wrote is the caller's to read.
func repeating(do func() bool) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for do() {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(quit); <-done }
}

// goLink and nodeLink are linked's emitters for a Go and a Node server.
func goLink(io *socket.Server, name string) func() { return func() { _ = io.Emit("link", name) } }

func nodeLink(n *nodeServer) func() {
	return func() { n.Send(map[string]any{"op": "emit", "event": "link", "args": []any{"node"}}) }
}

// packetsUntil collects the text of the event packets a client with the
// raw option receives, "link" ones aside, up to and including the first
// of the event named last.
func packetsUntil(t *testing.T, c *servertest.NodeClient, last string) []string {
	t.Helper()
	var got []string
	c.Until(10*time.Second, "packet", func(m servertest.NodeMsg) bool {
		name := packetEvent(m.Data)
		if name == "" || name == "link" {
			return false
		}
		got = append(got, m.Data)
		return name == last
	})
	return got
}

// packetEvent is the event name of an event packet's text, or "".
func packetEvent(data string) string {
	parts := packetData(data)
	if len(parts) == 0 {
		return ""
	}
	var name string
	_ = json.Unmarshal(parts[0], &name)
	return name
}

// packetNames lists the event names of packets.
func packetNames(packets []string) []string {
	names := make([]string, len(packets))
	for i, p := range packets {
		names[i] = packetEvent(p)
	}
	return names
}

// postPackets collects the text of the `posts` packets a client with the
// raw option receives, up to and including the post titled last.
func postPackets(t *testing.T, c *servertest.NodeClient, last string) []string {
	t.Helper()
	var got []string
	c.Until(15*time.Second, "packet", func(m servertest.NodeMsg) bool {
		if packetEvent(m.Data) != "posts" {
			return false
		}
		got = append(got, m.Data)
		var ev struct{ Post struct{ Title string } }
		parts := packetData(m.Data)
		return len(parts) > 1 && json.Unmarshal(parts[1], &ev) == nil && ev.Post.Title == last
	})
	return got
}

// postTitles collects the titles of the `posts` events c receives until
// the post titled last (included), "link" events and others aside.
func postTitles(t *testing.T, c *servertest.NodeClient, last string) []string {
	t.Helper()
	var titles []string
	c.Until(15*time.Second, "event", func(m servertest.NodeMsg) bool {
		if m.Name != "posts" {
			return false
		}
		post, _ := decodeArg(t, m.Args[0])["post"].(map[string]any)
		title, _ := post["title"].(string)
		titles = append(titles, title)
		return title == last
	})
	return titles
}

// processJWTSecret is shared by a test's processes, as a cluster's must be.
const processJWTSecret = "streams-test-secret-0123456789abcdef"

// mustGoProcess runs bin (cmd/server) with a data dir of its own, the
// embedded store and the shared JWT secret, and env (KEY=value) added
// last; its log is printed if the test failed (or with -serverlog).
func mustGoProcess(t *testing.T, bin string, env ...string) *servertest.Process {
	t.Helper()
	p := servertest.StartProcess(t, bin, append([]string{"DATA_DIR=" + t.TempDir(), "MONGODB_URI=",
		"JWT_SECRET=" + processJWTSecret, "BCRYPT_COST=4", "LOG_LEVEL=info", "CORS_ORIGINS=*"}, env...)...)
	if *verbose {
		t.Cleanup(func() { t.Logf("log of the server at %s:\n%s", p.URL, p.Log.String()) })
	}
	return p
}

// streamsMixed is the Go and the Node server of a test, with a raw
// WebSocket client on each that takes part in linked.
type streamsMixed struct {
	s          *streamsSetup
	g          *testEnv
	io         *socket.Server
	node       *nodeServer
	wGo, wNode *servertest.NodeClient
	wGoID      socket.SocketId
	wNodeID    string
}

func mustStreamsMixed(t *testing.T) *streamsMixed {
	t.Helper()
	m := &streamsMixed{s: newStreams(t, testRedisURL(t))}
	m.node = m.s.mustNode(t)
	m.g = mustStart(t, m.s.config(t))
	m.io = m.g.srv.SocketIO()
	m.wGo = mustRawClient(t, m.g.url)
	id, _ := m.wGo.MustConnect().ID.(string)
	m.wGoID = socket.SocketId(id)
	m.wNode = mustRawClient(t, m.node.url)
	m.wNodeID, _ = m.wNode.MustConnect().ID.(string)
	linked(t, map[string]func(){"go": goLink(m.io, "go"), "node": nodeLink(m.node)}, m.wGo, m.wNode)
	// The requests (fetchSockets, serverSideEmit) wait for the answers of
	// as many servers as listen on the channel.
	storetest.WaitFor(t, "both servers counted by both", func() bool {
		return m.io.Sockets().Adapter().ServerCount() == 2 && string(m.node.call(map[string]any{"op": "serverCount"})) == "2"
	})
	return m
}

func mustRawClient(t *testing.T, url string) *servertest.NodeClient {
	t.Helper()
	return servertest.MustNodeClient(t, map[string]any{"url": url, "version": 4, "transports": []string{"websocket"}, "raw": true})
}

// goEmit and nodeEmit broadcast event with one argument, given as JSON
// text (Node) or a value (Go), to rooms except others.
func (m *streamsMixed) goEmit(event string, arg any, rooms, except []string) {
	var b *socket.BroadcastOperator
	for _, r := range rooms {
		if b == nil {
			b = m.io.To(socket.Room(r))
		} else {
			b = b.To(socket.Room(r))
		}
	}
	for _, r := range except {
		if b == nil {
			b = m.io.Except(socket.Room(r))
		} else {
			b = b.Except(socket.Room(r))
		}
	}
	if b == nil {
		_ = m.io.Emit(event, arg)
		return
	}
	_ = b.Emit(event, arg)
}

func (m *streamsMixed) nodeEmit(event, argJSON string, rooms, except []string) {
	m.node.Send(map[string]any{"op": "emit", "event": event, "args": json.RawMessage("[" + argJSON + "]"), "rooms": rooms, "except": except})
}
