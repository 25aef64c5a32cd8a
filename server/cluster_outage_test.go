package server

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"feedrt/store/mongostore/ferretdbtest"
)

// redisProcess is a redis-server of a test's own, to stop and restart.
type redisProcess struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
}

// startRedis runs redis-server on a free port (nothing kept on disk) and
// stops it at cleanup.
func startRedis(t *testing.T) *redisProcess {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server (Debian's redis-server package) is needed: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	r := &redisProcess{t: t, port: port}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisProcess) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

func (r *redisProcess) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	if *verbose {
		r.cmd.Stdout = os.Stderr
	}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on port %d did not start", r.port)
		}
		time.Sleep(20 * time.Millisecond) // polling the condition
	}
}

// stop kills the server, as a crash or a network cut would look.
func (r *redisProcess) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// TestClusterRedisOutage stops Redis under two clustered servers: each
// keeps serving its own sockets (REST writes, their events, a burst of
// broadcasts, all without stalling), /readyz answers 503 while /healthz
// stays 200; once Redis is back, readiness and cluster delivery resume
// without a restart, and no goroutines are left behind.
func TestClusterRedisOutage(t *testing.T) {
	rp := startRedis(t)
	cluster := mustCluster(t, rp.url(), false, 2)
	a, b := cluster.gos[0], cluster.gos[1]
	onA := mustNodeClient(t, map[string]any{"url": a.url, "version": 4, "transports": []string{"websocket"}})
	onB := mustNodeClient(t, map[string]any{"url": b.url, "version": 4, "transports": []string{"websocket"}})
	onA.MustConnect()
	onB.MustConnect()
	api, _ := mustUser(t, b.url, "otto@example.com", "Otto")
	create := func(title string) {
		t.Helper()
		start := time.Now()
		api.mustCreatePost(title, "redis outage", 7)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("create %q took %v", title, d)
		}
	}
	title := func(c *nodeClient) string {
		t.Helper()
		ev := decodeArg(t, waitEvent(t, c, "posts").Args[0])
		post, _ := ev["post"].(map[string]any)
		return fmt.Sprint(post["title"])
	}
	ready := func(env *testEnv) int {
		status, _ := do(t, "GET", env.url+"/readyz", "")
		return status
	}

	create("Before the outage")
	for _, c := range []*nodeClient{onA, onB} {
		if got := title(c); got != "Before the outage" {
			t.Errorf("before: %q", got)
		}
	}
	noLeaks := ferretdbtest.LeakCheck(t)

	rp.stop()
	waitFor(t, "/readyz 503 on both servers", func() bool { return ready(a) == 503 && ready(b) == 503 })
	if status, body := do(t, "GET", b.url+"/readyz", ""); status != 503 || !jsonEqual([]byte(body), `{"message":"Not ready: a dependency is unavailable.","data":[]}`) {
		t.Errorf("/readyz during the outage: %d %s", status, body)
	}
	if status, _ := do(t, "GET", a.url+"/healthz", ""); status != 200 {
		t.Errorf("/healthz during the outage: %d", status)
	}
	dropped := b.srv.cluster.Dropped()
	create("During the outage")
	start := time.Now()
	if got := title(onB); got != "During the outage" {
		t.Errorf("B's own client during the outage got %q", got)
	}
	// A burst of broadcasts while Redis is gone: local delivery keeps pace.
	const burst = 300
	for i := range burst {
		b.srv.bc.Broadcast("news", map[string]any{"i": i})
	}
	for range burst {
		waitEvent(t, onB, "news")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("local delivery during the outage took %v", d)
	}
	// The condition for the README's "events emitted meanwhile reach only
	// the emitting process's clients": every publish of the outage (the
	// post and the burst) has been given up (within CommandTimeout) before
	// Redis comes back. One still being retried when Redis is back is
	// delivered late, to every server.
	waitFor(t, "B to give up the publishes of the outage", func() bool { return b.srv.cluster.Dropped() == dropped+1+burst })

	rp.start()
	waitFor(t, "/readyz 200 again", func() bool { return ready(a) == 200 && ready(b) == 200 })
	cluster.waitAll(t)
	create("After the outage")
	// A's client missed all B sent while Redis was down (pub/sub keeps
	// nothing): its next event of any name is what B sends now.
	if m := onA.Next(10*time.Second, "event"); m.Name != "posts" {
		t.Errorf("A's client after the outage got %s %s first", m.Name, m.Args)
	} else if post, _ := decodeArg(t, m.Args[0])["post"].(map[string]any); fmt.Sprint(post["title"]) != "After the outage" {
		t.Errorf("A's client after the outage got %s first", m.Args)
	}
	if got := title(onB); got != "After the outage" {
		t.Errorf("B's client after the outage got %q", got)
	}

	closeIdleHTTP()
	noLeaks()
}
