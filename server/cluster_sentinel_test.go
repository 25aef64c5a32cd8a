package server

import (
	"os"
	"testing"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// TestRedisSentinelFailover: two Go servers on each adapter (pub/sub,
// streams, sharded) join through a Sentinel (REDIS_SENTINEL_URL) and
// share broadcasts; the primary is killed in the middle of a stream of
// broadcasts: /readyz answers 503 while there is no primary and 200 once
// the Sentinel has promoted the replica, broadcasts cross between the
// servers both ways again without a restart of the servers, and no
// client gets one twice.
func TestRedisSentinelFailover(t *testing.T) {
	for _, adapter := range []string{RedisPubSub, RedisStreams, RedisSharded} {
		t.Run(adapter, func(t *testing.T) {
			var cfg servertest.RedisConfig
			if *verbose {
				cfg.Log = os.Stderr
			}
			rs := servertest.StartSentinel(t, cfg)
			prefix := testPrefix(t)
			g := mustGoTicks(t, func(c *Config) {
				c.Redis.SentinelURL, c.Redis.KeyPrefix, c.Redis.Adapter = rs.URL(), prefix, adapter
			})
			ready := func(status int) bool { return readyz(t, g.a) == status && readyz(t, g.b) == status }
			for range 10 {
				g.tick(t)
			}
			storetest.WaitFor(t, "the ticks before the failover on both clients", func() bool { return g.upTo(t, 10) })
			if !ready(200) {
				t.Fatalf("/readyz before the failover: %d, %d", readyz(t, g.a), readyz(t, g.b))
			}

			rs.Master.Stop()
			storetest.WaitFor(t, "/readyz 503 on both servers", func() bool {
				g.tick(t)
				return ready(503)
			})
			storetest.WaitFor(t, "the replica promoted", func() bool {
				g.tick(t)
				return rs.MasterAddr() == rs.Replica.Addr()
			})
			storetest.WaitFor(t, "/readyz 200 on both servers", func() bool {
				g.tick(t)
				return ready(200)
			})
			promoted := g.last
			storetest.WaitFor(t, "ticks after the failover crossing both ways", func() bool {
				g.tick(t)
				return g.crossed(t, promoted)
			})
			// The last ones, of both servers, reach every client once.
			g.tick(t)
			g.tick(t)
			storetest.WaitFor(t, "the last ticks", func() bool { return g.both(t, g.last-1) && g.both(t, g.last) })
		})
	}
}
