package server

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// The SOCKETIO_* settings that are Node's socket.io/engine.io options,
// end to end: the real server configured through Config, the official
// socket.io-client 4.x (and 2.x where the option applies to it)
// configured as a front end would be, and raw requests for what Node
// answers on the wire.

// TestOptionPath: with SOCKETIO_PATH=/api/socket.io, clients given
// `path: "/api/socket.io"` connect and get the feed's broadcasts, and
// /socket.io/ is the REST API's 404. The path is a prefix of the URL as in
// Node's engine.io (attach's check): with addTrailingSlash (the default)
// "<path>/", without it "<path>" itself, so /api/socket.io?EIO=4 answers
// the handshake only then; otherwise it falls through to the REST routes.
func TestOptionPath(t *testing.T) {
	for _, slash := range []bool{true, false} {
		t.Run(fmt.Sprintf("addTrailingSlash=%v", slash), func(t *testing.T) {
			env := mustStart(t, func(c *Config) { c.SocketIO.Path, c.SocketIO.AddTrailingSlash = "/api/socket.io", slash })
			watchers := servertest.Connected(
				servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "path": "/api/socket.io"}),
				servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 2, "path": "/api/socket.io"}),
			)
			api, _ := mustUser(t, env.url, "path@example.com", "Path")
			api.mustCreatePost("Prefixed", "behind a proxy prefix", 1)
			for i, w := range watchers {
				if ev := decodeArg(t, waitEvent(t, w, "posts").Args[0]); ev["action"] != "create" {
					t.Errorf("watcher %d: posts event %v", i, ev)
				}
			}
			openPacket(t, env.url+"/api/socket.io/")
			// Node compares the path as sent: an encoded dot is another path.
			for _, other := range []string{"/socket.io/", "/api/socket%2Eio/", "/api%2Fsocket.io/"} {
				if status, body := servertest.Do(t, "GET", env.url+other+"?EIO=4&transport=polling", ""); status != 404 {
					t.Errorf("%s: %d %q, want the REST 404", other, status, body)
				}
			}
			status, body := servertest.Do(t, "GET", env.url+"/api/socket.io?EIO=4&transport=polling", "")
			if slash && status != 404 || !slash && (status != 200 || !strings.HasPrefix(body, "0{")) {
				t.Errorf("no trailing slash: %d %q", status, body)
			}
		})
	}
}

// TestOptionTransports: SOCKETIO_TRANSPORTS as Node's transports. A
// request on a transport not listed gets Node's 400 "Transport unknown"
// (polling-only has no upgrade listener in Node, so a WebSocket upgrade is
// answered as a plain request: JSON); clients whose transports the
// server allows connect over them, the others get connect_error; a
// polling-only server offers no upgrade.
func TestOptionTransports(t *testing.T) {
	const unknown = `{"code":0,"message":"Transport unknown"}`
	type client struct {
		version    int
		transports []string // nil: the client's default, polling then WebSocket
		connects   bool
	}
	ws, polling := []string{"websocket"}, []string{"polling"}
	for _, tc := range []struct {
		allowed []string
		clients []client
	}{
		{ws, []client{{4, ws, true}, {2, ws, true}, {4, nil, false}, {2, nil, false}, {4, polling, false}}},
		{polling, []client{{4, polling, true}, {4, nil, true}, {2, nil, true}, {4, ws, false}, {2, ws, false}}},
	} {
		t.Run(strings.Join(tc.allowed, ","), func(t *testing.T) {
			env := mustStart(t, func(c *Config) { c.SocketIO.Transports = tc.allowed })
			base := env.url + "/socket.io/"
			if tc.allowed[0] == "polling" {
				if up, _ := json.Marshal(openPacket(t, base)["upgrades"]); string(up) != "[]" {
					t.Errorf("open packet upgrades %s, want []", up)
				}
				conn, res, err := websocket.DefaultDialer.Dial(webSocketURL(env.url), nil)
				if err == nil {
					conn.Close()
					t.Fatal("WebSocket accepted by a polling-only server")
				} else if res == nil {
					t.Fatalf("WebSocket: %v, want a 400", err)
				}
				body, _ := io.ReadAll(res.Body)
				if res.StatusCode != 400 || !jsonEqual(body, unknown) {
					t.Errorf("WebSocket: %d %q, want 400 %s", res.StatusCode, body, unknown)
				}
			} else {
				mustRawSocket(t, webSocketURL(env.url))
				if status, body := servertest.Do(t, "GET", base+"?EIO=4&transport=polling", ""); status != 400 || !jsonEqual([]byte(body), unknown) {
					t.Errorf("polling handshake: %d %q, want 400 %s", status, body, unknown)
				}
			}
			for _, cc := range tc.clients {
				opts := map[string]any{"url": env.url, "version": cc.version, "reconnection": false}
				if cc.transports != nil {
					opts["transports"] = cc.transports
				}
				m := servertest.MustNodeClient(t, opts).Next(10*time.Second, "connect", "connect_error")
				if got := m.Ev == "connect"; got != cc.connects || got && m.Transport != tc.allowed[0] {
					t.Errorf("client %d %v: %s %q over %q, want connected=%v", cc.version, cc.transports, m.Ev, m.Message, m.Transport, cc.connects)
				}
			}
		})
	}
}

