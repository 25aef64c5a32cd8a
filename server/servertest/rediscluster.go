package servertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"feedrt/store/storetest"

	"github.com/redis/go-redis/v9"
)

// RedisCluster is a Redis Cluster of a test's own: masters on loopback
// ports, no replicas, each node's slots kept in its nodes.conf so a
// killed node rejoins with them when started again.
type RedisCluster struct {
	// Nodes are the masters, to stop and start one.
	Nodes []*Redis
}

// StartRedisCluster runs n redis-servers in cluster mode, joins them with
// redis-cli --cluster create (the slots spread evenly), and waits until
// every node reports the cluster ok. The rest of the cluster keeps
// serving its slots while a node is down (cluster-require-full-coverage
// no), as a managed cluster's other shards do. Cleanup kills them.
func StartRedisCluster(t testing.TB, n int, cfg RedisConfig) *RedisCluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatalf("redis-cli (Debian's redis-tools package) is needed: %v", err)
	}
	c := &RedisCluster{}
	for range n {
		node := cfg
		node.Args = append(append([]string(nil), cfg.Args...),
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "1000",
			"--cluster-require-full-coverage", "no")
		c.Nodes = append(c.Nodes, StartRedis(t, node))
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := range c.Nodes {
		for !c.NodeOK(i) {
			if time.Now().After(deadline) {
				t.Fatalf("Redis Cluster node %s not ok within 20s", c.Nodes[i].Addr())
			}
			time.Sleep(50 * time.Millisecond) // polling the condition
		}
	}
	return c
}

// Addrs are the nodes' host:port.
func (c *RedisCluster) Addrs() []string {
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr())
	}
	return addrs
}

// URL is go-redis's cluster URL of the nodes: the first in the URL, the
// others as addr parameters.
func (c *RedisCluster) URL() string {
	addrs := c.Addrs()
	u := "redis://" + addrs[0]
	for i, a := range addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + a
	}
	return u
}

// ask is a client of node i alone, for one question answered within a
// second; done closes it.
func (c *RedisCluster) ask(i int) (rdb *redis.Client, ctx context.Context, done func()) {
	rdb = redis.NewClient(&redis.Options{Addr: c.Nodes[i].Addr(), DisableIdentity: true, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	return rdb, ctx, func() { cancel(); _ = rdb.Close() }
}

// NodeOK reports whether node i answers and sees the cluster ok, all
// nodes known and all slots served.
func (c *RedisCluster) NodeOK(i int) bool {
	rdb, ctx, done := c.ask(i)
	defer done()
	info, err := rdb.ClusterInfo(ctx).Result()
	if err != nil {
		return false
	}
	return strings.Contains(info, "cluster_state:ok") &&
		strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Nodes))) &&
		strings.Contains(info, "cluster_slots_ok:16384")
}

// Failed reports whether another node than i sees node i as failed
// (the cluster has noticed it is gone, after the node timeout).
func (c *RedisCluster) Failed(i int) bool {
	rdb, ctx, done := c.ask((i + 1) % len(c.Nodes))
	defer done()
	nodes, err := rdb.ClusterNodes(ctx).Result()
	if err != nil {
		return false
	}
	for _, line := range strings.Split(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && strings.HasPrefix(f[1], c.Nodes[i].Addr()+"@") {
			return strings.Contains(f[2], "fail") && !strings.Contains(f[2], "fail?")
		}
	}
	return false
}

// OK reports whether every node sees the cluster ok.
func (c *RedisCluster) OK() bool {
	for i := range c.Nodes {
		if !c.NodeOK(i) {
			return false
		}
	}
	return true
}

// Sentinel is a primary, one replica and one Sentinel watching them
// (quorum 1, the primary judged down after 500 ms), each a redis-server
// of a test's own.
type Sentinel struct {
	Master, Replica *Redis
	// Sentinel is the sentinel process (redis-server --sentinel).
	Sentinel *Redis
	// Name is the primary's name, the Sentinel's master name.
	Name string
}

// StartSentinel starts the primary, its replica and the Sentinel, and
// waits until the replica has its first copy of the primary (as in
// production, where a failover finds a replica in sync) and the
// Sentinel knows it. Cleanup kills them.
func StartSentinel(t testing.TB, cfg RedisConfig) *Sentinel {
	t.Helper()
	s := &Sentinel{Name: "feedrt"}
	master := cfg
	// The first sync at once, not after the 5 s Redis waits for more
	// replicas to share it.
	master.Args = append(append([]string(nil), cfg.Args...), "--repl-diskless-sync-delay", "0")
	s.Master = StartRedis(t, master)
	replica := cfg
	replica.Args = append(append([]string(nil), cfg.Args...), "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port()))
	s.Replica = StartRedis(t, replica)

	// A Sentinel rewrites its configuration file, so it gets one.
	port := FreePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 500\nsentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n",
		port, dir, s.Name, s.Master.Port(), s.Name, s.Name, s.Name)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Sentinel = &Redis{t: t, port: port, args: []string{conf, "--sentinel"}, log: cfg.Log}
	s.Sentinel.Start()
	t.Cleanup(s.Sentinel.Stop)

	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinel.Addr(), DisableIdentity: true})
	defer sc.Close()
	rc := redis.NewClient(&redis.Options{Addr: s.Replica.Addr(), DisableIdentity: true})
	defer rc.Close()
	storetest.WaitFor(t, "the replica in sync and known to the Sentinel", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "master_link_status:up") {
			return false
		}
		replicas, err := sc.Replicas(ctx, s.Name).Result()
		return err == nil && len(replicas) == 1
	})
	return s
}

// URL is go-redis's failover URL of the Sentinel and the primary's name.
func (s *Sentinel) URL() string {
	return "redis://" + s.Sentinel.Addr() + "?master_name=" + s.Name
}

// MasterAddr is the primary's address as the Sentinel tells it.
func (s *Sentinel) MasterAddr() string {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinel.Addr(), DisableIdentity: true})
	defer sc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	hp, err := sc.GetMasterAddrByName(ctx, s.Name).Result()
	if err != nil || len(hp) != 2 {
		return ""
	}
	return hp[0] + ":" + hp[1]
}
