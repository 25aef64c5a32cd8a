package redisstreams

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// privateRedis is a redis-server of the test's own, on a spare port,
// whose data survives a restart (AOF, fsync always).
type privateRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	r := &privateRedis{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *privateRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	waitFor(r.t, "redis-server to answer", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port))
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
}

// stop ends the server (its data is on disk already) and waits for it.
func (r *privateRedis) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// TestRedisOutage: with Redis down, a local broadcast is still delivered
// (without offset: it is not in the stream) and the server is not ready;
// when Redis is back the reader goes on from the last entry it handled:
// what was added meanwhile arrives, once, and nothing read before comes
// again.
func TestRedisOutage(t *testing.T) {
	r := startPrivateRedis(t)
	opts := testOptions(t, r.url())
	opts.CommandTimeout = 300 * time.Millisecond
	a, b := mustNode(t, r.url(), opts), mustNode(t, r.url(), opts)
	waitServers(t, a, 2)
	ca := connect(t, a, "")
	_ = b.io.Emit("before", 1)
	_ = b.io.Emit("before", 2)
	got := [][]any{ca.event(t), ca.event(t)}

	r.stop()
	if err := a.c.Ping(context.Background()); err == nil {
		t.Error("Ping with Redis down: no error")
	}
	_ = a.io.Emit("local", 3)
	got = append(got, ca.event(t))

	r.start()
	waitFor(t, "Redis back for B", func() bool { return b.c.Ping(context.Background()) == nil })
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