// TestOptionPing: the open packet carries SOCKETIO_PING_INTERVAL,
// SOCKETIO_PING_TIMEOUT (ms) and SOCKETIO_MAX_HTTP_BUFFER_SIZE as Node's
// does; the server pings at that interval, and 4.x clients (which expect
// a ping within interval + timeout) and 2.x clients (which ping and wait
// for the pong) stay connected, with the same id, across several pings.
func TestOptionPing(t *testing.T) {
	const interval, timeout = 400 * time.Millisecond, 700 * time.Millisecond
	env := mustStart(t, func(c *Config) {
		c.SocketIO.PingInterval, c.SocketIO.PingTimeout, c.SocketIO.MaxHTTPBufferSize = interval, timeout, 123456
	})
	open := openPacket(t, env.url+"/socket.io/")
	if open["pingInterval"] != 400.0 || open["pingTimeout"] != 700.0 || open["maxPayload"] != 123456.0 {
		t.Errorf("open packet %v, want pingInterval 400, pingTimeout 700, maxPayload 123456", open)
	}
	var clients []*servertest.NodeClient
	var ids []any
	for _, opts := range []map[string]any{
		{"version": 4, "transports": []string{"websocket"}}, {"version": 4, "transports": []string{"polling"}},
		{"version": 2, "transports": []string{"websocket"}}, {"version": 2, "transports": []string{"polling"}},
	} {
		opts["url"], opts["reconnection"] = env.url, false
		c := servertest.MustNodeClient(t, opts)
		clients, ids = append(clients, c), append(ids, c.MustConnect().ID)
	}
	start := time.Now()
	waitPings(t, env.url, 4, 4*interval+5*time.Second)
	if took := time.Since(start); took < 3*interval {
		t.Errorf("4 pings within %v, want an interval of %v", took, interval)
	}
	for i, c := range clients {
		c.Send(map[string]any{"op": "state"})
		if m := c.Next(5*time.Second, "state", "disconnect"); m.Ev != "state" || m.ID != ids[i] {
			t.Errorf("client %d after 4 pings: %s %q id %v, want still connected as %v", i, m.Ev, m.Reason, m.ID, ids[i])
		}
	}
}

// TestOptionMaxHTTPBufferSize: a client's message past
// SOCKETIO_MAX_HTTP_BUFFER_SIZE (Node's 1e6 by default) ends its session
// without reaching the handlers (Node: ws's maxPayload closes the
// WebSocket; a polling POST gets 413, the client gives the transport up);
// raised to 1e7, the same message reaches the server's handler, over
// either transport.
func TestOptionMaxHTTPBufferSize(t *testing.T) {
	big := strings.Repeat("x", 1_500_000)
	for _, limit := range []int64{0, 10_000_000} {
		for _, transport := range []string{"websocket", "polling"} {
			t.Run(fmt.Sprintf("%d/%s", limit, transport), func(t *testing.T) {
				env := mustStart(t, func(c *Config) {
					if limit != 0 {
						c.SocketIO.MaxHTTPBufferSize = limit
					}
				})
				got := make(chan int, 1)
				env.srv.SocketIO().On("connection", func(args ...any) {
					args[0].(*socket.Socket).On("big", func(a ...any) {
						if s, ok := a[0].(string); ok {
							select {
							case got <- len(s):
							default:
							}
						}
					})
				})
				c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{transport}, "reconnection": false})
				id := c.MustConnect().ID
				c.Send(map[string]any{"op": "emit", "event": "big", "args": []any{big}})
				if limit == 0 {
					if m := c.Next(15*time.Second, "disconnect"); m.Reason == "" {
						t.Errorf("disconnect without a reason")
					}
					storetest.WaitFor(t, "the session closed", func() bool { return env.srv.SocketIO().Engine().ClientsCount() == 0 })
					if len(got) != 0 {
						t.Errorf("a message past the default limit (%d) reached the handler", env.srv.cfg.SocketIO.MaxHTTPBufferSize)
					}
					return
				}
				if n := storetest.Receive(t, "the message to reach the handler", got); n != len(big) {
					t.Errorf("handler got %d bytes, want %d", n, len(big))
				}
				c.Send(map[string]any{"op": "state"})
				if m := c.Next(5*time.Second, "state", "disconnect"); m.ID != id {
					t.Errorf("after the message: %s %q, want still connected", m.Ev, m.Reason)
				}
			})
		}
	}
}

