package engineio

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"feedrt/store/storetest"
)

// Transports, AllowUpgrades and Cookie, held to what Node's engine.io
// 6.6 does (lib/server.ts: verify, handshake, attach, abortRequest,
// abortUpgrade; lib/socket.ts: getAvailableUpgrades).

const transportUnknown = `{"code":0,"message":"Transport unknown"}`

// handshakeAnswer does a polling handshake with query and returns its
// answer, its body read.
func handshakeAnswer(t testing.TB, client *http.Client, e *testEngine, query string) (*http.Response, string) {
	t.Helper()
	res, err := client.Get(e.url + "?" + query)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// wantUpgrades checks an open packet's upgrades: an empty list is [], as
// Node writes it, never null.
func wantUpgrades(t testing.TB, what string, got, want []string) {
	t.Helper()
	if got == nil || !slices.Equal(got, want) {
		t.Errorf("%s: upgrades %q, want %q", what, got, want)
	}
}

// rawUpgrade sends a WebSocket upgrade request for query on a new
// connection and returns everything the server writes until it closes.
func rawUpgrade(t testing.TB, e *testEngine, query string) string {
	t.Helper()
	c := dialConn(t, e.addr())
	c.get("/engine.io/?"+query, wsUpgrade)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c.br)
	return string(b)
}

// TestWebSocketOnly: polling is refused as Node's verify refuses an
// unknown transport (400 JSON, before the protocol is looked at); a
// WebSocket opens, with no upgrades offered. An upgrade request on the
// polling transport reaches Node's handleUpgrade (it listens for
// upgrades when WebSocket is allowed), whose abortUpgrade answers on
// the raw connection.
func TestWebSocketOnly(t *testing.T) {
	e := mustEngine(t, func(o *Options) { o.Transports = []string{"websocket"} })
	for _, q := range []string{"EIO=4&transport=polling", "EIO=3&transport=polling", "EIO=4&transport=polling&sid=x"} {
		res, body := handshakeAnswer(t, http.DefaultClient, e, q)
		if res.StatusCode != 400 || body != transportUnknown || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s %q, want 400 application/json %s", q, res.StatusCode, res.Header.Get("Content-Type"), body, transportUnknown)
		}
	}
	for _, eio := range []string{"4", "3"} {
		ws := e.dialWS(t, "EIO="+eio+"&transport=websocket")
		_, m, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		_, upgrades := openData(t, string(m))
		wantUpgrades(t, "EIO="+eio+" WebSocket", upgrades, []string{})
	}
	want := "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: text/html\r\nContent-Length: 17\r\n\r\nTransport unknown"
	if got := rawUpgrade(t, e, "EIO=4&transport=polling"); got != want {
		t.Errorf("upgrade request on polling:\n%q\nwant\n%q", got, want)
	}
}

