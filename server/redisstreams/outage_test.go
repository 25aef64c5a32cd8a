package redisstreams

import (
	"context"
	"fmt"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// startPrivateRedis runs a redis-server of the test's own whose data
// survives a restart (servertest.StartRedis, durable); without a
// redis-server binary the test is skipped.
func startPrivateRedis(t *testing.T) *servertest.Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server binary")
	}
	return servertest.StartRedis(t, servertest.RedisConfig{Durable: true})
}

// TestRedisOutage: with Redis down, a local broadcast is still delivered
// (without offset: it is not in the stream) and the server is not ready;
// when Redis is back the reader goes on from the last entry it handled:
// what was added meanwhile arrives, once, and nothing read before comes
// again.
func TestRedisOutage(t *testing.T) {
	r := startPrivateRedis(t)
	opts := testOptions(t, r.URL())
	opts.CommandTimeout = 300 * time.Millisecond
	a, b := mustNode(t, r.URL(), opts), mustNode(t, r.URL(), opts)
	waitServers(t, a, 2)
	ca := connect(t, a, "")
	_ = b.io.Emit("before", 1)
	_ = b.io.Emit("before", 2)
	got := [][]any{ca.event(t), ca.event(t)}

	r.Stop()
	if err := a.c.Ping(context.Background()); err == nil {
		t.Error("Ping with Redis down: no error")
	}
	_ = a.io.Emit("local", 3)
	got = append(got, ca.event(t))

	r.Start()
	storetest.WaitFor(t, "Redis back for B", func() bool { return b.c.Ping(context.Background()) == nil })
	// Added while A's reader waits to retry: found by reading on from the
	// last entry A handled, not from the end of the stream.
	_ = b.io.Emit("after", 4)
	_ = b.io.Emit("after", 5)
	_ = b.io.Emit("end", 6) // from B: in the stream after 4 and 5
	for range 3 {
		got = append(got, ca.event(t))
	}
	var seen []string
	for _, e := range got {
		seen = append(seen, fmt.Sprint(e[0], ":", e[1], "/", len(e)))
	}
	want := []string{"before:1/3", "before:2/3", "local:3/2", "after:4/3", "after:5/3", "end:6/3"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("events (name:arg/number of arguments) %v, want %v", seen, want)
	}
}