// TestOptionRecoveryOff: with SOCKETIO_RECOVERY=false, as Node without
// connectionStateRecovery, a `posts` event carries its payload alone (no
// offset), and a client whose connection drops comes back as a new socket
// (recovered false, a new id) that never gets the posts created while it
// was away. With recovery on, the same drop recovers: TestRecoveryAfterDrop.
func TestOptionRecoveryOff(t *testing.T) {
	env := mustStart(t, func(c *Config) { c.Recovery.Enabled = false })
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}})
	first := c.MustConnect()
	api, _ := mustUser(t, env.url, "norecovery@example.com", "Nora")
	title := func() string {
		t.Helper()
		m := c.Next(10*time.Second, "event")
		if m.Name != "posts" || len(m.Args) != 1 {
			t.Fatalf("event %s %s, want posts with one argument", m.Name, m.Args)
		}
		post, _ := decodeArg(t, m.Args[0])["post"].(map[string]any)
		return fmt.Sprint(post["title"])
	}
	api.mustCreatePost("Seen post", "before the drop", 1)
	if got := title(); got != "Seen post" {
		t.Errorf("first event for %q", got)
	}

	c.Send(map[string]any{"op": "drop", "ms": 500})
	c.Next(5*time.Second, "disconnect")
	storetest.WaitFor(t, "the server to see the drop", func() bool { return env.srv.SocketIO().Sockets().Sockets().Len() == 0 })
	api.mustCreatePost("Missed post", "while away", 2)
	again := c.MustConnect()
	if again.Recovered || again.ID == first.ID {
		t.Errorf("reconnect: recovered=%v id %v (was %v), want a new socket", again.Recovered, again.ID, first.ID)
	}
	api.mustCreatePost("Later post", "after the reconnect", 3)
	if got := title(); got != "Later post" {
		t.Errorf("after the reconnect the first event is for %q, want %q (the missed one is lost)", got, "Later post")
	}
}

// TestOptionAllowUpgrades: with SOCKETIO_ALLOW_UPGRADES=false the open
// packet offers no upgrade, and a 4.x client on its default transports
// stays on long-polling while pings go by.
func TestOptionAllowUpgrades(t *testing.T) {
	env := mustStart(t, func(c *Config) { c.SocketIO.AllowUpgrades, c.SocketIO.PingInterval = false, 300*time.Millisecond })
	if up, _ := json.Marshal(openPacket(t, env.url+"/socket.io/")["upgrades"]); string(up) != "[]" {
		t.Errorf("open packet upgrades %s, want []", up)
	}
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "reconnection": false})
	id := c.MustConnect().ID
	waitPings(t, env.url, 3, 10*time.Second) // several intervals, far more than an upgrade takes
	c.Send(map[string]any{"op": "state"})
	if m := c.Next(5*time.Second, "state", "disconnect"); m.Transport != "polling" || m.ID != id {
		t.Errorf("client: %s on %q (id %v), want connected on polling", m.Ev, m.Transport, m.ID)
	}
	if s, ok := env.srv.SocketIO().Sockets().Sockets().Load(socket.SocketId(fmt.Sprint(id))); !ok || s.Conn().Transport().Name() != "polling" {
		t.Errorf("server side: socket %v found %v, want it on polling", id, ok)
	}
}

// TestOptionConnectTimeout: an Engine.IO session that never joins a
// namespace is closed after SOCKETIO_CONNECT_TIMEOUT (Node's Client
// closes it: the WebSocket closes, a waiting polling GET gets the close
// packet), while one that sent CONNECT stays.
func TestOptionConnectTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	env := mustStart(t, func(c *Config) { c.SocketIO.ConnectTimeout = timeout })
	mustRawSocket(t, webSocketURL(env.url)) // joins "/" at once

	start := time.Now()
	silent := servertest.MustOpen(t, webSocketURL(env.url))
	if !silent.Closed(10*time.Second, true) {
		t.Fatal("WebSocket session without CONNECT still open")
	}
	sid := handshake(t, env.url+"/socket.io/")
	status, body := servertest.Do(t, "GET", env.url+"/socket.io/?EIO=4&transport=polling&sid="+sid, "")
	if status != 200 || body != "1" {
		t.Errorf("polling session without CONNECT: %d %q, want the close packet", status, body)
	}
	if took := time.Since(start); took < timeout {
		t.Errorf("closed after %v, before the timeout", took)
	}
	// The session that joined is the one left, its socket connected.
	storetest.WaitFor(t, "the sessions without CONNECT gone", func() bool { return env.srv.SocketIO().Engine().ClientsCount() == 1 })
	if n := env.srv.SocketIO().Sockets().Sockets().Len(); n != 1 {
		t.Errorf("%d sockets, want the one that joined", n)
	}
}

