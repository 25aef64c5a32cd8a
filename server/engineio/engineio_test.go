package engineio

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"feedrt/store/storetest"
)

// testOptions are short timings for tests.
func testOptions() Options {
	return Options{
		PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxPayload: 1_000_000,
		UpgradeTimeout: time.Second, WriteTimeout: time.Second, MaxQueued: 1 << 20, MaxQueuedTotal: 64 << 20,
		AllowEIO3: true, Transports: []string{"polling", "websocket"}, AllowUpgrades: true,
	}
}

// noPings sets a ping interval no test reaches, for tests that compare
// whole polling bodies.
func noPings(o *Options) { o.PingInterval = time.Hour }

// testEngine is an echo server: every message comes back.
type testEngine struct {
	srv    *Server
	hs     *httptest.Server
	states sync.Map // net.Conn → its last http.ConnState on net/http
	url    string   // http://host/engine.io/
	closes chan string
}

// mustEngine starts an echo engine whose polling connections move to
// the poller (as the feed server's do).
func mustEngine(t testing.TB, mod func(*Options)) *testEngine {
	t.Helper()
	return mustEngineOn(t, mod, true)
}

// mustEngineOn is mustEngine; takeOver false keeps polling on net/http.
func mustEngineOn(t testing.TB, mod func(*Options), takeOver bool) *testEngine {
	t.Helper()
	return mustEngineWith(t, engineSetup{options: mod, keepAlive: takeOver})
}

// engineSetup is how a test engine is made: its options, whether
// polling connections move to the poller, the HTTP server's handler
// (default: the engine through a wrapping writer) and settings.
type engineSetup struct {
	options   func(*Options)
	keepAlive bool
	handler   func(*Server) http.Handler
	http      func(*http.Server)
}

// mustEngineServing is mustEngineOn with the HTTP server's handler made
// by handler.
func mustEngineServing(t testing.TB, mod func(*Options), takeOver bool, handler func(*Server) http.Handler) *testEngine {
	t.Helper()
	return mustEngineWith(t, engineSetup{options: mod, keepAlive: takeOver, handler: handler})
}

// mustEngineWith starts a test engine as setup says.
func mustEngineWith(t testing.TB, setup engineSetup) *testEngine {
	t.Helper()
	o := testOptions()
	if setup.options != nil {
		setup.options(&o)
	}
	handler := setup.handler
	if handler == nil {
		handler = func(srv *Server) http.Handler { return wrapped(srv) }
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEngine{srv: srv, closes: make(chan string, 10000)}
	_ = srv.On("connection", func(args ...any) {
		c := args[0].(*Socket)
		_ = c.On("data", func(a ...any) { c.Write(a[0].(io.Reader), nil, nil) })
		_ = c.Once("close", func(a ...any) { e.closes <- a[0].(string) })
	})
	hs := httptest.NewUnstartedServer(handler(srv))
	hs.Config.ConnState = func(c net.Conn, s http.ConnState) { e.states.Store(c, s) }
	hs.Config.IdleTimeout = time.Minute
	if setup.http != nil {
		setup.http(hs.Config)
	}
	hs.Start()
	if setup.keepAlive {
		srv.ServeKeepAlive(KeepAlive{Server: hs.Config, Path: "/engine.io/"})
	}
	t.Cleanup(func() { srv.Close(); hs.Close() })
	e.hs, e.url = hs, hs.URL+"/engine.io/"
	return e
}

// socket is the session sid.
func (e *testEngine) socket(sid string) *Socket {
	e.srv.mu.RLock()
	defer e.srv.mu.RUnlock()
	return e.srv.clients[sid]
}

func (e *testEngine) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(e.url, "http") + "?" + query
}

// request does one HTTP request and returns its status and body.
func request(t testing.TB, client *http.Client, method, url, body string) (int, string) {
	t.Helper()
	return requestBody(t, client, method, url, strings.NewReader(body))
}

