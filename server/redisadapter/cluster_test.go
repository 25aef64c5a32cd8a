package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisbase"
	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// These tests run Socket.IO servers without HTTP (no clients: the
// server/ package's cluster tests have those) on the machine's Redis, or
// FEEDRT_TEST_REDIS_URL, each under a key prefix of its own.

func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("FEEDRT_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	c, err := Open(redisbase.Addr{URL: u}, testOptions(prefix(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Redis at %s (set FEEDRT_TEST_REDIS_URL): %v", u, err)
	}
	return u
}

func prefix(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "feedrt-adapter-test-" + hex.EncodeToString(b)
}

// testOptions are the server configuration's values (Node's) under key;
// tests change what they need on the copy.
func testOptions(key string) Options {
	return Options{Key: key, Common: redisbase.Common{RequestsTimeout: 5 * time.Second, CommandTimeout: time.Second, QueueSize: 4096}}
}

// TestOpenRefusesMissingOptions: Open refuses Options without a Key,
// RequestsTimeout, CommandTimeout or QueueSize, naming what is missing,
// before it touches Redis.
func TestOpenRefusesMissingOptions(t *testing.T) {
	const url = "redis://127.0.0.1:1/0" // never dialled
	for _, tc := range []struct {
		field string
		unset func(*Options)
	}{
		{"Key", func(o *Options) { o.Key = "" }},
		{"RequestsTimeout", func(o *Options) { o.RequestsTimeout = 0 }},
		{"RequestsTimeout", func(o *Options) { o.RequestsTimeout = -time.Second }},
		{"CommandTimeout", func(o *Options) { o.CommandTimeout = 0 }},
		{"QueueSize", func(o *Options) { o.QueueSize = 0 }},
		{"QueueSize", func(o *Options) { o.QueueSize = -1 }},
	} {
		opts := testOptions("k")
		tc.unset(&opts)
		if c, err := Open(redisbase.Addr{URL: url}, opts); err == nil {
			_ = c.Close()
			t.Errorf("Open without %s: no error", tc.field)
		} else if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Open without %s: %v", tc.field, err)
		}
	}
	_, err := Open(redisbase.Addr{URL: url}, Options{})
	if err == nil {
		t.Fatal("Open with no options: no error")
	}
	for _, field := range []string{"Key", "RequestsTimeout", "CommandTimeout", "QueueSize"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Open with no options: %q does not name %s", err, field)
		}
	}
	// Logger and Observer are not settings: nil is fine.
	c, err := Open(redisbase.Addr{URL: url}, testOptions("k"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

// mustServer is a Socket.IO server on a Cluster, both closed at cleanup.
func mustServer(t *testing.T, url string, opts Options, recovery bool) (*socket.Server, *redisbase.Cluster) {
	t.Helper()
	c, err := Open(redisbase.Addr{URL: url}, opts)
	if err != nil {
		t.Fatal(err)
	}
	so := socket.DefaultServerOptions()
	if recovery {
		so.SetConnectionStateRecovery(&socket.ConnectionStateRecovery{})
	}
	so.SetAdapter(c)
	io := socket.NewServer(nil, so)
	t.Cleanup(func() {
		io.Close(nil)
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return io, c
}

func waitCount(t *testing.T, io *socket.Server, n int64) {
	t.Helper()
	waitNspCount(t, io.Sockets(), n)
}

func waitNspCount(t *testing.T, nsp socket.Namespace, n int64) {
	t.Helper()
	storetest.WaitFor(t, fmt.Sprintf("%s's ServerCount to be %d", nsp.Name(), n), func() bool { return nsp.Adapter().ServerCount() == n })
}

// TestServersTalk: server-side events, acknowledgements, the server count
// and the cluster-wide queries between three servers, for the default
// namespace and another one; a closed server leaves the count.
func TestServersTalk(t *testing.T) {
	url, key := redisURL(t), prefix(t)
	o1 := testOptions(key)
	o1.RequestsTimeout = 2 * time.Second
	o2 := testOptions(key)
	o2.PublishOnSpecificResponseChannel = true
	s1, _ := mustServer(t, url, o1, true)
	s2, _ := mustServer(t, url, o2, false)
	s3, c3 := mustServer(t, url, testOptions(key), false)
	waitCount(t, s1, 3)
	if _, ok := s1.Sockets().Adapter().(*Adapter); !ok {
		t.Fatalf("adapter is %T", s1.Sockets().Adapter())
	}

	got := make(chan string, 10)
	for i, s := range []*socket.Server{s1, s2, s3} {
		_ = s.On("hi", func(args ...any) {
			if ack, ok := args[len(args)-1].(socket.Ack); ok {
				ack([]any{fmt.Sprintf("s%d", i+1)}, nil)
				args = args[:len(args)-1]
			}
			got <- fmt.Sprintf("s%d:%v", i+1, args)
		})
	}
	if err := s1.ServerSideEmit("hi", "there"); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for range 2 {
		select {
		case g := <-got:
			seen = append(seen, g)
		case <-time.After(5 * time.Second):
			t.Fatalf("server-side event reached %v only", seen)
		}
	}
	if s := strings.Join(seen, " "); !strings.Contains(s, "s2:[there]") || !strings.Contains(s, "s3:[there]") {
		t.Errorf("server-side event reached %v", seen)
	}

	acks := make(chan []any, 1)
	_ = s2.ServerSideEmitWithAck("hi", "ack me")(func(args []any, err error) {
		if err != nil {
			t.Errorf("ack: %v", err)
		}
		acks <- args
	})
	select {
	case a := <-acks:
		if s := fmt.Sprint(a); s != "[s1 s3]" && s != "[s3 s1]" {
			t.Errorf("acks %v", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no acks")
	}

	rooms, err := s1.Sockets().Adapter().(*Adapter).AllRooms()
	if err != nil || rooms.Len() != 0 {
		t.Errorf("AllRooms %v %v", rooms.Keys(), err)
	}
	if sockets := fetch(t, s3.FetchSockets()); len(sockets) != 0 {
		t.Errorf("fetchSockets %v", sockets)
	}

	s1.Of("/chat", nil)
	waitNspCount(t, s2.Of("/chat", nil), 2)
	waitCount(t, s1, 3) // "/" still three

	s3.Close(nil)
	_ = c3.Close()
	waitCount(t, s1, 2)
}

func fetch(t *testing.T, f func(func([]*socket.RemoteSocket, error))) []*socket.RemoteSocket {
	t.Helper()
	ch := make(chan []*socket.RemoteSocket, 1)
	f(func(s []*socket.RemoteSocket, err error) {
		if err != nil {
			t.Error(err)
		}
		ch <- s
	})
	return <-ch
}

// TestDeadRedis: with nothing listening at the URL, the server starts,
// broadcasts return at once, cluster queries fail within their bounds,
// the outage is logged a few times only, and closing leaves no
// goroutines.
func TestDeadRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	noLeaks := storetest.LeakCheck(t)

	var logs servertest.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	obs := &recordingObserver{}
	opts := testOptions(prefix(t))
	opts.Logger, opts.Observer = log, obs
	opts.CommandTimeout, opts.RequestsTimeout = 300*time.Millisecond, 500*time.Millisecond
	c, err := Open(redisbase.Addr{URL: "redis://" + addr + "/0"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	so := socket.DefaultServerOptions()
	so.SetAdapter(c)
	io := socket.NewServer(nil, so)

	if err := c.Ping(context.Background()); err == nil {
		t.Error("Ping with Redis down: no error")
	}
	// Broadcasts return although every PUBLISH fails; that they never
	// wait for Redis is TestBroadcastsDoNotWaitForRedis.
	emitAll(t, io, 5000)
	start := time.Now()
	if s := fetch(t, io.Local().FetchSockets()); len(s) != 0 {
		t.Errorf("local fetch %v", s)
	}
	ch := make(chan error, 1)
	io.FetchSockets()(func(_ []*socket.RemoteSocket, err error) { ch <- err })
	if err := <-ch; err == nil {
		t.Error("fetchSockets with Redis down: no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("fetchSockets with Redis down took %v", d)
	}
	// The publisher has tried the queued broadcasts and given up.
	storetest.WaitFor(t, "the publishes to fail", func() bool { return c.Pub.Dropped() >= 5000 })
	// The observer hears of each drop just after the count moves.
	storetest.WaitFor(t, "the observer to hear of every drop", func() bool {
		return uint64(obs.failed.Load()+obs.queueFull.Load()) == c.Pub.Dropped()
	})
	if n := obs.published.Load(); n != 0 {
		t.Errorf("observer: %d published with Redis down", n)
	}

	io.Close(nil)
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n == 0 || n > 5 {
		t.Errorf("%d warnings for one outage:\n%s", n, logs.String())
	}
	noLeaks()
}

// TestBroadcastsDoNotWaitForRedis: an emit only queues its PUBLISH, so a
// Redis that accepts connections and never answers (the worst case: each
// PUBLISH hangs for the whole CommandTimeout) does not hold up the
// emitting goroutine, and every queued publish is given up after
// CommandTimeout (the README: "a publish never waits more than a second").
// Checked by structure, not against a wall-clock bound a loaded machine
// could miss: the emits all return while the publisher is stuck on its
// first PUBLISH, so what did not fit the queue was dropped, not waited for.
func TestBroadcastsDoNotWaitForRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	heldConns := make(chan net.Conn, 64)
	held.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			heldConns <- conn // accepted, never answered
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		held.Wait()
		close(heldConns)
		for conn := range heldConns {
			_ = conn.Close()
		}
	})

	const queue, n = 100, 1000
	opts := testOptions(prefix(t))
	opts.QueueSize, opts.CommandTimeout = queue, time.Second // the README's "never more than a second"
	io, c := mustServer(t, "redis://"+ln.Addr().String()+"/0", opts, false)

	emitAll(t, io, n)
	// Had an emit waited for room in the queue, the queue would have had
	// room for it after each PUBLISH timed out and nothing would be
	// dropped here; had it waited for Redis, emitAll would not return.
	if d := c.Pub.Dropped(); d == 0 {
		t.Errorf("%d emits, queue %d, none dropped: the emits waited for the publisher", n, queue)
	}
	// Each publish gives up after CommandTimeout: all are dropped.
	storetest.WaitFor(t, "every publish to be given up", func() bool { return c.Pub.Dropped() == n })
}

// emitAll emits n broadcasts on io; it fails the test if they have not
// returned after a minute, which only an emit waiting for Redis would
// take (n of them, each with its command timeout).
func emitAll(t *testing.T, io *socket.Server, n int) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			_ = io.Emit("news", i)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%d broadcasts have not returned after a minute", n)
	}
}
