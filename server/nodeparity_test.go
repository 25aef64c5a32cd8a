package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// The tests of this file start Node's socket.io 4.8 (testdata/noderedis/
// options.js) and the Go server with the same options, Node's as
// `new Server(httpServer, opts)` takes them and the Go server's as
// environment variables read by LoadConfig, and compare what each
// answers on the wire. Where the two differ on purpose, the difference is
// written out in the test and asserted as it is, so a change on either
// side shows.

// mustNodeOptions starts socket.io on Node with opts (JSON, as given to
// `new Server`) and returns its base URL; the process is killed at
// cleanup.
func mustNodeOptions(t *testing.T, opts map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	return mustNodeScript(t, "options.js", string(raw))
}

// mustNodeScript starts a script of testdata/noderedis that prints
// {"ev":"listening","port":N} once it listens, and returns its base URL;
// the process is killed at cleanup.
func mustNodeScript(t *testing.T, script string, args ...string) string {
	t.Helper()
	mustInstallNodeRedis(t)
	ports := make(chan int, 1)
	servertest.StartNode(t, nodeRedisDir, nil, func(sc *bufio.Scanner, stop <-chan struct{}) {
		for sc.Scan() {
			var m struct {
				Ev   string `json:"ev"`
				Port int    `json:"port"`
			}
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Ev == "listening" {
				ports <- m.Port
			}
		}
	}, append([]string{script}, args...)...)
	port := storetest.Receive(t, "node "+script+" to start", ports)
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// mustStartEnv starts a server configured by the variables vars (as a
// deployment would be), keeping mustStart's test settings.
func mustStartEnv(t *testing.T, vars map[string]string) *testEnv {
	t.Helper()
	return mustStart(t, fromEnv(t, vars))
}

// handshakePath is a polling handshake of Engine.IO 4.
const handshakePath = "/socket.io/?EIO=4&transport=polling"

// mustRequest sends a request with the headers and returns the answer with its
// body read.
func mustRequest(t *testing.T, method, url, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return res, string(b)
}

var openSID = regexp.MustCompile(`^0\{"sid":"([^"]+)"`)

// cookieTrip is what a server's Set-Cookie headers were along one
// session, its session id replaced by <sid>.
type cookieTrip struct {
	Handshake []string // the polling handshake's answer
	Later     []string // the POST and the GET that carry the sid
	WebSocket []string // a direct WebSocket handshake's 101
}

// cookieTrip makes a polling handshake on base, a POST and a GET with the
// sid (the namespace connect and its answer), and a direct WebSocket
// handshake, and collects their Set-Cookie headers.
func mustCookieTrip(t *testing.T, base string) cookieTrip {
	t.Helper()
	res, body := mustRequest(t, "GET", base+handshakePath, "", nil)
	m := openSID.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("handshake on %s: %d %q", base, res.StatusCode, body)
	}
	sid := m[1]
	hide := func(h http.Header) []string {
		var out []string
		for _, v := range h.Values("Set-Cookie") {
			out = append(out, strings.ReplaceAll(v, sid, "<sid>"))
		}
		return out
	}
	trip := cookieTrip{Handshake: hide(res.Header)}

	withSID := base + handshakePath + "&sid=" + sid
	res, body = mustRequest(t, "POST", withSID, "40", map[string]string{"Content-Type": "text/plain;charset=UTF-8"})
	if res.StatusCode != 200 || body != "ok" {
		t.Fatalf("POST 40 on %s: %d %q", base, res.StatusCode, body)
	}
	trip.Later = append(trip.Later, hide(res.Header)...)
	res, body = mustRequest(t, "GET", withSID, "", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(body, "40{") {
		t.Fatalf("GET after 40 on %s: %d %q", base, res.StatusCode, body)
	}
	trip.Later = append(trip.Later, hide(res.Header)...)

	trip.WebSocket = hide(servertest.MustOpen(t, webSocketURL(base)).Res.Header)
	return trip
}

// TestNodeParityCookie: for each of Node's cookie option sets and the
// SOCKETIO_COOKIE* variables that stand for it, the polling handshake's
// Set-Cookie is the same bytes on Node's socket.io and on the Go server
// (each one's sid replaced by <sid>); neither sets a cookie on a later
// request carrying the sid, nor on a direct WebSocket handshake (Node's
// engine.io sets it in the polling transport's headers only).
func TestNodeParityCookie(t *testing.T) {
	for _, tc := range []struct {
		name string
		node any               // Node's cookie option
		env  map[string]string // the Go server's variables
		want string            // Node's Set-Cookie, known here so a change in Node shows too
	}{
		{name: "true", node: true, env: map[string]string{"SOCKETIO_COOKIE": "io"},
			want: "io=<sid>; Path=/; HttpOnly; SameSite=Lax"},
		// The cookie package's maxAge is in seconds (Max-Age=floor(maxAge));
		// SOCKETIO_COOKIE_MAX_AGE is a Go duration written in seconds.
		{name: "strict-maxAge", node: map[string]any{"name": "io", "path": "/", "httpOnly": true, "sameSite": "strict", "maxAge": 86400},
			env: map[string]string{"SOCKETIO_COOKIE": "io", "SOCKETIO_COOKIE_PATH": "/", "SOCKETIO_COOKIE_HTTP_ONLY": "true",
				"SOCKETIO_COOKIE_SAME_SITE": "strict", "SOCKETIO_COOKIE_MAX_AGE": "24h"},
			want: "io=<sid>; Max-Age=86400; Path=/; HttpOnly; SameSite=Strict"},
		{name: "fractional-maxAge", node: map[string]any{"name": "io", "maxAge": 90.7},
			env:  map[string]string{"SOCKETIO_COOKIE": "io", "SOCKETIO_COOKIE_MAX_AGE": "1m30.7s"},
			want: "io=<sid>; Max-Age=90; Path=/; HttpOnly; SameSite=Lax"},
		// path: false writes no Path: SOCKETIO_COOKIE_PATH=false.
		{name: "path-false", node: map[string]any{"name": "sticky", "path": false},
			env:  map[string]string{"SOCKETIO_COOKIE": "sticky", "SOCKETIO_COOKIE_PATH": "false"},
			want: "sticky=<sid>; HttpOnly; SameSite=Lax"},
		{name: "secure-none", node: map[string]any{"name": "io", "secure": true, "sameSite": "none"},
			env:  map[string]string{"SOCKETIO_COOKIE": "io", "SOCKETIO_COOKIE_SECURE": "true", "SOCKETIO_COOKIE_SAME_SITE": "none"},
			want: "io=<sid>; Path=/; HttpOnly; Secure; SameSite=None"},
		{name: "no-httpOnly-no-sameSite", node: map[string]any{"name": "io", "httpOnly": false, "sameSite": false},
			env:  map[string]string{"SOCKETIO_COOKIE": "io", "SOCKETIO_COOKIE_HTTP_ONLY": "false", "SOCKETIO_COOKIE_SAME_SITE": "off"},
			want: "io=<sid>; Path=/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodeURL := mustNodeOptions(t, map[string]any{"cookie": tc.node})
			g := mustStartEnv(t, tc.env)
			node, goTrip := mustCookieTrip(t, nodeURL), mustCookieTrip(t, g.url)

			// Node holds what the cases say Node does.
			if want := (cookieTrip{Handshake: []string{tc.want}}); !tripEqual(node, want) {
				t.Errorf("Node: %+v, want %+v", node, want)
			}
			if want := (cookieTrip{Handshake: []string{tc.want}}); !tripEqual(goTrip, want) {
				t.Errorf("Go: %+v, want %+v (Node: %+v)", goTrip, want, node)
			}
		})
	}

	// Node's maxAge is a number of seconds; SOCKETIO_COOKIE_MAX_AGE is a
	// Go duration, and a bare number is refused rather than read in
	// another unit (the Node options that are milliseconds take one).
	if _, err := loadEnv(map[string]string{"SOCKETIO_COOKIE": "io", "SOCKETIO_COOKIE_MAX_AGE": "86400"}); err == nil ||
		!strings.Contains(err.Error(), "SOCKETIO_COOKIE_MAX_AGE") {
		t.Errorf("SOCKETIO_COOKIE_MAX_AGE=86400: %v, want refused", err)
	}
}