// requestBody is request with the body as a reader: one that is not a
// *strings.Reader (or the like) is sent chunked, its size unannounced.
func requestBody(t testing.TB, client *http.Client, method, url string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// pollingSession handshakes on polling and returns the session id and
// the URL of the session's requests.
func pollingSession(t testing.TB, e *testEngine) (sid, url string) {
	t.Helper()
	return pollingSessionWith(t, e, http.DefaultClient)
}

// httpAnswer is an HTTP answer: its status and body.
type httpAnswer struct {
	status int
	body   string
}

// heldGet sends a polling GET for session sid on a goroutine of its own
// and returns once the server holds it; its answer comes on the channel.
func (e *testEngine) heldGet(t testing.TB, sid, url string) <-chan httpAnswer {
	t.Helper()
	ch := make(chan httpAnswer, 1)
	go func() { status, body := request(t, http.DefaultClient, "GET", url, ""); ch <- httpAnswer{status, body} }()
	e.waitHeld(t, sid)
	return ch
}

// waitHeld waits until the server holds a polling GET of session sid.
func (e *testEngine) waitHeld(t testing.TB, sid string) {
	t.Helper()
	storetest.WaitFor(t, "a GET of "+sid+" to be held", func() bool { return e.socket(sid).view.Writable() })
}

// dialWS opens a WebSocket to the engine with query, closed at cleanup.
func (e *testEngine) dialWS(t testing.TB, query string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(e.wsURL(query), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// openWS opens a session on WebSocket (protocol 4) and reads its open
// packet.
func (e *testEngine) openWS(t testing.TB) *websocket.Conn {
	t.Helper()
	ws := e.dialWS(t, "EIO=4&transport=websocket")
	if _, m, _ := ws.ReadMessage(); !strings.HasPrefix(string(m), "0{") {
		t.Fatalf("open packet %q", m)
	}
	return ws
}

// waitClose waits for a session's close reason.
func (e *testEngine) waitClose(t testing.TB) string {
	t.Helper()
	return storetest.Receive(t, "a session to close", e.closes)
}

// TestPollingRoundTrip: a message POSTed comes back on the next GET.
func TestPollingRoundTrip(t *testing.T) {
	e := mustEngine(t, noPings) // the bodies checked hold no ping
	_, url := pollingSession(t, e)
	if status, body := request(t, http.DefaultClient, "POST", url, "4hello\x1e4wörld"); status != 200 || body != "ok" {
		t.Fatalf("POST: %d %q", status, body)
	}
	if status, body := request(t, http.DefaultClient, "GET", url, ""); status != 200 || body != "4hello\x1e4wörld" {
		t.Fatalf("GET: %d %q", status, body)
	}
}

// TestPollingAnswersNotCached: every polling answer, to a GET (the
// handshake, a buffered one, a held one) or a POST, says Cache-Control:
// no-store, as Node's engine.io does, on net/http and on the poller.
func TestPollingAnswersNotCached(t *testing.T) {
	for _, takeOver := range []bool{false, true} {
		e := mustEngineOn(t, noPings, takeOver)
		client := &http.Client{Transport: &http.Transport{}}
		do := func(what, method, url, body string) string {
			t.Helper()
			req, _ := http.NewRequest(method, url, strings.NewReader(body))
			res, err := client.Do(req)
			if err != nil {
				t.Errorf("%s: %v", what, err)
				return ""
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if cc := res.Header.Get("Cache-Control"); res.StatusCode != 200 || cc != "no-store" {
				t.Errorf("poller %v, %s: %d, Cache-Control %q; want 200, no-store", takeOver, what, res.StatusCode, cc)
			}
			return string(b)
		}
		var open struct{ Sid string }
		if b := do("handshake", "GET", e.url+"?EIO=4&transport=polling", ""); !strings.HasPrefix(b, "0{") || json.Unmarshal([]byte(b[1:]), &open) != nil {
			t.Fatalf("handshake: %q", b)
		}
		sid, url := open.Sid, e.url+"?EIO=4&transport=polling&sid="+open.Sid
		do("POST", "POST", url, "4hello")
		do("buffered GET", "GET", url, "")
		done := make(chan struct{})
		go func() { defer close(done); do("held GET", "GET", url, "") }()
		e.waitHeld(t, sid)
		_, _ = request(t, http.DefaultClient, "POST", url, "4again")
		<-done
	}
}

// TestPollingGetCloseRace: a GET and a POST of the close packet sent at
// once, many times: every GET is answered (noop when it waited, 400
// Session ID unknown when the close came first), every POST with "ok".
func TestPollingGetCloseRace(t *testing.T) {
	e := mustEngine(t, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 5 * time.Second}
	for i := range 1000 {
		_, url := pollingSession(t, e)
		var wg sync.WaitGroup
		var getStatus int
		var getBody string
		wg.Go(func() { getStatus, getBody = request(t, client, "GET", url, "") })
		postStatus, postBody := request(t, client, "POST", url, "1")
		wg.Wait()
		if postStatus != 200 || postBody != "ok" {
			t.Fatalf("try %d: POST %d %q", i, postStatus, postBody)
		}
		if !(getStatus == 200 && getBody == "6") && !(getStatus == 400 && strings.Contains(getBody, "Session ID unknown")) {
			t.Fatalf("try %d: GET %d %q, want 200 \"6\" or 400 Session ID unknown", i, getStatus, getBody)
		}
		if r := e.waitClose(t); r != "transport close" {
			t.Fatalf("try %d: close reason %q", i, r)
		}
	}
}

// TestPollingAbortedGet: a client that gives up its waiting GET ends
// the session, as in Node (the suite's "closes the session upon
// cancelled polling request").
func TestPollingAbortedGet(t *testing.T) {
	e := mustEngine(t, noPings)
	sid, url := pollingSession(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	e.waitHeld(t, sid)
	cancel()
	<-done
	if r := e.waitClose(t); r != "transport error" {
		t.Errorf("close reason %q, want transport error", r)
	}
	if status, _ := request(t, http.DefaultClient, "GET", url, ""); status != 400 {
		t.Errorf("GET after the aborted one: %d, want 400", status)
	}
}

// TestPollingCloseBeforeGet: the client's close POST overtook the GET
// sent with it; that GET still gets its noop, the next one 400 (the
// suite's "forcefully closes the session").
func TestPollingCloseBeforeGet(t *testing.T) {
	e := mustEngine(t, noPings)
	_, url := pollingSession(t, e)
	if status, b := request(t, http.DefaultClient, "POST", url, "1"); status != 200 || b != "ok" {
		t.Fatalf("close POST: %d %q", status, b)
	}
	if r := e.waitClose(t); r != "transport close" {
		t.Errorf("close reason %q", r)
	}
	if status, b := request(t, http.DefaultClient, "GET", url, ""); status != 200 || b != "6" {
		t.Errorf("GET after the close: %d %q, want the noop", status, b)
	}
	if status, _ := request(t, http.DefaultClient, "GET", url, ""); status != 400 {
		t.Errorf("next GET: %d, want 400", status)
	}
}

// TestPollingOverlap: a second GET while one waits is refused and ends
// the session; the first GET gets the close packet.
func TestPollingOverlap(t *testing.T) {
	e := mustEngine(t, nil)
	sid, url := pollingSession(t, e)
	first := e.heldGet(t, sid, url)
	if status, _ := request(t, http.DefaultClient, "GET", url, ""); status != 400 {
		t.Errorf("second GET: %d, want 400", status)
	}
	if a := <-first; a.body != "1" {
		t.Errorf("first GET got %q, want the close packet", a.body)
	}
	if r := e.waitClose(t); r != "transport error" {
		t.Errorf("close reason %q", r)
	}
}

// TestPollingOversizedChunkedPost: a body past MaxPayload, its size not
// announced, is refused with 413 and nothing of it is processed (the
// close packet before the cut included); the session goes on.
func TestPollingOversizedChunkedPost(t *testing.T) {
	e := mustEngine(t, noPings) // the bodies checked hold no ping
	_, url := pollingSession(t, e)
	body := io.MultiReader(strings.NewReader("1\x1e4"), strings.NewReader(strings.Repeat("a", 1_000_010)))
	if status, _ := requestBody(t, http.DefaultClient, "POST", url, body); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", status)
	}
	request(t, http.DefaultClient, "POST", url, "4still here")
	if status, b := request(t, http.DefaultClient, "GET", url, ""); status != 200 || b != "4still here" {
		t.Errorf("after the refused body: %d %q", status, b)
	}
}

// TestPollingBufferBound: a session whose client stops polling is closed
// once its buffer passes MaxBuffered.
func TestPollingBufferBound(t *testing.T) {
	e := mustEngine(t, nil)
	sid, url := pollingSession(t, e)
	c := e.socket(sid)
	m := NewMessage([]byte(strings.Repeat("x", 100_000)))
	for range 12 {
		c.WriteMessage(m)
	}
	if r := e.waitClose(t); r != "transport error" {
		t.Errorf("close reason %q", r)
	}
	if status, _ := request(t, http.DefaultClient, "GET", url, ""); status != 400 {
		t.Errorf("GET after the drop: %d, want 400", status)
	}
}

// upgrade probes and upgrades a polling session to WebSocket.
func upgrade(t testing.TB, e *testEngine, sid string) *websocket.Conn {
	t.Helper()
	ws := probe(t, e, sid)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	return ws
}

// probe opens the WebSocket of an upgrade of session sid and probes it;
// the upgrade waits for the client's "5".
func probe(t testing.TB, e *testEngine, sid string) *websocket.Conn {
	t.Helper()
	ws := e.dialWS(t, "EIO=4&transport=websocket&sid="+sid)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != "3probe" {
		t.Fatalf("probe answer %q, %v", m, err)
	}
	return ws
}

// TestUpgrade: a session moves from polling to WebSocket; what was
// buffered follows it in order; the waiting GET is let go with a noop;
// polling requests for the session are refused afterwards.
func TestUpgrade(t *testing.T) {
	e := mustEngine(t, noPings)
	sid, url := pollingSession(t, e)
	waiting := e.heldGet(t, sid, url)
	ws := upgrade(t, e, sid)
	if a := <-waiting; a.body != "6" {
		t.Errorf("waiting GET got %q, want a noop", a.body)
	}
	_ = ws.WriteMessage(websocket.TextMessage, []byte("4over ws"))
	if _, m, _ := ws.ReadMessage(); string(m) != "4over ws" {
		t.Errorf("echo %q", m)
	}
	for _, method := range []string{"GET", "POST"} {
		if status, b := request(t, http.DefaultClient, method, url, "4x"); status != 400 || !strings.Contains(b, `"code":3`) {
			t.Errorf("%s after upgrade: %d %q, want 400 Bad request", method, status, b)
		}
	}
}

// TestPollDuringUpgrade: a GET sent once the probe is answered (racing
// the client's "5") waits for the upgrade and is then refused, as any
// polling request after it (the protocol suite's "should ignore HTTP
// requests with same sid after upgrade").
func TestPollDuringUpgrade(t *testing.T) {
	e := mustEngine(t, noPings)
	sid, url := pollingSession(t, e)
	ws := probe(t, e, sid)
	during := e.heldGet(t, sid, url)
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	if a := <-during; a.status != http.StatusBadRequest {
		t.Errorf("GET during the upgrade: %d, want 400 once upgraded", a.status)
	}
}

// TestHeartbeat: pings every PingInterval, answered; a client that stops
// answering is closed with "ping timeout".
func TestHeartbeat(t *testing.T) {
	e := mustEngine(t, nil)
	ws := e.openWS(t)
	for range 3 {
		if _, m, err := ws.ReadMessage(); err != nil || string(m) != "2" {
			t.Fatalf("got %q, %v, want a ping", m, err)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
	}
	if _, m, _ := ws.ReadMessage(); string(m) != "2" { // not answered
		t.Fatalf("got %q, want a ping", m)
	}
	if r := e.waitClose(t); r != "ping timeout" {
		t.Errorf("close reason %q", r)
	}
}

// TestRequestAfterPingTimeout: a request that comes once a session's
// ping timeout has passed finds the session gone (400, closed for "ping
// timeout"), even when the schedule has not fired the deadline yet, as
// happens under load; the schedule is kept busy here by a timer whose
// callback blocks.
func TestRequestAfterPingTimeout(t *testing.T) {
	e := mustEngine(t, noPings)
	sid, url := pollingSession(t, e)
	c := e.socket(sid)
	busy, release := make(chan struct{}), make(chan struct{})
	blocker := newTimer(func(timerKind, time.Time) { close(busy); <-release })
	e.srv.sched.arm(&blocker, pingDue, time.Now())
	<-busy
	defer close(release)
	e.srv.sched.arm(&c.hb, pongDue, time.Now().Add(-time.Millisecond)) // due, not fired
	// Without the check the GET would be held until the schedule runs.
	client := &http.Client{Timeout: 5 * time.Second}
	req, _ := http.NewRequest("GET", url, nil)
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET after the ping timeout: %v; want 400 Session ID unknown", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(body), "Session ID unknown") {
		t.Errorf("GET after the ping timeout: %d %q, want 400 Session ID unknown", res.StatusCode, body)
	}
	if r := e.waitClose(t); r != "ping timeout" {
		t.Errorf("close reason %q, want ping timeout", r)
	}
}

// TestHeartbeatV3: protocol 3 clients ping; the server answers and
// closes a client that stops pinging.
func TestHeartbeatV3(t *testing.T) {
	e := mustEngine(t, nil)
	ws := e.dialWS(t, "EIO=3&transport=websocket")
	_, _, _ = ws.ReadMessage() // open
	for range 3 {
		_ = ws.WriteMessage(websocket.TextMessage, []byte("2"))
		if _, m, err := ws.ReadMessage(); err != nil || string(m) != "3" {
			t.Fatalf("got %q, %v, want a pong", m, err)
		}
		time.Sleep(200 * time.Millisecond) // the client's pace: within pingInterval + pingTimeout
	}
	if r := e.waitClose(t); r != "ping timeout" {
		t.Errorf("close reason %q", r)
	}
}

// TestBadRequests: Node's error answers.
func TestBadRequests(t *testing.T) {
	e := mustEngine(t, func(o *Options) { o.AllowEIO3 = false })
	for _, tc := range []struct{ method, query, want string }{
		{"GET", "EIO=4&transport=carrier-pigeon", `{"code":0,"message":"Transport unknown"}`},
		{"GET", "EIO=4&transport=polling&sid=nope", `{"code":1,"message":"Session ID unknown"}`},
		{"POST", "EIO=4&transport=polling", `{"code":2,"message":"Bad handshake method"}`},
		{"GET", "EIO=4&transport=websocket", `{"code":3,"message":"Bad request"}`},
		{"GET", "EIO=3&transport=polling", `{"code":5,"message":"Unsupported protocol version"}`},
	} {
		if status, b := request(t, http.DefaultClient, tc.method, e.url+"?"+tc.query, ""); status != 400 || b != tc.want {
			t.Errorf("%s %s: %d %s, want 400 %s", tc.method, tc.query, status, b, tc.want)
		}
	}
}

// TestChildProcessInheritsNoConnection: a process started while
// WebSockets are open (the server's own os/exec, or a test's clients)
// must not inherit their connections. If it did, a connection would stay
// open after the server closed it, and the poller would take its events
// for the next connection given the same descriptor number (which then
// died at once: clients saw "websocket error").
func TestChildProcessInheritsNoConnection(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc")
	}
	e := mustEngine(t, nil)
	for range 3 {
		e.openWS(t)
	}
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	dir := fmt.Sprintf("/proc/%d/fd", child.Process.Pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, _ := os.Readlink(dir + "/" + fd.Name()); strings.HasPrefix(target, "socket:") {
			t.Errorf("the child holds descriptor %s, %s", fd.Name(), target)
		}
	}
}

// TestPollingOnNetHTTP: without ServeKeepAlive, polling stays with
// net/http (a GET waits on its goroutine) and works the same.
func TestPollingOnNetHTTP(t *testing.T) {
	e := mustEngineOn(t, noPings, false)
	sid, url := pollingSession(t, e)
	got := e.heldGet(t, sid, url)
	if status, b := request(t, http.DefaultClient, "POST", url, "4hello"); status != 200 || b != "ok" {
		t.Fatalf("POST: %d %q", status, b)
	}
	if a := <-got; a.status != 200 || a.body != "4hello" {
		t.Errorf("GET: %d %q, want the echo", a.status, a.body)
	}
	if n := e.heldCount(); n != 0 {
		t.Errorf("%d GETs held on the poller, want none", n)
	}
}

// TestPollingMovesToPoller: a polling client's connections leave
// net/http at its first request; a GET with nothing to answer is held on
// the poller, with no goroutine of its own, and answered from there; the
// next polling requests on those connections are served there, and a
// request of another kind goes back to net/http on the same connection.
func TestPollingMovesToPoller(t *testing.T) {
	var plain atomic.Int32
	e := mustEngineServing(t, noPings, true, func(srv *Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/plain" {
				plain.Add(1)
				_, _ = io.WriteString(w, "plain")
				return
			}
			wrapped(srv).ServeHTTP(w, r)
		})
	})
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}} // one connection for everything
	sid, url := pollingSessionWith(t, e, client)
	if d := goroutinesAdded(func() {
		for range 50 { // held GETs from clients without goroutines: the server adds none either
			other, _ := pollingSession(t, e)
			e.rawGet(t, other)
		}
	}); d > 10 {
		t.Errorf("50 held GETs took %d more goroutines, want none", d)
	}
	if n := e.heldCount(); n != 50 {
		t.Errorf("%d GETs held on the poller, want 50", n)
	}
	for i := range 3 {
		if status, b := request(t, client, "POST", url, "4m"+strconv.Itoa(i)); status != 200 || b != "ok" {
			t.Fatalf("POST: %d %q", status, b)
		}
		if status, b := request(t, client, "GET", url, ""); status != 200 || b != "4m"+strconv.Itoa(i) {
			t.Fatalf("GET: %d %q", status, b)
		}
	}
	e.states.Range(func(c, s any) bool {
		if s != http.StateHijacked {
			t.Errorf("a connection left in net/http in state %v", s)
		}
		return true
	})
	conns := map[string]bool{}
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conns[i.Conn.LocalAddr().String()] = true }}
	for range 2 {
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", strings.TrimSuffix(e.url, "/engine.io/")+"/plain", nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != "plain" {
			t.Fatalf("plain request on the moved connection: %d %q", res.StatusCode, b)
		}
	}
	if plain.Load() != 2 || len(conns) != 1 {
		t.Errorf("%d plain requests served on %d connections, want 2 on the one", plain.Load(), len(conns))
	}
	_ = sid
}

