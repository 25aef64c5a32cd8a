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
// channels, which each server subscribes to while it holds the room),
// and the rest of the mixed cluster's scenario (mixedRooms's
// checkManagement) works: fetchSockets, serverSideEmit with and without
// acknowledgements, socketsJoin and socketsLeave both ways, a broadcast
// with acknowledgements, disconnectSockets.
func TestShardedMixedNode(t *testing.T) {
	rc := startRedisCluster(t)
	for _, mode := range []string{"static", "dynamic", "dynamic-private"} {
		t.Run(mode, func(t *testing.T) {
			p := mustShardedPair(t, rc, mode)
			m := mustMixedRooms(t, p.node, p.g)
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
			m.checkManagement(t)
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

// TestShardedMixedNodeKill: on a 3-master Redis Cluster, a Node server
// on createShardedAdapter (node-redis 4.7.1's cluster client) and a Go
// server on REDIS_ADAPTER=sharded, in each subscription mode, a client of
// each in one room, share numbered ticks both ways, to all and to the
// room; the master holding the namespace's channel (and the room's,
// chosen so) is killed in the middle of them and started again. Then,
// without a restart of either server, ticks flow again and every tick
// sent before the kill or after the recovery reaches each client that
// should have it; no client gets any tick twice.
//
// What Node receives after the restart depends on node-redis: its
// subscriber connection to a master resubscribes with one SSUBSCRIBE of
// all its channels, which Redis refuses (CROSSSLOT) when they are in
// more than one slot, and it then reconnects and fails again, every half
// second, for good (redis/node-redis#2902, fixed on node-redis's 5.x
// line by #3098). In the dynamic modes the room's channel shares the
// master with the namespace's, so that is the case: Node's server
// reports the CROSSSLOT, its client keeps getting Node's ticks but no
// more of Go's, while Node's ticks still reach Go's client (Node's
// publishing connection recovers). In the static mode Node subscribes on
// that master to the namespace's channel alone unless its answer channel
// (named by a random uid) is there too; the Node server is started again
// until it is not, so static shows the case where node-redis recovers:
// everything flows again both ways, fetchSockets included.
func TestShardedMixedNodeKill(t *testing.T) {
	rc := startRedisCluster(t)
	for _, mode := range []string{"static", "dynamic", "dynamic-private"} {
		t.Run(mode, func(t *testing.T) {
			k := mustKillSetup(t, rc, mode)
			p, victim := k.p, rc.Nodes[k.victim]
			stuck := k.nodeSlotsOnVictim(t) > 1
			// gets reports whether l must get tick i, sent after the restart.
			gets := func(l *tickLog, i int) bool { return l == k.onGo || !stuck || i%2 == 1 }
			always := func(*tickLog, int) bool { return true }

			const before = 20
			for range before {
				k.tick()
			}
			storetest.WaitFor(t, "the ticks before the kill on both clients", func() bool { return k.got(t, 0, before, always) })

			victim.Stop()
			storetest.WaitFor(t, "the cluster to see the node failed, Go's /readyz 503", func() bool {
				k.ticking()
				k.got(t, 0, 0, always)
				return rc.Failed(k.victim) && readyz(t, p.g) == 503
			})
			victim.Start()
			storetest.WaitFor(t, "the Redis Cluster ok again", rc.OK)
			restarted := k.next
			storetest.WaitFor(t, "four ticks in a row, one of each kind, after the restart", func() bool {
				k.ticking()
				for from := restarted; from+4 <= k.next; from++ {
					if k.got(t, from, from+4, gets) {
						return true
					}
				}
				return false
			})
			if stuck {
				// node-redis's resubscription to the restarted master, refused.
				p.node.NextWhere(10*time.Second, "redisError", func(m servertest.NodeMsg) bool {
					return m.Name == "sub" && strings.Contains(m.Message, "CROSSSLOT")
				})
			}
			// The last ones, of each kind, reach every client that must get
			// them, once (what the same server sent before on the same
			// channel comes before them, so a late copy would be seen).
			final := k.next
			for range 8 {
				k.tick()
			}
			storetest.WaitFor(t, "the last ticks", func() bool { return k.got(t, final, k.next, gets) })
			for _, l := range []*tickLog{k.onNode, k.onGo} {
				for i := range before {
					if l.seen[i] != 1 {
						t.Errorf("%s got tick %d (before the kill) %d times", l.name, i, l.seen[i])
					}
				}
			}
			if stuck {
				return
			}
			if got := fetchAll(t, p.g.srv.SocketIO().FetchSockets()); len(got) != 2 {
				t.Errorf("fetchSockets from Go after the restart: %d sockets, want 2", len(got))
			}
			var fromNode []struct{ ID string }
			if err := json.Unmarshal(p.node.call(map[string]any{"op": "fetchSockets"}), &fromNode); err != nil || len(fromNode) != 2 {
				t.Errorf("fetchSockets from Node after the restart: %+v %v", fromNode, err)
			}
		})
	}
}

// killSetup is TestShardedMixedNodeKill's pair, the master to kill (the
// namespace channel's), a room whose channel that master holds too, and
// a client of each server in the room, with the ticks they got.
type killSetup struct {
	p            *shardedPair
	victim       int // in rc.Nodes
	room         string
	ncID         string // the Node client's socket id
	onNode, onGo *tickLog
	next         int // the number of the next tick
	lastTickSent time.Time
}

func mustKillSetup(t *testing.T, rc *servertest.RedisCluster, mode string) *killSetup {
	t.Helper()
	k := &killSetup{p: newShardedPair(t, rc, mode)}
	p := k.p
	k.victim = nodeOfSlot(t, rc, p.prefix+"#/#")
	p.startNode(t)
	for mode == "static" && k.onVictim(t, k.answers(t)) {
		t.Log("Node's answer channel is on the master to kill: a new Node server")
		p.node.Close()
		p.startNode(t)
	}
	p.startGo(t)
	for i := 0; k.room == ""; i++ {
		if r := fmt.Sprintf("room-%d", i); k.onVictim(t, k.channel(r)) {
			k.room = r
		}
	}
	nc, ncID := connectNode(t, p.node.url, "websocket")
	gc, gcID := connectNode(t, p.g.url, "websocket")
	k.ncID = string(ncID)
	p.node.call(map[string]any{"op": "join", "sid": ncID, "rooms": []string{k.room}})
	joinLocal(t, p.g.srv.SocketIO(), gcID, socket.Room(k.room))
	if mode != "static" {
		p.waitShardSubs(t, k.room, 2)
	}
	k.onNode = &tickLog{name: "Node's client", c: nc, seen: map[int]int{}}
	k.onGo = &tickLog{name: "Go's client", c: gc, seen: map[int]int{}}
	return k
}

// channel is the sharded channel of room ("" for the namespace's).
func (k *killSetup) channel(room string) string {
	if room == "" {
		return k.p.prefix + "#/#"
	}
	return k.p.prefix + "#/#" + room + "#"
}

func (k *killSetup) onVictim(t *testing.T, channel string) bool {
	t.Helper()
	return nodeOfSlot(t, k.p.rc, channel) == k.victim
}

// answers is the Node server's answer channel, named by its uid.
func (k *killSetup) answers(t *testing.T) string {
	t.Helper()
	var uid string
	if err := json.Unmarshal(k.p.node.call(map[string]any{"op": "uid"}), &uid); err != nil {
		t.Fatal(err)
	}
	return k.channel(uid)
}

// nodeSlotsOnVictim counts the slots of the channels the Node server
// subscribes to on the master to kill: the namespace's, its answers',
// in the dynamic modes the room's, in dynamic-private its socket's own.
func (k *killSetup) nodeSlotsOnVictim(t *testing.T) int {
	t.Helper()
	channels := []string{k.channel(""), k.answers(t)}
	switch k.p.mode {
	case "dynamic":
		channels = append(channels, k.channel(k.room))
	case "dynamic-private":
		channels = append(channels, k.channel(k.room), k.channel(k.ncID))
	}
	slots := map[int64]bool{}
	for _, ch := range channels {
		if k.onVictim(t, ch) {
			slots[k.p.slot(t, ch)] = true
		}
	}
	t.Logf("Node's subscriptions on the master to kill span %d slots", len(slots))
	return len(slots)
}

// tick sends the next tick: tick i goes from Go (even i) or Node (odd),
// to all (i%4 < 2) or to the room.
func (k *killSetup) tick() {
	i := k.next
	k.next++
	k.lastTickSent = time.Now()
	p := k.p
	switch i % 4 {
	case 0:
		p.g.srv.bc.Broadcast("tick", i)
	case 1:
		p.node.Send(map[string]any{"op": "emit", "event": "tick", "args": []any{i}})
	case 2:
		_ = p.g.srv.SocketIO().To(socket.Room(k.room)).Emit("tick", i)
	case 3:
		p.node.Send(map[string]any{"op": "emit", "event": "tick", "args": []any{i}, "rooms": []string{k.room}})
	}
}

// ticking sends a tick every 20 ms while a condition is polled (every
// 5 ms).
func (k *killSetup) ticking() {
	if time.Since(k.lastTickSent) >= 20*time.Millisecond {
		k.tick()
	}
}

// got takes what both clients received and reports whether each has
// every tick of [from, to) it must get.
func (k *killSetup) got(t *testing.T, from, to int, must func(*tickLog, int) bool) bool {
	t.Helper()
	ok := true
	for _, l := range []*tickLog{k.onNode, k.onGo} {
		l.take(t)
		for i := from; i < to; i++ {
			ok = ok && (l.seen[i] > 0 || !must(l, i))
		}
	}
	return ok
}

// tickLog counts the "tick" events (each one's number its first
// argument) a client has received.
type tickLog struct {
	name string
	c    *servertest.NodeClient
	seen map[int]int
}

// take counts what has arrived; a tick seen twice fails the test.
func (l *tickLog) take(t *testing.T) {
	t.Helper()
	for _, m := range l.c.Arrived("event") {
		var i int
		if m.Name != "tick" || len(m.Args) == 0 || json.Unmarshal(m.Args[0], &i) != nil {
			continue
		}
		if l.seen[i]++; l.seen[i] == 2 {
			t.Errorf("%s got tick %d twice", l.name, i)
		}
	}
}