// tripEqual compares two trips, nil and empty lists alike.
func tripEqual(a, b cookieTrip) bool {
	return slices.Equal(a.Handshake, b.Handshake) && slices.Equal(a.Later, b.Later) && slices.Equal(a.WebSocket, b.WebSocket)
}

// rawAnswer is an HTTP answer read off the connection as sent.
type rawAnswer struct {
	Status      int
	ContentType string
	Body        string
}

// mustRawRequest writes req on a new connection to base's host and reads
// the answer; the connection is closed after it.
func mustRawRequest(t *testing.T, base, req string) rawAnswer {
	t.Helper()
	c := mustRawConn(t, base)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	res, body := c.roundTrip(t, req)
	return rawAnswer{res.StatusCode, res.Header.Get("Content-Type"), body}
}

// TestNodeParityTransports: a transport left out of Node's transports
// (SOCKETIO_TRANSPORTS) is refused with the same status, Content-Type and
// body on Node's socket.io and on the Go server: a polling handshake when
// only WebSocket is allowed, a WebSocket upgrade request when only
// polling is.
func TestNodeParityTransports(t *testing.T) {
	upgrade := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n" +
		"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	polling := "GET " + handshakePath + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
	for _, tc := range []struct {
		name    string
		allowed string // Node's transports, SOCKETIO_TRANSPORTS
		request string
		want    rawAnswer
	}{
		{"websocket-only/polling-handshake", "websocket", polling,
			rawAnswer{400, "application/json", `{"code":0,"message":"Transport unknown"}`}},
		// Node attaches no upgrade listener without WebSocket: the upgrade
		// request is answered as a plain request.
		{"polling-only/websocket-upgrade", "polling", upgrade,
			rawAnswer{400, "application/json", `{"code":0,"message":"Transport unknown"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodeURL := mustNodeOptions(t, map[string]any{"transports": []string{tc.allowed}})
			g := mustStartEnv(t, map[string]string{"SOCKETIO_TRANSPORTS": tc.allowed})
			node, got := mustRawRequest(t, nodeURL, tc.request), mustRawRequest(t, g.url, tc.request)
			if node != tc.want {
				t.Errorf("Node: %+v, want %+v", node, tc.want)
			}
			if got != node {
				t.Errorf("Go: %+v, Node: %+v", got, node)
			}
			// And the allowed transport still works on both.
			for name, base := range map[string]string{"node": nodeURL, "go": g.url} {
				if tc.allowed == "websocket" {
					servertest.MustOpen(t, webSocketURL(base))
				} else if res, body := mustRequest(t, "GET", base+handshakePath, "", nil); res.StatusCode != 200 || !strings.Contains(body, `"upgrades":[]`) {
					t.Errorf("%s: polling handshake %d %q", name, res.StatusCode, body)
				}
			}
		})
	}
}

// corsHeaders are the answer headers the CORS comparison looks at.
var corsHeaders = []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Expose-Headers", "Vary"}

// corsAnswer is the status and the CORS headers of an answer, each
// header's values joined by ", ".
func corsAnswer(res *http.Response) map[string]string {
	out := map[string]string{"status": strconv.Itoa(res.StatusCode)}
	for _, h := range corsHeaders {
		if v := res.Header.Values(h); len(v) > 0 {
			out[h] = strings.Join(v, ", ")
		}
	}
	return out
}

// TestNodeParityCORSPreflight: the preflight a browser sends before a
// polling handshake with an extra header (socket.io-client's
// extraHeaders), and the handshake itself, get the same status and CORS
// headers from Node's socket.io (its cors option, Node's cors package)
// and from the Go server (CORS_*), for an allowed origin; a refused
// origin is answered as the README says (no CORS headers at all), which
// is less than what Node's cors writes.
func TestNodeParityCORSPreflight(t *testing.T) {
	const origin, other = "http://app.example.test:5173", "http://evil.example.test"
	preflight := map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-tenant"}
	for _, tc := range []struct {
		name string
		node map[string]any    // Node's cors option
		env  map[string]string // the Go server's
		// what both answer to the preflight and to the handshake
		wantPreflight, wantGet map[string]string
	}{
		{name: "reflect-headers",
			node: map[string]any{"origin": []string{origin}, "methods": []string{"GET", "POST"}, "credentials": true},
			env:  map[string]string{"CORS_ORIGINS": origin, "CORS_METHODS": "GET,POST", "CORS_CREDENTIALS": "true"},
			wantPreflight: map[string]string{"status": "204", "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "GET,POST", "Access-Control-Allow-Headers": "x-tenant",
				"Vary": "Origin, Access-Control-Request-Headers"},
			wantGet: map[string]string{"status": "200", "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}},
		{name: "fixed-headers",
			node: map[string]any{"origin": []string{origin}, "methods": []string{"GET", "POST"}, "credentials": true,
				"allowedHeaders": []string{"Content-Type", "Authorization"}},
			env: map[string]string{"CORS_ORIGINS": origin, "CORS_METHODS": "GET,POST", "CORS_CREDENTIALS": "true",
				"CORS_HEADERS": "Content-Type,Authorization"},
			wantPreflight: map[string]string{"status": "204", "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "GET,POST", "Access-Control-Allow-Headers": "Content-Type,Authorization", "Vary": "Origin"},
			wantGet: map[string]string{"status": "200", "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}},
		// cors' maxAge is in seconds, CORS_MAX_AGE a Go duration.
		{name: "maxAge-exposed-no-credentials",
			node: map[string]any{"origin": []string{origin}, "methods": []string{"GET", "POST"}, "credentials": false,
				"maxAge": 600, "exposedHeaders": []string{"X-Request-Id"}},
			env: map[string]string{"CORS_ORIGINS": origin, "CORS_METHODS": "GET,POST", "CORS_CREDENTIALS": "false",
				"CORS_MAX_AGE": "10m", "CORS_EXPOSED_HEADERS": "X-Request-Id"},
			wantPreflight: map[string]string{"status": "204", "Access-Control-Allow-Origin": origin,
				"Access-Control-Allow-Methods": "GET,POST", "Access-Control-Allow-Headers": "x-tenant", "Access-Control-Max-Age": "600",
				"Access-Control-Expose-Headers": "X-Request-Id", "Vary": "Origin, Access-Control-Request-Headers"},
			wantGet: map[string]string{"status": "200", "Access-Control-Allow-Origin": origin,
				"Access-Control-Expose-Headers": "X-Request-Id", "Vary": "Origin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodeURL := mustNodeOptions(t, map[string]any{"cors": tc.node})
			g := mustStartEnv(t, tc.env)
			for name, base := range map[string]string{"node": nodeURL, "go": g.url} {
				res, _ := mustRequest(t, "OPTIONS", base+handshakePath, "", preflight)
				if got := corsAnswer(res); !maps.Equal(got, tc.wantPreflight) {
					t.Errorf("%s: preflight answer %v, want %v", name, got, tc.wantPreflight)
				}
				res, body := mustRequest(t, "GET", base+handshakePath, "", map[string]string{"Origin": origin, "x-tenant": "acme"})
				if got := corsAnswer(res); !maps.Equal(got, tc.wantGet) || !strings.HasPrefix(body, "0{") {
					t.Errorf("%s: handshake answer %v %q, want %v", name, got, body, tc.wantGet)
				}
			}
		})
	}

	// A refused origin: Node's cors still answers the preflight 204 with
	// Vary, -Credentials, -Methods and -Headers (no -Allow-Origin, so the
	// browser refuses); the Go server answers 204 with Vary alone, the
	// difference the cors package documents. The browser's verdict is the
	// same.
	t.Run("refused-origin", func(t *testing.T) {
		nodeOpts := map[string]any{"origin": []string{origin}, "methods": []string{"GET", "POST"}, "credentials": true}
		nodeURL := mustNodeOptions(t, map[string]any{"cors": nodeOpts})
		g := mustStartEnv(t, map[string]string{"CORS_ORIGINS": origin, "CORS_METHODS": "GET,POST", "CORS_CREDENTIALS": "true"})
		refused := maps.Clone(preflight)
		refused["Origin"] = other
		want := map[string]map[string]string{
			"node": {"status": "204", "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "GET,POST",
				"Access-Control-Allow-Headers": "x-tenant", "Vary": "Origin, Access-Control-Request-Headers"},
			"go": {"status": "204", "Vary": "Origin"},
		}
		for name, base := range map[string]string{"node": nodeURL, "go": g.url} {
			res, _ := mustRequest(t, "OPTIONS", base+handshakePath, "", refused)
			if got := corsAnswer(res); !maps.Equal(got, want[name]) {
				t.Errorf("%s: preflight from a refused origin: %v, want %v", name, got, want[name])
			}
		}
	})
}

// corsPageScript connects socket.io-client 4.x (its browser bundle) to the
// server named in ?api= over long-polling with an extra header, which
// makes every request a preflighted one, and records what happens.
const corsPageScript = `  const socket = io(api, { transports: ['polling'], extraHeaders: { 'x-tenant': 'acme' }, reconnection: false });
  socket.on('connect', () => window.__log.push({ ev: 'connect', transport: socket.io.engine.transport.name }));
  socket.on('welcome', (tenant) => { window.__log.push({ ev: 'welcome', tenant }); window.__done = true; });
  socket.on('connect_error', (err) => { window.__log.push({ ev: 'connect_error', message: err.message }); window.__done = true; });`

// mustServePage serves, on an origin of their own, a page that loads the
// client bundle (socket.io-client 4.x's) and runs script, and the bundle,
// and returns the origin (http://127.0.0.1:port). The script finds api,
// the server named in the page's ?api=, and records what happens in
// window.__log, setting window.__done when the test may read it.
func mustServePage(t *testing.T, script string) string {
	t.Helper()
	servertest.MustInstallClients(t)
	bundle := filepath.Join(servertest.ClientsDir, "node_modules", "socket.io-client", "dist", "socket.io.min.js")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html>
<html><head><meta charset="utf-8"></head><body>
<script src="/socket.io.min.js"></script>
<script>
  const api = new URLSearchParams(location.search).get('api');
  window.__log = [];
`+script+`
</script></body></html>`)
	})
	mux.HandleFunc("GET /socket.io.min.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, bundle) })
	// No icon: keeps the 404 Chromium would log off the console.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestNodeParityCORSBrowser: in headless Chromium, a page of an allowed
// origin connects socket.io-client 4.x over long-polling with
// extraHeaders {"x-tenant": "acme"} (so each request is preflighted):
// with CORS_HEADERS unset the preflight's x-tenant is allowed, the socket
// connects and receives the event the server emits on connection, which
// carries the header the server saw; with CORS_HEADERS a list without
// x-tenant, Chromium refuses the handshake after its preflight and the
// client reports connect_error.
func TestNodeParityCORSBrowser(t *testing.T) {
	needChromium(t)
	mustInstallAdminUI(t) // playwright-core
	pageOrigin := mustServePage(t, corsPageScript)
	for _, tc := range []struct {
		name    string
		headers string // CORS_HEADERS
		ok      bool
	}{
		{"reflected", "", true},
		{"fixed-without-x-tenant", "Content-Type,Authorization", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustStartEnv(t, map[string]string{"CORS_ORIGINS": pageOrigin, "CORS_HEADERS": tc.headers})
			connections := make(chan string, 4)
			g.srv.SocketIO().On("connection", func(args ...any) {
				s := args[0].(*socket.Socket)
				tenant := handshakeHeader(s, "x-tenant")
				connections <- tenant
				s.Emit("welcome", tenant)
			})
			out := runBrowserScript(t, map[string]any{
				"page":      pageOrigin + "/?api=" + g.url,
				"chromium":  chromiumPath,
				"timeoutMs": 30_000,
			})
			evs := make([]string, len(out.Log))
			for i, e := range out.Log {
				evs[i] = e.Ev
			}
			if tc.ok {
				want := []browserEvent{{Ev: "connect", Transport: "polling"}, {Ev: "welcome", Tenant: "acme"}}
				if !slices.Equal(out.Log, want) {
					t.Errorf("page's events %+v, want %+v (console: %q)", out.Log, want, out.Console)
				}
				select {
				case tenant := <-connections:
					if tenant != "acme" {
						t.Errorf("server saw x-tenant %q", tenant)
					}
				default:
					t.Error("no connection on the server")
				}
				return
			}
			if !slices.Equal(evs, []string{"connect_error"}) {
				t.Errorf("page's events %+v, want connect_error alone", out.Log)
			}
			// Chromium says why: the preflight's answer did not allow x-tenant.
			if !slices.ContainsFunc(out.Console, func(s string) bool {
				return strings.Contains(s, "x-tenant is not allowed by Access-Control-Allow-Headers in preflight response")
			}) {
				t.Errorf("console %q: want Chromium's refusal of x-tenant by the preflight", out.Console)
			}
			select {
			case tenant := <-connections:
				t.Errorf("the server got a connection (x-tenant %q)", tenant)
			default:
			}
		})
	}
}

// handshakeHeader is the value of a request header of s's handshake.
func handshakeHeader(s *socket.Socket, name string) string {
	for k, v := range s.Handshake().Headers {
		if vs, ok := v.([]string); ok && strings.EqualFold(k, name) {
			return strings.Join(vs, ",")
		}
	}
	return ""
}

// browserEvent is one entry of the page's window.__log.
type browserEvent struct {
	Ev        string `json:"ev"`
	Transport string `json:"transport,omitempty"`
	Tenant    string `json:"tenant,omitempty"`
	Message   string `json:"message,omitempty"`
}

// browserResult is what testdata/adminui/cors.mjs prints last.
type browserResult struct {
	Log     []browserEvent `json:"log"`
	Console []string       `json:"console"`
}

// runBrowserScript runs testdata/adminui/cors.mjs with cfg and returns
// the page's record, which the script prints as its last line.
func runBrowserScript(t *testing.T, cfg map[string]any) browserResult {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The script stops itself after its timeoutMs; this is the backstop.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "cors.mjs", string(raw))
	cmd.Dir = adminUIDir
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cors.mjs: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res browserResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("cors.mjs printed %q: %v", out, err)
	}
	t.Logf("page: %+v, console: %q", res.Log, res.Console)
	return res
}