// TestPollingOnly: no upgrade is offered; a WebSocket, new or the
// upgrade of a session, is refused with 400 JSON "Transport unknown":
// Node listens for upgrades only when WebSocket is allowed, so its HTTP
// server hands the request to the "request" listener (abortRequest).
// The same holds on a connection the poller serves.
func TestPollingOnly(t *testing.T) {
	e := mustEngine(t, func(o *Options) { o.Transports = []string{"polling"} })
	for _, eio := range []string{"4", "3"} {
		res, body := handshakeAnswer(t, http.DefaultClient, e, "EIO="+eio+"&transport=polling")
		if res.StatusCode != 200 {
			t.Fatalf("EIO=%s handshake: %d %q", eio, res.StatusCode, body)
		}
		_, upgrades := openData(t, body)
		wantUpgrades(t, "EIO="+eio+" polling", upgrades, []string{})
	}
	refused := func(what, query string) {
		t.Helper()
		_, res, err := websocket.DefaultDialer.Dial(e.wsURL(query), nil)
		if err == nil {
			t.Fatalf("%s: upgraded", what)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 400 || string(b) != transportUnknown || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s %q, want 400 application/json %s", what, res.StatusCode, res.Header.Get("Content-Type"), b, transportUnknown)
		}
	}
	refused("EIO=4 WebSocket", "EIO=4&transport=websocket")
	refused("EIO=3 WebSocket", "EIO=3&transport=websocket")
	sid, url := pollingSession(t, e)
	refused("upgrade", "EIO=4&transport=websocket&sid="+sid)
	if status, body := request(t, http.DefaultClient, "POST", url, "4still polling"); status != 200 || body != "ok" {
		t.Fatalf("POST after the refused upgrade: %d %q", status, body)
	}
	if status, body := request(t, http.DefaultClient, "GET", url, ""); status != 200 || !strings.Contains(body, "4still polling") {
		t.Fatalf("GET after the refused upgrade: %d %q", status, body)
	}

	// On the poller: a connection whose handshake moved it there.
	conn := dialConn(t, e.addr())
	sid = conn.handshake(t)
	storetest.WaitFor(t, "the connection on the poller", func() bool { return e.srv.PollerConns() > 0 })
	for _, tc := range []struct{ name, header string }{{"a GET", ""}, {"an upgrade", wsUpgrade}} {
		conn.get(wsPath+"&sid="+sid, tc.header)
		if res, b := conn.answer(t); res.StatusCode != 400 || b != transportUnknown {
			t.Errorf("on the poller, %s for the WebSocket transport: %d %q, want 400 %s", tc.name, res.StatusCode, b, transportUnknown)
		}
	}
}

// TestAllowUpgradesOff: polling sessions are offered no upgrade; as in
// Node (allowUpgrades is read by upgrades() alone), a client that
// probes anyway is upgraded.
func TestAllowUpgradesOff(t *testing.T) {
	e := mustEngine(t, func(o *Options) { o.AllowUpgrades = false; noPings(o) })
	for _, eio := range []string{"4", "3"} {
		_, body := handshakeAnswer(t, http.DefaultClient, e, "EIO="+eio+"&transport=polling")
		_, upgrades := openData(t, body)
		wantUpgrades(t, "EIO="+eio, upgrades, []string{})
	}
	sid, _ := pollingSession(t, e)
	ws := upgrade(t, e, sid)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4upgraded"))
	if _, m, _ := ws.ReadMessage(); string(m) != "4upgraded" {
		t.Errorf("echo after the upgrade: %q", m)
	}

	on := mustEngine(t, nil)
	_, body := handshakeAnswer(t, http.DefaultClient, on, "EIO=4&transport=polling")
	_, upgrades := openData(t, body)
	wantUpgrades(t, "AllowUpgrades on", upgrades, []string{"websocket"})
}

