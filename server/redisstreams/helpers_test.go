package redisstreams

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/cors"
	"feedrt/server/realtime"
	"feedrt/server/redisbase"
	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// These tests run Socket.IO servers in process on the machine's Redis
// (or FEEDRT_TEST_REDIS_URL), each test on a stream and key prefixes of
// its own, with raw WebSocket clients that speak the packets themselves.

func redisURL(t testing.TB) string {
	t.Helper()
	u := cmp.Or(os.Getenv("FEEDRT_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
	mustRedis(t, u)
	return u
}

// mustRedis is a client of the Redis at url, closed at cleanup; the test
// fails if that Redis does not answer.
func mustRedis(t testing.TB, url string) *redis.Client {
	t.Helper()
	ro, err := redisbase.ClientOptions(url, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ro)
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at %s (set FEEDRT_TEST_REDIS_URL): %v", url, err)
	}
	return rdb
}

// testOptions are Node's defaults on names of the test's own, which are
// deleted at cleanup.
func testOptions(t testing.TB, url string) Options {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "feedrt-streams-test-" + hex.EncodeToString(b)
	o := Options{
		StreamName:       name,
		MaxLen:           10_000,
		ReadCount:        100,
		BlockTime:        5 * time.Second,
		SessionKeyPrefix: name + ":session:",
		ChannelPrefix:    name,
		SessionRefresh:   time.Minute,
		Common:           redisbase.Common{RequestsTimeout: 3 * time.Second, CommandTimeout: time.Second, QueueSize: 4096},
	}
	if testing.Verbose() {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	rdb := mustRedis(t, url)
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, name+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return o
}

// node is one in-process Socket.IO server on the streams adapter, with
// the feed server's real-time engine (fan-out adapter, recovery on).
type node struct {
	io  *socket.Server
	c   *Cluster
	url string // ws://host/socket.io/?EIO=4&transport=websocket
}

// testRecoveryWindow is the nodes' connection state recovery window
// (Node's maxDisconnectionDuration).
const testRecoveryWindow = 2 * time.Minute

func mustNode(t *testing.T, url string, opts Options) *node {
	t.Helper()
	rt := realtime.Options{
		PingInterval:        25 * time.Second,
		PingTimeout:         20 * time.Second,
		MaxHTTPBufferSize:   1e6,
		Transports:          []string{"polling", "websocket"},
		AllowUpgrades:       true,
		UpgradeTimeout:      10 * time.Second,
		ConnectTimeout:      45 * time.Second,
		Recovery:            true,
		RecoveryWindow:      testRecoveryWindow,
		SkipMiddlewares:     true,
		RecoveryMaxPackets:  1000,
		RecoveryMaxBytes:    1 << 20,
		RecoveryMaxSessions: 1000,
		CORS:                cors.New(cors.Options{Origins: []string{"*"}, Methods: []string{"GET", "POST"}, Credentials: true}),
		WriteTimeout:        10 * time.Second,
		MaxQueued:           1 << 20,
		MaxQueuedTotal:      64 << 20,
		Log:                 slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	opts.Local = rt.ClusterLocalAdapter()
	c, err := Open(redisbase.Addr{URL: url}, opts)
	if err != nil {
		t.Fatal(err)
	}
	rt.Adapter = c
	sio, err := realtime.New(rt)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio.Handler)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		sio.IO.Close(nil)
		hs.Close()
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return &node{io: sio.IO, c: c, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"}
}

// client is a raw WebSocket Socket.IO client of namespace "/".
type client struct {
	*servertest.WSConn
	sid, pid string
	early    []string // events sent before the connect answer (missed ones)
}

// connect opens a session, or asks to recover one with auth
// {pid, offset}.
func connect(t *testing.T, n *node, auth string) *client {
	t.Helper()
	c := &client{WSConn: servertest.MustOpen(t, n.url)}
	c.Send("40" + auth)
	_, msg := c.Read()
	for strings.HasPrefix(msg, "42") { // a recovered session's missed events come first
		c.early = append(c.early, msg)
		_, msg = c.Read()
	}
	var ok struct{ Sid, Pid string }
	if !strings.HasPrefix(msg, "40{") || json.Unmarshal([]byte(msg[2:]), &ok) != nil {
		t.Fatalf("connect answer %q", msg)
	}
	c.sid, c.pid = ok.Sid, ok.Pid
	return c
}

// event reads the next event: its arguments, event name first.
func (c *client) event(t *testing.T) []any {
	t.Helper()
	var msg string
	if len(c.early) > 0 {
		msg, c.early = c.early[0], c.early[1:]
	} else {
		_, msg = c.Read()
	}
	var args []any
	if !strings.HasPrefix(msg, "42[") || json.Unmarshal([]byte(msg[2:]), &args) != nil {
		t.Fatalf("want an event, got %q", msg)
	}
	return args
}

// waitServers waits until n servers listen on the namespace "/".
func waitServers(t *testing.T, n *node, want int64) {
	t.Helper()
	storetest.WaitFor(t, "the servers to subscribe", func() bool { return n.io.Sockets().Adapter().ServerCount() == want })
}
