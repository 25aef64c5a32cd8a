package server

import (
	"os"
	"testing"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// TestRedisSentinelFailover: two Go servers on each adapter (pub/sub,
// streams, sharded) join through a Sentinel (REDIS_SENTINEL_URL) and
// share broadcasts; the primary is
// killed in the middle of a stream of broadcasts: /readyz answers 503
// while there is no primary and 200 once the Sentinel has promoted the
// replica, broadcasts reach both servers' clients again without a
// restart of the servers, and no client gets one twice.
func TestRedisSentinelFailover(t *testing.T) {
	for _, adapter := range []string{RedisPubSub, RedisStreams, RedisSharded} {
		t.Run(adapter, func(t *testing.T) {
			var cfg servertest.RedisConfig
			if *verbose {
				cfg.Log = os.Stderr
			}
			rs := servertest.StartSentinel(t, cfg)
			prefix := testPrefix(t)
			edit := func(c *Config) {
				c.Redis.SentinelURL, c.Redis.KeyPrefix, c.Redis.Adapter = rs.URL(), prefix, adapter
			}
			a, b := mustStart(t, edit), mustStart(t, edit)
			waitServerCount(t, 2, a, b)
			_, onA := servertest.GoClient(t, a.url)
			_, onB := servertest.GoClient(t, b.url)
			storetest.WaitFor(t, "one socket on each server", func() bool {
				return a.srv.SocketIO().Sockets().Sockets().Len() == 1 && b.srv.SocketIO().Sockets().Sockets().Len() == 1
			})
			ready := func(e *testEnv) int {
				status, _ := servertest.Do(t, "GET", e.url+"/readyz", "")
				return status
			}

			seenA, seenB := map[int]bool{}, map[int]bool{}
			i := 0
			tick := func() {
				i++
				from := a
				if i%2 == 1 {
					from = b
				}
				from.srv.bc.Broadcast("tick", map[string]any{"i": i})
			}
			both := func(i int) bool {
				goEvents(t, "A's client", onA, seenA)
				goEvents(t, "B's client", onB, seenB)
				return seenA[i] && seenB[i]
			}
			for range 10 {
				tick()
			}
			storetest.WaitFor(t, "the ticks before the failover on both clients", func() bool { return both(10) })
			if ready(a) != 200 || ready(b) != 200 {
				t.Fatalf("/readyz before the failover: %d, %d", ready(a), ready(b))
			}

			rs.Master.Stop()
			storetest.WaitFor(t, "/readyz 503 on both servers", func() bool {
				tick()
				return ready(a) == 503 && ready(b) == 503
			})
			storetest.WaitFor(t, "the replica promoted", func() bool {
				tick()
				both(i)
				return rs.MasterAddr() == rs.Replica.Addr()
			})
			storetest.WaitFor(t, "/readyz 200 on both servers", func() bool {
				tick()
				both(i)
				return ready(a) == 200 && ready(b) == 200
			})
			storetest.WaitFor(t, "ticks after the failover on both clients", func() bool {
				tick()
				return both(i - 5)
			})
			// The last ones, of both servers, reach every client once.
			tick()
			tick()
			storetest.WaitFor(t, "the last ticks", func() bool { return both(i-1) && both(i) })
		})
	}
}