// waitPings opens a raw WebSocket session at the server at httpURL and
// waits for n pings (answered), a clock that ticks at the server's ping
// interval.
func waitPings(t *testing.T, httpURL string, n int, within time.Duration) {
	t.Helper()
	c := mustRawSocket(t, webSocketURL(httpURL))
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(within))
	for pings := 0; pings < n; {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("after %d of %d pings: %v", pings, n, err)
		}
		if string(msg) == "2" {
			pings++
			c.Send("3")
		}
	}
}

// TestOptionRecoverySkipMiddlewares: a recovered socket passes the
// namespace's middlewares again only with
// SOCKETIO_RECOVERY_SKIP_MIDDLEWARES=false (Node's skipMiddlewares).
func TestOptionRecoverySkipMiddlewares(t *testing.T) {
	for _, skip := range []bool{true, false} {
		t.Run(fmt.Sprint("skip=", skip), func(t *testing.T) {
			env := mustStart(t, func(c *Config) { c.Recovery.SkipMiddlewares = skip })
			var calls atomic.Int32
			env.srv.SocketIO().Use(func(_ *socket.Socket, next func(*socket.ExtendedError)) {
				calls.Add(1)
				next(nil)
			})
			c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}})
			c.MustConnect()
			api, _ := mustUser(t, env.url, fmt.Sprintf("skip%v@example.com", skip), "Sam")
			api.mustCreatePost("Seen post", "an offset to recover from", 1)
			waitEvent(t, c, "posts")
			c.Send(map[string]any{"op": "drop", "ms": 500})
			c.Next(5*time.Second, "disconnect")
			if again := c.MustConnect(); !again.Recovered {
				t.Fatal("reconnect not recovered")
			}
			want := int32(2)
			if skip {
				want = 1
			}
			if got := calls.Load(); got != want {
				t.Errorf("middleware ran %d times, want %d", got, want)
			}
		})
	}
}

// TestOptionRecoveryWindow: a socket away longer than
// SOCKETIO_RECOVERY_MAX_DISCONNECTION_DURATION comes back as a new one.
func TestOptionRecoveryWindow(t *testing.T) {
	env := mustStart(t, func(c *Config) { c.Recovery.MaxDisconnectionDuration = 300 * time.Millisecond })
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}})
	first := c.MustConnect()
	api, _ := mustUser(t, env.url, "window@example.com", "Wendy")
	api.mustCreatePost("Seen post", "an offset to recover from", 1)
	waitEvent(t, c, "posts")
	c.Send(map[string]any{"op": "drop", "ms": 1500}) // back after five windows
	c.Next(5*time.Second, "disconnect")
	if again := c.MustConnect(); again.Recovered || again.ID == first.ID {
		t.Errorf("reconnect after the window: recovered=%v id %v (was %v), want a new socket", again.Recovered, again.ID, first.ID)
	}
}

// TestRecoveryFollowsServerClock: the recovery window is measured with
// the server's clock (WithClock): a socket away for a second of real time
// while that clock moves past the window comes back as a new one.
func TestRecoveryFollowsServerClock(t *testing.T) {
	var clock atomic.Int64 // the server's time, Unix nanoseconds
	clock.Store(time.Now().UnixNano())
	env := mustStart(t, nil, WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}})
	first := c.MustConnect()
	api, _ := mustUser(t, env.url, "clock@example.com", "Clara")
	api.mustCreatePost("Seen post", "an offset to recover from", 1)
	waitEvent(t, c, "posts")
	c.Send(map[string]any{"op": "drop", "ms": 1000})
	c.Next(5*time.Second, "disconnect")
	storetest.WaitFor(t, "the server to see the drop", func() bool { return env.srv.SocketIO().Sockets().Sockets().Len() == 0 })
	clock.Add(int64(env.srv.cfg.Recovery.MaxDisconnectionDuration + time.Minute))
	if again := c.MustConnect(); again.Recovered || again.ID == first.ID {
		t.Errorf("reconnect after the window on the server's clock: recovered=%v id %v (was %v), want a new socket", again.Recovered, again.ID, first.ID)
	}
}
