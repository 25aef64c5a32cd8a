package redissharded

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
	"feedrt/store/storetest"
)

// TestKeySlot: the slots Redis Cluster gives these keys (its
// documentation's and CLUSTER KEYSLOT's answers), hash tags included.
func TestKeySlot(t *testing.T) {
	for key, want := range map[string]int{
		"foo":                  12182,
		"123456789":            12739,
		"{user1000}.following": 3443,
		"{user1000}.followers": 3443,
		"user1000":             3443,
		"foo{}{bar}":           8363, // an empty first tag: the whole key
		"{socket.io}#/#room#":  keySlot("socket.io"),
		"prefix#/#a}b{c}#":     keySlot("c"),
		"":                     0,
	} {
		if got := keySlot(key); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// TestEncodeAsNode: a message is written as the Node adapter's
// JSON.stringify({type, data, uid, nsp}), and as msgpack when its data
// holds binary; both decode back.
func TestEncodeAsNode(t *testing.T) {
	p := &parser.Packet{Type: parser.EVENT, Data: []any{"news", nodewire.Obj("text", "<b>&", "n", 1.5)}}
	opts := &socket.BroadcastOptions{Rooms: types.NewSet[socket.Room]("red"), Except: types.NewSet[socket.Room]()}
	raw, err := encode("abc", "/", redisbase.TypeBroadcast, nodewire.Obj("packet", nodewire.PacketObject(p), "opts", nodewire.OptsObject(opts)))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":3,"data":{"packet":{"type":2,"data":["news",{"text":"<b>&","n":1.5}]},"opts":{"rooms":["red"],"except":[],"flags":{}}},"uid":"abc","nsp":"/"}`
	if string(raw) != want {
		t.Errorf("JSON\n got %s\nwant %s", raw, want)
	}
	m, err := decode(raw)
	if err != nil || m.UID != "abc" || m.Nsp != "/" || m.Type != redisbase.TypeBroadcast || m.Packet() == nil {
		t.Fatalf("decode: %+v %v", m, err)
	}
	raw, err = encode("abc", "/", redisbase.TypeServerSideEmit, nodewire.Obj("packet", []any{"bin", []byte{1, 2}}))
	if err != nil || raw[0] == '{' {
		t.Fatalf("binary: %q %v", raw, err)
	}
	if m, err = decode(raw); err != nil || m.Type != redisbase.TypeServerSideEmit {
		t.Fatalf("decode msgpack: %+v %v", m, err)
	}
}

// TestDynamicSubscriptions: on one Redis 7 (the machine's, or
// FEEDRT_TEST_REDIS_URL), a dynamic-mode adapter subscribes to a room's
// channel when the room comes into being here and unsubscribes when its
// last socket leaves; a socket id's room gets one only when it does not
// look like a Node socket id.
func TestDynamicSubscriptions(t *testing.T) {
	url := os.Getenv("FEEDRT_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	c, err := Open(redisbase.Addr{URL: url}, Options{
		ChannelPrefix: "feedrt-sharded-test-" + redisbase.RandomID(), SubscriptionMode: Dynamic,
		Common: redisbase.Common{RequestsTimeout: 3 * time.Second, CommandTimeout: time.Second, QueueSize: 64},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Redis at %s (set FEEDRT_TEST_REDIS_URL): %v", url, err)
	}
	io := socket.NewServer(nil, nil)
	io.SetAdapter(c)
	t.Cleanup(func() {
		io.Close(nil)
		_ = c.Close()
	})
	a := io.Of("/", nil).Adapter().(*Adapter)
	rdb := redis.NewClient(&redis.Options{Addr: strings.TrimSuffix(strings.TrimPrefix(url, "redis://"), "/0"), DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close() })
	subs := func(room string) int64 {
		ch := a.channel + room + "#"
		if room == "" {
			ch = a.channel
		}
		res, _ := rdb.PubSubShardNumSub(context.Background(), ch).Result()
		return res[ch]
	}
	storetest.WaitFor(t, "the namespace's channel", func() bool { return subs("") == 1 })

	nodeID, goID := socket.SocketId("abcdefghijklmnopqrst"), socket.SocketId("abcdefghijklmnopqrstuvwx")
	a.AddAll(nodeID, types.NewSet[socket.Room](socket.Room(nodeID), "red"))
	a.AddAll(goID, types.NewSet[socket.Room](socket.Room(goID), "red"))
	storetest.WaitFor(t, "red's and the Go id's channels", func() bool { return subs("red") == 1 && subs(string(goID)) == 1 })
	if n := subs(string(nodeID)); n != 0 {
		t.Errorf("a Node-like id's room has %d subscribers", n)
	}
	a.Del(nodeID, "red")
	if subs("red") != 1 {
		t.Error("red unsubscribed while a socket is still in it")
	}
	a.DelAll(goID)
	storetest.WaitFor(t, "red's and the Go id's channels gone", func() bool { return subs("red") == 0 && subs(string(goID)) == 0 })
}
