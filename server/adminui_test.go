package server

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"feedrt/server/servertest"
)

// The Admin UI's credentials in the tests.
const (
	adminUser     = "admin"
	adminPassword = "correct horse"
)

// withAdminUI enables the Admin UI with adminUser and adminPassword.
func withAdminUI(t *testing.T, readonly bool) func(*Config) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(adminPassword), 4)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *Config) {
		c.Admin.Username, c.Admin.PasswordBcrypt, c.Admin.Readonly = adminUser, string(hash), readonly
	}
}

// adminSocket is what the Admin UI sees: the official socket.io-client
// connected to /admin, and the events it has received but no test step
// has asked for yet.
type adminSocket struct {
	*servertest.NodeClient
	seen []servertest.NodeMsg
}

// mustAdmin connects a socket.io-client to the admin namespace with auth.
func mustAdmin(t *testing.T, url string, auth map[string]any) *adminSocket {
	t.Helper()
	return &adminSocket{NodeClient: servertest.MustNodeClient(t, map[string]any{"url": url, "namespace": "/admin", "auth": auth, "reconnection": false})}
}

// wait returns the arguments of the first event name whose arguments
// match (nil matches any), waiting up to 10 s; the other events are kept.
func (a *adminSocket) wait(t *testing.T, name string, match func(args []json.RawMessage) bool) []json.RawMessage {
	t.Helper()
	ok := func(m servertest.NodeMsg) bool { return m.Name == name && (match == nil || match(m.Args)) }
	for i, m := range a.seen {
		if ok(m) {
			a.seen = slices.Delete(a.seen, i, i+1)
			return m.Args
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := a.Next(time.Until(deadline), "event")
		if ok(m) {
			return m.Args
		}
		a.seen = append(a.seen, m)
		if time.Now().After(deadline) {
			t.Fatalf("no %s event matching within 10 s", name)
		}
	}
}

// act sends a UI action with an acknowledgement and returns the answer.
func (a *adminSocket) act(t *testing.T, id int, event string, args ...any) []json.RawMessage {
	t.Helper()
	a.Send(map[string]any{"op": "emit", "event": event, "args": args, "ack": true, "id": id})
	return a.Next(10*time.Second, "ack").Args
}

// adminSocketJSON is a socket as all_sockets and socket_connected list it.
type adminSocketJSON struct {
	ID        string   `json:"id"`
	ClientID  string   `json:"clientId"`
	Transport string   `json:"transport"`
	Nsp       string   `json:"nsp"`
	Rooms     []string `json:"rooms"`
	Handshake struct {
		Address string            `json:"address"`
		Headers map[string]string `json:"headers"`
		URL     string            `json:"url"`
	} `json:"handshake"`
}

// str decodes a JSON string argument ("" if it is not one).
func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// argsAre matches event arguments that start with these strings.
func argsAre(want ...string) func([]json.RawMessage) bool {
	return func(args []json.RawMessage) bool {
		if len(args) < len(want) {
			return false
		}
		for i, w := range want {
			if str(args[i]) != w {
				return false
			}
		}
		return true
	}
}

// mustDecode decodes raw into a new T.
func mustDecode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// bySocketID finds a socket of namespace "/" in a socket list.
func bySocketID(list []adminSocketJSON, id string) (adminSocketJSON, bool) {
	for _, s := range list {
		if s.ID == id && s.Nsp == "/" {
			return s, true
		}
	}
	return adminSocketJSON{}, false
}

// TestAdminUIProtocol drives the /admin namespace as the Admin UI does,
// with the official socket.io-client: login (and its refusal), the
// config, every socket with its transport, the stats, the live events,
// and the actions.
func TestAdminUIProtocol(t *testing.T) {
	env := mustStart(t, withAdminUI(t, false))
	polling := servertest.MustNodeClient(t, map[string]any{"url": env.url, "transports": []string{"polling"}})
	ws := servertest.MustNodeClient(t, map[string]any{"url": env.url, "transports": []string{"websocket"}, "reconnection": false})
	pollingID, wsID := polling.MustConnect().ID.(string), ws.MustConnect().ID.(string)

	admin := mustAdmin(t, env.url, map[string]any{"username": adminUser, "password": adminPassword})
	admin.MustConnect()
	session := str(admin.wait(t, "session", nil)[0])
	if len(session) != 16 {
		t.Errorf("session id %q, want 16 hex digits", session)
	}
	cfg := mustDecode[struct{ SupportedFeatures []string }](t, admin.wait(t, "config", nil)[0])
	want := []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"}
	if !slices.Equal(cfg.SupportedFeatures, want) {
		t.Errorf("supportedFeatures %v, want %v", cfg.SupportedFeatures, want)
	}
	all := mustDecode[[]adminSocketJSON](t, admin.wait(t, "all_sockets", nil)[0])
	for id, transport := range map[string]string{pollingID: "polling", wsID: "websocket"} {
		s, ok := bySocketID(all, id)
		if !ok {
			t.Fatalf("all_sockets lacks socket %s: %+v", id, all)
		}
		if s.Transport != transport || len(s.ClientID) != 12 || !slices.Equal(s.Rooms, []string{id}) ||
			s.Handshake.Address == "" || s.Handshake.Headers["host"] == "" {
			t.Errorf("all_sockets lists %s as %+v, want transport %s, a client id, its own room and its handshake", id, s, transport)
		}
	}

	stats := mustDecode[struct {
		ServerID            string `json:"serverId"`
		Hostname            string `json:"hostname"`
		PID                 int    `json:"pid"`
		ClientsCount        int    `json:"clientsCount"`
		PollingClientsCount int    `json:"pollingClientsCount"`
		Namespaces          []struct {
			Name         string `json:"name"`
			SocketsCount int    `json:"socketsCount"`
		} `json:"namespaces"`
	}](t, admin.wait(t, "server_stats", nil)[0])
	if stats.ServerID != env.srv.cfg.Admin.ServerID || stats.PID == 0 || stats.ClientsCount != 3 || stats.PollingClientsCount < 1 ||
		len(stats.Namespaces) != 2 || stats.Namespaces[0].Name != "/" || stats.Namespaces[0].SocketsCount != 2 || stats.Namespaces[1].Name != "/admin" {
		t.Errorf("server_stats %+v: want this server's id, 3 clients (1 or 2 polling), 2 sockets in / and the /admin namespace", stats)
	}

	// Refused logins (after the stats, whose client count they would change).
	for _, tc := range []struct {
		name string
		auth map[string]any
	}{
		{"wrong password", map[string]any{"username": adminUser, "password": "wrong"}},
		{"wrong username", map[string]any{"username": "root", "password": adminPassword}},
		{"no credentials", nil},
		{"unknown session", map[string]any{"sessionId": "0123456789abcdef"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustAdmin(t, env.url, tc.auth).Next(10*time.Second, "connect", "connect_error")
			if m.Ev != "connect_error" || m.Message != "invalid credentials" {
				t.Errorf("got %+v, want connect_error %q (the plugin's refusal)", m, "invalid credentials")
			}
		})
	}

	t.Run("session", func(t *testing.T) {
		// The UI reconnects with the session id instead of the password.
		again := mustAdmin(t, env.url, map[string]any{"sessionId": session})
		again.MustConnect()
		again.wait(t, "config", nil)
	})

	t.Run("join and leave", func(t *testing.T) {
		if ans := admin.act(t, 1, "join", "/", "room-a", pollingID); len(ans) != 0 {
			t.Errorf("join answered %s", ans)
		}
		admin.wait(t, "room_joined", argsAre("/", "room-a", pollingID))
		if ans := admin.act(t, 2, "leave", "/", "room-a", pollingID); len(ans) != 0 {
			t.Errorf("leave answered %s", ans)
		}
		admin.wait(t, "room_left", argsAre("/", "room-a", pollingID))
	})

	t.Run("events", func(t *testing.T) {
		admin.act(t, 3, "emit", "/", pollingID, "news", "from the admin")
		if m := polling.Next(10*time.Second, "event"); m.Name != "news" || str(m.Args[0]) != "from the admin" {
			t.Errorf("client got %+v, want the news the admin emitted", m)
		}
		sent := admin.wait(t, "event_sent", argsAre("/", pollingID))
		if ev := mustDecode[[]any](t, sent[2]); len(ev) < 2 || ev[0] != "news" || ev[1] != "from the admin" {
			t.Errorf("event_sent %s", sent)
		}
		polling.Send(map[string]any{"op": "emit", "event": "hello", "args": []any{42}})
		received := admin.wait(t, "event_received", argsAre("/", pollingID))
		if string(received[2]) != `["hello",42]` {
			t.Errorf("event_received %s", received)
		}
	})

	t.Run("new socket and upgrade", func(t *testing.T) {
		c := servertest.MustNodeClient(t, map[string]any{"url": env.url})
		id := c.MustConnect().ID.(string)
		got := mustDecode[adminSocketJSON](t, admin.wait(t, "socket_connected", func(args []json.RawMessage) bool {
			return mustDecode[adminSocketJSON](t, args[0]).ID == id
		})[0])
		if got.Transport != "polling" || got.Nsp != "/" {
			t.Errorf("socket_connected %+v, want / over polling", got)
		}
		updated := admin.wait(t, "socket_updated", func(args []json.RawMessage) bool {
			return mustDecode[adminSocketJSON](t, args[0]).ID == id
		})
		if u := mustDecode[adminSocketJSON](t, updated[0]); u.Transport != "websocket" {
			t.Errorf("socket_updated %s, want the upgrade to websocket", updated[0])
		}
	})

	t.Run("disconnect", func(t *testing.T) {
		admin.act(t, 4, "_disconnect", "/", false, wsID)
		if m := ws.Next(10*time.Second, "disconnect"); m.Reason != "io server disconnect" {
			t.Errorf("client: %+v, want disconnect by the server", m)
		}
		admin.wait(t, "socket_disconnected", argsAre("/", wsID))
	})

	t.Run("unknown namespace", func(t *testing.T) {
		if ans := admin.act(t, 5, "join", "/nope", "room-a", nil); len(ans) != 1 || string(ans[0]) != `{"error":"unknown namespace"}` {
			t.Errorf("join in a namespace that does not exist answered %s", ans)
		}
	})
}

// TestAdminUIReadonly: with ADMIN_READONLY the UI gets no action features
// and every action is refused, with nothing changed.
func TestAdminUIReadonly(t *testing.T) {
	env := mustStart(t, withAdminUI(t, true))
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "reconnection": false})
	id := c.MustConnect().ID.(string)
	admin := mustAdmin(t, env.url, map[string]any{"username": adminUser, "password": adminPassword})
	admin.MustConnect()
	cfg := mustDecode[struct{ SupportedFeatures []string }](t, admin.wait(t, "config", nil)[0])
	if want := []string{"AGGREGATED_EVENTS", "ALL_EVENTS"}; !slices.Equal(cfg.SupportedFeatures, want) {
		t.Errorf("supportedFeatures %v, want %v", cfg.SupportedFeatures, want)
	}
	for i, action := range [][]any{{"join", "/", "room-a", id}, {"leave", "/", id, id}, {"_disconnect", "/", true, id}, {"emit", "/", id, "news"}} {
		ans := admin.act(t, i, action[0].(string), action[1:]...)
		if len(ans) != 1 || string(ans[0]) != `{"error":"read-only"}` {
			t.Errorf("%v answered %s, want the read-only refusal", action, ans)
		}
	}
	// The refusals came after the actions were handled: nothing changed.
	later := mustAdmin(t, env.url, map[string]any{"username": adminUser, "password": adminPassword})
	later.MustConnect()
	s, ok := bySocketID(mustDecode[[]adminSocketJSON](t, later.wait(t, "all_sockets", nil)[0]), id)
	if !ok || !slices.Equal(s.Rooms, []string{id}) {
		t.Errorf("after refused actions the socket is %+v (listed: %v), want it connected in its own room only", s, ok)
	}
	c.Send(map[string]any{"op": "state"})
	if m := c.Next(5*time.Second, "state", "disconnect", "event"); m.Ev != "state" {
		t.Errorf("client got %+v, want nothing from the refused actions", m)
	}
}

// TestAdminUIOff: without credentials there is no admin namespace.
func TestAdminUIOff(t *testing.T) {
	env := mustStart(t, nil)
	m := mustAdmin(t, env.url, map[string]any{"username": adminUser, "password": adminPassword}).Next(10*time.Second, "connect", "connect_error")
	if m.Ev != "connect_error" || m.Message != "Invalid namespace" {
		t.Errorf("got %+v, want connect_error Invalid namespace", m)
	}
}
