package server

import (
	"fmt"
	"os"
	"testing"
	"time"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// startRedis runs a redis-server of the test's own (servertest.StartRedis),
// its log printed with -serverlog.
func startRedis(t *testing.T, cfg servertest.RedisConfig) *servertest.Redis {
	t.Helper()
	if *verbose {
		cfg.Log = os.Stderr
	}
	return servertest.StartRedis(t, cfg)
}

// TestClusterRedisOutage stops Redis under two clustered servers: each
// keeps serving its own sockets (REST writes, their events, a burst of
// broadcasts, all without stalling), /readyz answers 503 while /healthz
// stays 200; once Redis is back, readiness and cluster delivery resume
// without a restart, and no goroutines are left behind.
func TestClusterRedisOutage(t *testing.T) {
	rp := startRedis(t, servertest.RedisConfig{})
	cluster := mustCluster(t, rp.URL(), false, 2)
	a, b := cluster.gos[0], cluster.gos[1]
	onA := servertest.MustNodeClient(t, map[string]any{"url": a.url, "version": 4, "transports": []string{"websocket"}})
	onB := servertest.MustNodeClient(t, map[string]any{"url": b.url, "version": 4, "transports": []string{"websocket"}})
	onA.MustConnect()
	onB.MustConnect()
	api, _ := mustUser(t, b.url, "otto@example.com", "Otto")
	create := func(title string) { t.Helper(); api.mustCreatePostWithin(3*time.Second, title, "redis outage", 7) }
	title := func(c *servertest.NodeClient) string {
		t.Helper()
		ev := decodeArg(t, waitEvent(t, c, "posts").Args[0])
		post, _ := ev["post"].(map[string]any)
		return fmt.Sprint(post["title"])
	}

	create("Before the outage")
	for _, c := range []*servertest.NodeClient{onA, onB} {
		if got := title(c); got != "Before the outage" {
			t.Errorf("before: %q", got)
		}
	}
	noLeaks := storetest.LeakCheck(t)

	rp.Stop()
	storetest.WaitFor(t, "/readyz 503 on both servers", func() bool { return readyz(t, a) == 503 && readyz(t, b) == 503 })
	if status, body := servertest.Do(t, "GET", b.url+"/readyz", ""); status != 503 || !jsonEqual([]byte(body), `{"message":"Not ready: a dependency is unavailable.","data":[]}`) {
		t.Errorf("/readyz during the outage: %d %s", status, body)
	}
	if status, _ := servertest.Do(t, "GET", a.url+"/healthz", ""); status != 200 {
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
	storetest.WaitFor(t, "B to give up the publishes of the outage", func() bool { return b.srv.cluster.Dropped() == dropped+1+burst })

	rp.Start()
	storetest.WaitFor(t, "/readyz 200 again", func() bool { return readyz(t, a) == 200 && readyz(t, b) == 200 })
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
