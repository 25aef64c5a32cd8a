package server

import (
	"encoding/json"
	"fmt"
	"testing"

	"feedrt/server/servertest"
)

// Mixed clusters on socket.io-msgpack-parser: a Node server (socket.io
// 4.8.4, testdata/noderedis with PARSER=msgpack) and a Go server with
// SOCKETIO_PARSER=msgpack on one Redis, each with a msgpack client; a
// broadcast from each reaches the other's client. The adapters' Redis
// messages do not depend on the parser; what is checked is that data
// from the other server (objects in the sender's order, binary) goes
// out to the clients through the msgpack encoder.

// TestMsgpackMixedClusterPubSub is the pub/sub adapter's.
func TestMsgpackMixedClusterPubSub(t *testing.T) {
	url := testRedisURL(t)
	prefix := testPrefix(t)
	node := mustNodeServerEnv(t, url, prefix, "PARSER=msgpack")
	g := mustStart(t, func(c *Config) { clustered(url, prefix)(c); useMsgpack(c) })
	waitServers(t, mustRedisClient(t, url), prefix, 2)
	onNode := mustMsgpackClient(t, node.url, map[string]any{"transports": []string{"websocket"}})
	onNode.MustConnect()
	onGo := mustMsgpackClient(t, g.url, nil)
	onGo.MustConnect()
	crossBroadcasts(t, node, g, func(name string) []json.RawMessage { return waitEventAny(t, onNode, name).Args }, onGo)
}

// TestMsgpackMixedClusterStreams is the streams adapter's (both servers
// with recovery, so every event carries its offset).
func TestMsgpackMixedClusterStreams(t *testing.T) {
	s := newStreams(t, testRedisURL(t))
	node := mustNodeServerEnv(t, s.url, s.key, append(s.env(), "PARSER=msgpack")...)
	g := mustStart(t, func(c *Config) { s.config(t)(c); useMsgpack(c) })
	onNode := mustMsgpackClient(t, node.url, map[string]any{"transports": []string{"websocket"}})
	onNode.MustConnect()
	onGo := mustMsgpackClient(t, g.url, nil)
	onGo.MustConnect()
	// Each server reads the stream from when it started: wait until
	// broadcasts of both reach both clients.
	linked(t, map[string]func(){"go": goLink(g.srv.SocketIO(), "go"), "node": nodeLink(node)}, onNode, onGo)
	crossBroadcasts(t, node, g, func(name string) []json.RawMessage { return waitEvent(t, onNode, name).Args }, onGo)
}

// crossBroadcasts: a post created through the Go server's API reaches
// the Node server's client with the content the Go server's own client
// gets; an event Node emits (nested values, binary) reaches the Go
// server's client as emitted.
func crossBroadcasts(t *testing.T, node *nodeServer, g *testEnv, nodeEvent func(string) []json.RawMessage, onGo *servertest.NodeClient) {
	t.Helper()
	api, _ := mustUser(t, g.url, "pack@example.com", "Pack")
	created := api.mustCreatePost("Packed in Go", "read through Node", 4)
	goArgs := waitEvent(t, onGo, "posts").Args
	nodeArgs := nodeEvent("posts")
	if len(nodeArgs) != 1 || !jsonEqual(nodeArgs[0], string(goArgs[0])) {
		t.Errorf("Node's client got %s, the Go server's client %s", nodeArgs, goArgs)
	}
	if ev := decodeArg(t, nodeArgs[0]); ev["action"] != "create" || fmt.Sprint(ev["post"]) != fmt.Sprint(created["post"]) {
		t.Errorf("Node's client: event %v, want post %v", ev, created["post"])
	}

	news := map[string]any{"text": "from Node", "n": 3, "f": -2.5, "ok": true, "nil": nil, "list": []any{"a", 1, map[string]any{"z": 1, "a": 2}}}
	bin := map[string]any{"$bin": "AAEC/w=="}
	node.Send(map[string]any{"op": "emit", "event": "news", "args": []any{news, bin}})
	want, _ := json.Marshal([]any{news, bin})
	if got, _ := json.Marshal(waitEvent(t, onGo, "news").Args); !jsonEqual(got, string(want)) {
		t.Errorf("Go server's client got %s, want %s", got, want)
	}
	if got, _ := json.Marshal(nodeEvent("news")); !jsonEqual(got, string(want)) {
		t.Errorf("Node's client got %s, want %s", got, want)
	}
}
