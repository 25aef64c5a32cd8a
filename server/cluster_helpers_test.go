package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
)

// testRedisURL is the Redis the cluster tests share (the machine's, see
// README); FEEDRT_TEST_REDIS_URL points them elsewhere. Each test uses its
// own key prefix, so tests never see each other's messages.
func testRedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FEEDRT_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	mustPingRedis(t, u)
	return u
}

func mustPingRedis(t testing.TB, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := mustRedisClient(t, u).Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s (the cluster tests need one; set FEEDRT_TEST_REDIS_URL): %v", u, err)
	}
}

// testPrefix is a key prefix no other test (or run) uses.
func testPrefix(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	return "feedrt-test-" + name + "-" + hex.EncodeToString(b)
}

// mustRedisClient is a plain client for a test's own checks.
func mustRedisClient(t testing.TB, u string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// waitServers waits until n servers listen on the namespace "/" of the
// prefix (PUBSUB NUMSUB of its request channel), i.e. their
// subscriptions are live and broadcasts will reach them.
func waitServers(t testing.TB, rdb *redis.Client, prefix string, n int64) {
	t.Helper()
	ch := prefix + "-request#/#"
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := rdb.PubSubNumSub(context.Background(), ch).Result()
		if err == nil && res[ch] == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d servers on %s, want %d (err %v)", res[ch], ch, n, err)
		}
		time.Sleep(50 * time.Millisecond) // polling the condition
	}
}

// readyz is a server's /readyz status: 503 while its Redis is
// unreachable.
func readyz(t testing.TB, e *testEnv) int {
	t.Helper()
	status, _ := servertest.Do(t, "GET", e.url+"/readyz", "")
	return status
}

// clustered is a config edit joining a server to the cluster on url/prefix.
func clustered(url, prefix string) func(*Config) {
	return func(c *Config) { c.Redis.URL, c.Redis.KeyPrefix = url, prefix }
}

// testCluster is servers sharing the Redis at url under a key prefix of
// their test's own.
type testCluster struct {
	url, prefix string
	rdb         *redis.Client // for the test's own checks
	node        *nodeServer   // nil unless asked for
	gos         []*testEnv
}

// mustCluster starts a Node server when withNode, then goServers Go
// servers, on the Redis at url, and waits until every one listens.
func mustCluster(t *testing.T, url string, withNode bool, goServers int) *testCluster {
	t.Helper()
	c := &testCluster{url: url, prefix: testPrefix(t), rdb: mustRedisClient(t, url)}
	if withNode {
		c.node = mustNodeServer(t, url, c.prefix)
	}
	for range goServers {
		c.gos = append(c.gos, mustStart(t, clustered(url, c.prefix)))
	}
	c.waitAll(t)
	return c
}

// mustGoPair is two Go servers clustered on the test Redis.
func mustGoPair(t *testing.T) (a, b *testEnv) {
	t.Helper()
	c := mustCluster(t, testRedisURL(t), false, 2)
	return c.gos[0], c.gos[1]
}

// mustNodeAndGo is a Node server and a Go server clustered on the test
// Redis, as during a migration.
func mustNodeAndGo(t *testing.T) (*nodeServer, *testEnv) {
	t.Helper()
	c := mustCluster(t, testRedisURL(t), true, 1)
	return c.node, c.gos[0]
}

// waitAll waits until all the cluster's servers listen (again).
func (c *testCluster) waitAll(t *testing.T) {
	t.Helper()
	n := int64(len(c.gos))
	if c.node != nil {
		n++
	}
	waitServers(t, c.rdb, c.prefix, n)
}

// connectNode starts a socket.io-client 4.x on url and returns it with
// its socket id.
func connectNode(t *testing.T, url string, transports ...string) (*servertest.NodeClient, socket.SocketId) {
	t.Helper()
	opts := map[string]any{"url": url, "version": 4}
	if len(transports) > 0 {
		opts["transports"] = transports
	}
	c := servertest.MustNodeClient(t, opts)
	m := c.MustConnect()
	id, _ := m.ID.(string)
	return c, socket.SocketId(id)
}

// joinLocal makes the socket id of a server join rooms, directly.
func joinLocal(t *testing.T, io *socket.Server, id socket.SocketId, rooms ...socket.Room) {
	t.Helper()
	s, ok := io.Sockets().Sockets().Load(id)
	if !ok {
		t.Fatalf("no socket %s here", id)
	}
	s.Join(rooms...)
}

