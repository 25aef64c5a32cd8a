package server

import (
	"context"
	"encoding/json"
	"testing"

	"feedrt/store/storetest"
)

// TestAdminUICluster: two Go servers on one Redis. A UI connected to
// one of them gets the stats of both, each under its own server id, lists
// the other's sockets with their transports, and its actions reach them.
func TestAdminUICluster(t *testing.T) {
	url, prefix := testRedisURL(t), testPrefix(t)
	start := func(serverID string) *testEnv {
		admin := withAdminUI(t, false)
		return mustStart(t, func(c *Config) {
			admin(c)
			clustered(url, prefix)(c)
			c.Admin.ServerID = serverID // both run in this test's process, with one pid
		})
	}
	a, b := start("go-a"), start("go-b")
	rdb := mustRedisClient(t, url)
	storetest.WaitFor(t, "both servers subscribed to / and /admin", func() bool {
		chans := []string{prefix + "-request#/#", prefix + "-request#/admin#"}
		res, err := rdb.PubSubNumSub(context.Background(), chans...).Result()
		return err == nil && res[chans[0]] == 2 && res[chans[1]] == 2
	})
	_, onB := connectNode(t, b.url, "websocket")

	admin := mustAdmin(t, a.url, map[string]any{"username": adminUser, "password": adminPassword})
	admin.MustConnect()
	all := mustDecode[[]adminSocketJSON](t, admin.wait(t, "all_sockets", nil)[0])
	if s, ok := bySocketID(all, string(onB)); !ok || s.Transport != "websocket" || len(s.ClientID) != 12 {
		t.Errorf("all_sockets from server A lists B's socket %s as %+v (listed: %v), want it with its transport and client id", onB, s, ok)
	}
	for _, id := range []string{"go-a", "go-b"} {
		admin.wait(t, "server_stats", func(args []json.RawMessage) bool {
			return mustDecode[struct {
				ServerID string `json:"serverId"`
			}](t, args[0]).ServerID == id
		})
	}
	if ans := admin.act(t, 1, "join", "/", "room-c", string(onB)); len(ans) != 0 {
		t.Errorf("join answered %s", ans)
	}
	admin.wait(t, "room_joined", argsAre("/", "room-c", string(onB)))
}