// TestCookie: the polling handshake's answer sets the cookie to the
// session id, as the cookie package (0.7) serializes Node's option;
// later requests, and WebSockets (Node's WebSocket transport writes no
// headers), get none.
func TestCookie(t *testing.T) {
	for _, tc := range []struct {
		cookie Cookie
		want   string // with SID for the session id
	}{
		{Cookie{Name: "io", Path: "/", HTTPOnly: true, SameSite: "lax"}, "io=SID; Path=/; HttpOnly; SameSite=Lax"},
		{Cookie{Name: "woot", Path: "/custom", HTTPOnly: true, SameSite: "strict"}, "woot=SID; Path=/custom; HttpOnly; SameSite=Strict"},
		{Cookie{Name: "io", HTTPOnly: true, SameSite: "lax"}, "io=SID; HttpOnly; SameSite=Lax"},
		{Cookie{Name: "io", Path: "/", SameSite: "lax"}, "io=SID; Path=/; SameSite=Lax"},
		{Cookie{Name: "io"}, "io=SID"},
		{Cookie{Name: "sticky", Path: "/", Domain: "example.com", MaxAge: 90*time.Minute + 500*time.Millisecond,
			HTTPOnly: true, Secure: true, SameSite: "none"},
			"sticky=SID; Max-Age=5400; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=None"},
	} {
		e := mustEngine(t, func(o *Options) { o.Cookie = &tc.cookie; noPings(o) })
		client := &http.Client{Transport: &http.Transport{}} // one keep-alive connection: later requests on the poller
		for _, eio := range []string{"4", "3"} {
			res, body := handshakeAnswer(t, client, e, "EIO="+eio+"&transport=polling")
			sid, _ := openData(t, body)
			want := strings.Replace(tc.want, "SID", sid, 1)
			if got := res.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != want {
				t.Errorf("EIO=%s handshake: Set-Cookie %q, want %q", eio, got, want)
			}
			url := e.url + "?EIO=" + eio + "&transport=polling&sid=" + sid
			for _, method := range []string{"POST", "GET"} {
				req, _ := http.NewRequest(method, url, strings.NewReader("4x"))
				if eio == "3" {
					req.Body = io.NopCloser(strings.NewReader("2:4x"))
					req.ContentLength = 4
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || res.Header.Values("Set-Cookie") != nil {
					t.Errorf("EIO=%s %s: %d, Set-Cookie %q; want 200 and none", eio, method, res.StatusCode, res.Header.Values("Set-Cookie"))
				}
			}
		}
		for _, eio := range []string{"4", "3"} {
			ws, res, err := websocket.DefaultDialer.Dial(e.wsURL("EIO="+eio+"&transport=websocket"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Header.Values("Set-Cookie"); got != nil {
				t.Errorf("EIO=%s WebSocket handshake: Set-Cookie %q, want none (as Node)", eio, got)
			}
			ws.Close()
		}
		sid, _ := pollingSession(t, e)
		ws, res, err := websocket.DefaultDialer.Dial(e.wsURL("EIO=4&transport=websocket&sid="+sid), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Header.Values("Set-Cookie"); got != nil {
			t.Errorf("upgrade: Set-Cookie %q, want none", got)
		}
		ws.Close()
	}
}

// TestOptionsRefused: New (check, its first step) refuses transports Node does not know (or
// this engine lacks: webtransport), none at all, and a cookie the
// cookie package would refuse to serialize.
func TestOptionsRefused(t *testing.T) {
	bad := []func(*Options){
		func(o *Options) { o.Transports = nil },
		func(o *Options) { o.Transports = []string{} },
		func(o *Options) { o.Transports = []string{"polling", "webtransport"} },
		func(o *Options) { o.Transports = []string{"Polling"} },
	}
	for _, k := range []Cookie{
		{Name: ""}, {Name: "a b"}, {Name: "a;b"}, {Name: "io="}, {Name: "é"},
		{Name: "io", SameSite: "Lax"}, {Name: "io", SameSite: "yes"},
		{Name: "io", Path: "/a;b"}, {Name: "io", Path: "/\n"},
		{Name: "io", Domain: "exa mple.com"}, {Name: "io", Domain: "example.com."},
		{Name: "io", MaxAge: -time.Second}, {Name: "io", MaxAge: time.Millisecond},
	} {
		bad = append(bad, func(o *Options) { o.Cookie = &k })
	}
	for i, mod := range bad {
		o := testOptions()
		mod(&o)
		if err := o.check(); err == nil {
			t.Errorf("case %d (%+v %+v): accepted", i, o.Transports, o.Cookie)
		}
	}
	for _, mod := range []func(*Options){
		func(o *Options) { o.Transports = []string{"websocket"} },
		func(o *Options) { o.Transports = []string{"polling"}; o.AllowUpgrades = false },
		func(o *Options) {
			o.Cookie = &Cookie{Name: "__Host-io!#$%&'*+-.^_`|~", Path: "/socket.io/", Domain: ".example.com", MaxAge: time.Second, SameSite: "none"}
		},
	} {
		o := testOptions()
		mod(&o)
		if err := o.check(); err != nil {
			t.Errorf("%+v %+v: %v", o.Transports, o.Cookie, err)
		}
	}
}