// rawGet sends a polling GET for session sid on a connection of its own,
// without a goroutine to read the answer, and returns once it is held.
func (e *testEngine) rawGet(t testing.TB, sid string) *rawConn {
	t.Helper()
	c := dialConn(t, e.addr())
	c.get(pollPath("4", sid), "")
	e.waitHeld(t, sid)
	return c
}

// pollingSessionWith is pollingSession through client.
func pollingSessionWith(t testing.TB, e *testEngine, client *http.Client) (sid, url string) {
	t.Helper()
	status, body := request(t, client, "GET", e.url+"?EIO=4&transport=polling", "")
	if status != 200 {
		t.Fatalf("handshake: %d %q", status, body)
	}
	sid, _ = openData(t, body)
	return sid, e.url + "?EIO=4&transport=polling&sid=" + sid
}

// heldCount is the number of GETs held on the poller.
func (e *testEngine) heldCount() int {
	n := 0
	e.srv.httpConns.Range(func(k, _ any) bool {
		h := k.(*httpConn)
		h.mu.Lock()
		if h.holder != nil {
			n++
		}
		h.mu.Unlock()
		return true
	})
	return n
}

// wrapped serves h with the response writer wrapped, as Gin (or any
// middleware) wraps it.
func wrapped(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(wrapWriter{w}, r) })
}

type wrapWriter struct{ http.ResponseWriter }

func (w wrapWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w wrapWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.ResponseWriter.(http.Hijacker).Hijack()
}

// TestCloseRightAfterNew: a server closed before any connection reached
// its poller closes at once (a start-up that fails after New), and New
// leaves none of its probes on the poller (counted as connections). Each
// round stands for a start whose later step failed.
func TestCloseRightAfterNew(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			s, err := New(testOptions())
			if err != nil {
				t.Error(err)
				return
			}
			if n := s.PollerConns(); n != 0 {
				t.Errorf("%d connections on the poller right after New, want 0 (its probes closed)", n)
			}
			s.Close()
		}
	}()
	storetest.Receive(t, "Close right after New to return", done)
}
