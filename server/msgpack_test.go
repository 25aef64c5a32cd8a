package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/realtime"
	"feedrt/server/servertest"
)

// useMsgpack is the config edit of SOCKETIO_PARSER=msgpack.
func useMsgpack(c *Config) { c.SocketIO.Parser = realtime.ParserMsgpack }

// mustMsgpackClient starts socket.io-client 4.x with
// socket.io-msgpack-parser on url (plus opts).
func mustMsgpackClient(t *testing.T, url string, opts map[string]any) *servertest.NodeClient {
	t.Helper()
	all := map[string]any{"url": url, "version": 4, "parser": "msgpack"}
	for k, v := range opts {
		all[k] = v
	}
	return servertest.MustNodeClient(t, all)
}

// addMsgpackHandlers gives the test server what the client drives: on
// "/", "join" (a room, acknowledged), "ask" (the server then emits
// "question" with an acknowledgement and sends the client's answer back
// as "answer"); on "/chat", "echo" with an acknowledgement.
func addMsgpackHandlers(io *socket.Server) {
	addEchoHandlers(io)
	io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.On("join", acked(func(a []any) []any {
			room, _ := a[0].(string)
			s.Join(socket.Room(room))
			return []any{"joined"}
		}))
		s.On("ask", func(...any) {
			_ = s.Timeout(5*time.Second).Emit("question", "q?", socket.Ack(func(reply []any, err error) {
				if err != nil {
					reply = []any{err.Error()}
				}
				_ = s.Emit("answer", reply...)
			}))
		})
	})
	_ = io.Of("/chat", nil).On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.On("echo", acked(func(a []any) []any { return append([]any{"chat"}, a...) }))
	})
}

// TestMsgpackNodeClient runs socket.io-client 4.x with
// socket.io-msgpack-parser (from npm) against the server with
// SOCKETIO_PARSER=msgpack, on WebSocket and on long-polling: connect,
// events and acknowledgements both ways, binary both ways, a custom
// namespace, rooms, a `posts` event of a post created through the API,
// and connection state recovery (the missed posts, the same id).
func TestMsgpackNodeClient(t *testing.T) {
	for _, transport := range []string{"websocket", "polling"} {
		t.Run(transport, func(t *testing.T) {
			env := mustStart(t, useMsgpack)
			io := env.srv.SocketIO()
			addMsgpackHandlers(io)
			c := mustMsgpackClient(t, env.url, map[string]any{"transports": []string{transport}, "ackWith": map[string]any{"ok": true, "n": 1.5}})
			first := c.MustConnect()

			// Client → server with an ack, values of every kind.
			c.Send(map[string]any{"op": "emit", "event": "echo", "args": []any{"a", 1, -2.5, nil, true, map[string]any{"k": []int{1, 2}}}, "ack": true, "id": 1})
			if got, _ := json.Marshal(c.Next(5*time.Second, "ack").Args); string(got) != `["a",1,-2.5,null,true,{"k":[1,2]}]` {
				t.Errorf("ack args %s", got)
			}

			// Binary both ways: the server's handler gets the bytes and
			// sends them back.
			payload := []byte{0, 1, 2, 250, 255}
			b64 := base64.StdEncoding.EncodeToString(payload)
			c.Send(map[string]any{"op": "emit", "event": "binary", "args": []any{"bin", map[string]any{"nested": map[string]any{"$bin": b64}}}})
			if got, _ := json.Marshal(waitEvent(t, c, "binary").Args); string(got) != fmt.Sprintf(`["bin",{"nested":{"$bin":%q}}]`, b64) {
				t.Errorf("binary echo %s", got)
			}

			// Server → client with an ack.
			c.Send(map[string]any{"op": "emit", "event": "ask"})
			question := waitEventAny(t, c, "question").Args // with an ack: no recovery offset
			if got, _ := json.Marshal(question); string(got) != `["q?"]` {
				t.Errorf("question %s", got)
			}
			if got, _ := json.Marshal(waitEvent(t, c, "answer").Args); !jsonEqual(got, `[{"ok":true,"n":1.5}]`) {
				t.Errorf("answer %s", got)
			}

			// Rooms.
			c.Send(map[string]any{"op": "emit", "event": "join", "args": []any{"red"}, "ack": true, "id": 2})
			c.Next(5*time.Second, "ack")
			_ = io.To("red").Emit("to-red", 1)
			_ = io.To("blue").Emit("to-blue", 1)
			_ = io.Emit("end")
			if got := eventsUntil(t, c, "end"); fmt.Sprint(got) != "[to-red]" {
				t.Errorf("room events %v, want [to-red]", got)
			}

			// A custom namespace.
			chat := mustMsgpackClient(t, env.url, map[string]any{"transports": []string{transport}, "namespace": "/chat"})
			chat.MustConnect()
			chat.Send(map[string]any{"op": "emit", "event": "echo", "args": []any{"hi"}, "ack": true, "id": 3})
			if got, _ := json.Marshal(chat.Next(5*time.Second, "ack").Args); string(got) != `["chat","hi"]` {
				t.Errorf("/chat ack %s", got)
			}
			chat.Send(map[string]any{"op": "close"})

			// A post created through the API.
			api, _ := mustUser(t, env.url, "mona@example.com", "Mona")
			created := api.mustCreatePost("Packed post", "sent as msgpack", 2)
			ev := decodeArg(t, waitEvent(t, c, "posts").Args[0])
			if ev["action"] != "create" || fmt.Sprint(ev["post"]) != fmt.Sprint(created["post"]) {
				t.Errorf("posts event %v, want the create of %v", ev, created["post"])
			}

			// Recovery: away while two posts are made, back with them and
			// the same id.
			mustRecoverMissedPosts(t, io, api, c, first, 1500)
		})
	}
}

