package server

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisbase"
	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// shardedPair is a Node server on createShardedAdapter (a node-redis
// cluster client) and a Go server on REDIS_ADAPTER=sharded, in one
// subscription mode, on the Redis Cluster rc.
type shardedPair struct {
	rc     *servertest.RedisCluster
	mode   string
	node   *nodeServer
	g      *testEnv
	rdb    *redis.ClusterClient // the test's own checks
	prefix string
}

// newShardedPair names the pair's channels; startNode and startGo start
// its servers.
func newShardedPair(t *testing.T, rc *servertest.RedisCluster, mode string) *shardedPair {
	t.Helper()
	p := &shardedPair{rc: rc, mode: mode, prefix: testPrefix(t)}
	p.rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs(), DisableIdentity: true})
	t.Cleanup(func() { _ = p.rdb.Close() })
	return p
}

func mustShardedPair(t *testing.T, rc *servertest.RedisCluster, mode string) *shardedPair {
	t.Helper()
	p := newShardedPair(t, rc, mode)
	p.startNode(t)
	p.startGo(t)
	return p
}

func (p *shardedPair) startNode(t *testing.T) {
	t.Helper()
	p.node = mustNodeServerEnv(t, p.rc.Nodes[0].URL(), p.prefix,
		"REDIS_ADAPTER=sharded", "REDIS_CLUSTER_NODES="+strings.Join(p.rc.Addrs(), ","), "SUBSCRIPTION_MODE="+p.mode)
}

// startGo starts the Go server and waits until both servers count 2.
func (p *shardedPair) startGo(t *testing.T) {
	t.Helper()
	edit := onRedisCluster(p.rc, RedisSharded, p.prefix)
	p.g = mustStart(t, func(c *Config) { edit(c); c.Redis.SubscriptionMode = p.mode })
	storetest.WaitFor(t, "both servers counting 2", func() bool {
		return p.g.srv.SocketIO().Sockets().Adapter().ServerCount() == 2 &&
			string(p.node.call(map[string]any{"op": "serverCount"})) == "2"
	})
}

// waitShardSubs waits until n servers subscribe to the sharded channel
// of room (the dynamic modes' room channels are subscribed to
// asynchronously, in Node as here).
func (p *shardedPair) waitShardSubs(t *testing.T, room string, n int64) {
	t.Helper()
	ch := p.prefix + "#/#" + room + "#"
	storetest.WaitFor(t, fmt.Sprintf("%d subscribers of %s", n, ch), func() bool {
		got, err := redisbase.ShardSubscribers(p.rdb, ch, time.Second)
		return err == nil && got == n
	})
}

// TestShardedMixedNode: on a 3-master Redis Cluster, a Node server on
// @socket.io/redis-adapter 8.3's createShardedAdapter and a Go server on
// REDIS_ADAPTER=sharded, in each subscription mode: broadcasts to all,
// to a room, with except and to a socket id reach the right clients of
// both servers both ways (in the dynamic modes through the rooms' own
// channels, which each server subscribes to while it holds the room);
// fetchSockets and serverSideEmit with acknowledgements work both ways;
// socketsJoin from Node moves a Go socket; disconnectSockets from Go
// closes a Node socket.
func TestShardedMixedNode(t *testing.T) {
	rc := startRedisCluster(t)
	for _, mode := range []string{"static", "dynamic", "dynamic-private"} {
		t.Run(mode, func(t *testing.T) {
			p := mustShardedPair(t, rc, mode)
			node, io := p.node, p.g.srv.SocketIO()
			m := mustMixedRooms(t, node, p.g)
			switch mode {
			case "dynamic":
				p.waitShardSubs(t, "red", 2)
				p.waitShardSubs(t, "vip", 2)
				p.waitShardSubs(t, string(m.n1id), 0) // a Node socket's own room has none
				// A Go socket's has: its id (24 characters) does not look
				// like one to Node (20), which publishes there.
				p.waitShardSubs(t, string(m.g2id), 1)
			case "dynamic-private":
				p.waitShardSubs(t, "red", 2)
				p.waitShardSubs(t, "vip", 2)
				p.waitShardSubs(t, string(m.n1id), 1)
				p.waitShardSubs(t, string(m.g2id), 1)
			}
			m.checkBroadcasts(t)

			if got := socketIDs(fetchAll(t, io.FetchSockets())); len(got) != 4 {
				t.Errorf("fetchSockets from Go: %v", got)
			}
			var fromNode []struct{ ID string }
			if err := json.Unmarshal(node.call(map[string]any{"op": "fetchSockets", "rooms": []string{"red"}}), &fromNode); err != nil || len(fromNode) != 3 {
				t.Errorf("fetchSockets of red from Node: %+v %v", fromNode, err)
			}

			answer := newAck()
			_ = io.ServerSideEmitWithAck("question", "q")(answer.callback)
			if m := node.Next(5*time.Second, "serverSideEmit"); m.Name != "question" {
				t.Errorf("Node got %+v", m)
			}
			if args := answer.wait(t, "Node's answer", 10*time.Second); !jsonEqual(mustJSON(args), `[{"from":"node","args":["q"]}]`) {
				t.Errorf("Node's answer %v", args)
			}
			io.Sockets().On("ping-go", func(args ...any) {
				if ack, ok := args[len(args)-1].(func([]any, error)); ok {
					ack([]any{"pong from go"}, nil)
				}
			})
			if got := node.call(map[string]any{"op": "serverSideEmit", "event": "ping-go", "args": []any{1}, "ack": true}); !jsonEqual(got, `["pong from go"]`) {
				t.Errorf("Go's answer to Node's serverSideEmit: %s", got)
			}

			node.Send(map[string]any{"op": "socketsJoin", "rooms": []string{"vip"}, "target": []string{"from-node"}})
			storetest.WaitFor(t, "g2 in from-node", func() bool { return inRoom(io, m.g2id, "from-node") })
			io.In(socket.Room(m.n1id)).DisconnectSockets(false)
			if d := m.clients["n1"].Next(10*time.Second, "disconnect"); d.Reason != "io server disconnect" {
				t.Errorf("n1 disconnect reason %q", d.Reason)
			}
		})
	}
}

// slot is the Redis Cluster slot of key.
func (p *shardedPair) slot(t *testing.T, key string) int64 {
	t.Helper()
	slot, err := p.rdb.ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return slot
}