// pairSockets is what the cluster tests on sockets of both servers start
// from: two clustered Go servers, one Node client on A and two on B, with
// their socket ids. Each test then puts them in the rooms it needs.
type pairSockets struct {
	ioA, ioB         *socket.Server
	a1, b1, b2       *servertest.NodeClient
	a1id, b1id, b2id socket.SocketId
}

// mustPairSockets starts a pairSockets: mustGoPair, then a1 on A, b1 and
// b2 on B, connected in that order.
func mustPairSockets(t *testing.T) *pairSockets {
	t.Helper()
	a, b := mustGoPair(t)
	p := &pairSockets{ioA: a.srv.SocketIO(), ioB: b.srv.SocketIO()}
	p.a1, p.a1id = connectNode(t, a.url)
	p.b1, p.b1id = connectNode(t, b.url)
	p.b2, p.b2id = connectNode(t, b.url)
	return p
}

// eventsUntil collects the names of the events c receives until the
// event named marker, which it does not include.
func eventsUntil(t *testing.T, c *servertest.NodeClient, marker string) []string {
	t.Helper()
	got := c.Until(10*time.Second, "event", func(m servertest.NodeMsg) bool { return m.Name == marker })
	names := make([]string, 0, len(got)-1)
	for _, m := range got[:len(got)-1] {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	return names
}

// eventsUntilAll collects the names of the events c receives until it
// has had the event named marker and every one of want, sorted, marker
// left out. On the sharded adapter's dynamic modes a broadcast to one
// room goes over the room's channel, which may be another shard than the
// namespace's, so it may come after a later one to all.
func eventsUntilAll(t *testing.T, c *servertest.NodeClient, marker string, want []string) []string {
	t.Helper()
	var names []string
	marked := false
	c.Until(10*time.Second, "event", func(m servertest.NodeMsg) bool {
		if m.Name == marker {
			marked = true
		} else {
			names = append(names, m.Name)
		}
		return marked && containsAll(names, want)
	})
	slices.Sort(names)
	return names
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// fetchAll runs FetchSockets on op and waits for its answer.
func fetchAll(t *testing.T, fetch func(func([]*socket.RemoteSocket, error))) []*socket.RemoteSocket {
	t.Helper()
	type answer struct {
		sockets []*socket.RemoteSocket
		err     error
	}
	got := make(chan answer, 1) // reported here: the answer may come after the test
	fetch(func(s []*socket.RemoteSocket, err error) { got <- answer{s, err} })
	select {
	case a := <-got:
		if a.err != nil {
			t.Errorf("fetchSockets: %v", a.err)
		}
		return a.sockets
	case <-time.After(10 * time.Second):
		t.Fatal("fetchSockets did not answer")
		return nil
	}
}

// socketIDs lists fetched sockets as "id[rooms...]" strings, sorted.
func socketIDs(sockets []*socket.RemoteSocket) []string {
	var out []string
	for _, s := range sockets {
		rooms := []string{}
		for _, r := range s.Rooms().Keys() {
			if string(r) != string(s.Id()) {
				rooms = append(rooms, string(r))
			}
		}
		slices.Sort(rooms)
		out = append(out, fmt.Sprintf("%s%v", s.Id(), rooms))
	}
	slices.Sort(out)
	return out
}

// rawAcker is a minimal Socket.IO client over a raw WebSocket that
// answers every event carrying an ack id with answer. (The Go client
// library now and then loses an acknowledgement, single server or not.)
func rawAcker(t *testing.T, httpURL, answer string) {
	t.Helper()
	c := mustRawSocket(t, webSocketURL(httpURL))
	reply, _ := json.Marshal([]string{answer})
	go func() {
		for {
			kind, raw, err := c.ReadMessage()
			if err != nil {
				return
			}
			msg := string(raw)
			switch {
			case kind != websocket.TextMessage:
			case msg == "2":
				_ = c.WriteMessage(websocket.TextMessage, []byte("3"))
			case strings.HasPrefix(msg, "42") && len(msg) > 2 && msg[2] >= '0' && msg[2] <= '9':
				id := msg[2:strings.IndexByte(msg, '[')]
				_ = c.WriteMessage(websocket.TextMessage, []byte("43"+id+string(reply)))
			}
		}
	}()
}

// mustJSON is v as JSON, for comparing with the text expected.
func mustJSON(v any) json.RawMessage {
	raw, _ := json.Marshal(v)
	return raw
}

// ordered is a Go payload whose JSON keys are not in alphabetical order.
type ordered struct {
	Zeta  string  `json:"zeta"`
	Alpha float64 `json:"alpha"`
	Mid   []any   `json:"mid"`
}