// TestMsgpackAdminUI: the Admin UI works with a msgpack server as with
// Node's (the UI's advanced options offer the MessagePack parser, which
// the /admin namespace then speaks like every other): login, config,
// the sockets, the stats, an action and its live event, all through
// socket.io-client with socket.io-msgpack-parser.
func TestMsgpackAdminUI(t *testing.T) {
	env := mustStart(t, func(c *Config) { withAdminUI(t, false)(c); useMsgpack(c) })
	c := mustMsgpackClient(t, env.url, map[string]any{"transports": []string{"websocket"}})
	id, _ := c.MustConnect().ID.(string)
	admin := &adminSocket{NodeClient: mustMsgpackClient(t, env.url, map[string]any{"namespace": "/admin",
		"auth": map[string]any{"username": adminUser, "password": adminPassword}, "reconnection": false})}
	admin.MustConnect()
	if session := str(admin.wait(t, "session", nil)[0]); len(session) != 16 {
		t.Errorf("session id %q", session)
	}
	admin.wait(t, "config", nil)
	all := mustDecode[[]adminSocketJSON](t, admin.wait(t, "all_sockets", nil)[0])
	if s, ok := bySocketID(all, id); !ok || s.Transport != "websocket" {
		t.Errorf("all_sockets %+v lacks %s on websocket", all, id)
	}
	stats := mustDecode[struct {
		ClientsCount int `json:"clientsCount"`
	}](t, admin.wait(t, "server_stats", nil)[0])
	if stats.ClientsCount != 2 {
		t.Errorf("server_stats counts %d clients, want 2", stats.ClientsCount)
	}
	if ans := admin.act(t, 1, "join", "/", "room-a", id); len(ans) != 0 {
		t.Errorf("join answered %s", ans)
	}
	admin.wait(t, "room_joined", argsAre("/", "room-a", id))

	wrong := mustMsgpackClient(t, env.url, map[string]any{"namespace": "/admin", "auth": map[string]any{"username": adminUser, "password": "nope"}, "reconnection": false})
	if m := wrong.Next(10*time.Second, "connect", "connect_error"); m.Ev != "connect_error" || m.Message != "invalid credentials" {
		t.Errorf("wrong password: %+v, want connect_error invalid credentials", m)
	}
}
