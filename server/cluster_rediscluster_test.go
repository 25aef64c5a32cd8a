package server

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// startRedisCluster is a 3-master Redis Cluster of the test's own
// (servertest.StartRedisCluster), its log printed with -serverlog.
func startRedisCluster(t *testing.T) *servertest.RedisCluster {
	t.Helper()
	var cfg servertest.RedisConfig
	if *verbose {
		cfg.Log = os.Stderr
	}
	return servertest.StartRedisCluster(t, 3, cfg)
}

// onRedisCluster is a config edit joining a server to the Socket.IO
// cluster on the Redis Cluster rc with adapter, under prefix (the key
// prefix, and the stream's and the sessions' names).
func onRedisCluster(rc *servertest.RedisCluster, adapter, prefix string) func(*Config) {
	return func(c *Config) {
		c.Redis.ClusterURL, c.Redis.KeyPrefix, c.Redis.Adapter = rc.URL(), prefix, adapter
		c.Redis.StreamName, c.Redis.SessionKeyPrefix = prefix+"-stream", prefix+":session:"
	}
}

// waitServerCount waits until each server's adapter of "/" counts n
// servers in the cluster.
func waitServerCount(t *testing.T, n int64, envs ...*testEnv) {
	t.Helper()
	storetest.WaitFor(t, fmt.Sprintf("%d servers counted by each", n), func() bool {
		for _, e := range envs {
			if e.srv.SocketIO().Sockets().Adapter().ServerCount() != n {
				return false
			}
		}
		return true
	})
}

// nodeOfSlot is the index in rc.Nodes of the master serving key's slot
// (a channel's or a pattern's name counts as a key).
func nodeOfSlot(t *testing.T, rc *servertest.RedisCluster, key string) int {
	t.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs(), DisableIdentity: true})
	defer rdb.Close()
	ctx := context.Background()
	slot, err := rdb.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) {
			for i, addr := range rc.Addrs() {
				if s.Nodes[0].Addr == addr {
					return i
				}
			}
		}
	}
	t.Fatalf("no node serves slot %d", slot)
	return -1
}

// TestRedisClusterAdapters: on a 3-master Redis Cluster
// (REDIS_CLUSTER_URL), two Go servers on each adapter (pub/sub, streams,
// sharded) count each other (PUBSUB NUMSUB or SHARDNUMSUB summed over
// the nodes), share broadcasts both ways and answer fetchSockets; the
// node holding the adapter's subscription (pub/sub, sharded: the
// namespace's channel) or stream (streams) is killed in the middle of a
// stream of broadcasts and started again: /readyz answers 503 while it
// is down (every master must answer), broadcasts cross between the
// servers both ways again without a restart of the servers, /readyz is
// 200 again, and no client gets a broadcast twice.
func TestRedisClusterAdapters(t *testing.T) {
	rc := startRedisCluster(t)
	for _, adapter := range []string{RedisPubSub, RedisStreams, RedisSharded} {
		t.Run(adapter, func(t *testing.T) {
			prefix := testPrefix(t)
			g := mustGoTicks(t, onRedisCluster(rc, adapter, prefix))
			if got := fetchAll(t, g.a.srv.SocketIO().FetchSockets()); len(got) != 2 {
				t.Errorf("fetchSockets through A: %d sockets, want 2", len(got))
			}
			const before = 20
			for range before {
				g.tick(t)
			}
			storetest.WaitFor(t, "the ticks before the kill on both clients", func() bool { return g.upTo(t, before) })

			// The node of the subscription (pub/sub: the namespace's
			// pattern; streams: the stream's key).
			key := prefix + "#/#*"
			switch adapter {
			case RedisStreams:
				key = prefix + "-stream"
			case RedisSharded:
				key = prefix + "#/#"
			}
			vi := nodeOfSlot(t, rc, key)
			victim := rc.Nodes[vi]
			if adapter == RedisPubSub {
				rdb := mustRedisClient(t, victim.URL())
				if n, err := rdb.PubSubNumPat(context.Background()).Result(); err != nil || n != 1 {
					t.Fatalf("the victim holds %d patterns (%v), want the namespace's", n, err)
				}
			}
			for range 10 {
				g.tick(t)
			}
			victim.Stop()
			storetest.WaitFor(t, "the cluster to see the node failed, /readyz 503", func() bool {
				g.tick(t)
				return rc.Failed(vi) && readyz(t, g.a) == 503
			})
			victim.Start()
			storetest.WaitFor(t, "the Redis Cluster ok again", rc.OK)
			restarted := g.last
			storetest.WaitFor(t, "ticks after the restart crossing both ways", func() bool {
				g.tick(t)
				return g.crossed(t, restarted)
			})
			storetest.WaitFor(t, "/readyz 200", func() bool { return readyz(t, g.a) == 200 && readyz(t, g.b) == 200 })
			// The last ones, of both servers, reach every client once.
			g.tick(t)
			g.tick(t)
			storetest.WaitFor(t, "the last ticks", func() bool { return g.both(t, g.last-1) && g.both(t, g.last) })
		})
	}
}
