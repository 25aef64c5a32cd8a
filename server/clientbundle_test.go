package server

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// mustClientDist is the absolute path of socket.io 4.8.4's client-dist
// folder in the Node harness: a test server's SOCKETIO_CLIENT_DIR (the
// default is relative to the working directory).
func mustClientDist(t *testing.T) string {
	t.Helper()
	mustInstallNodeRedis(t)
	dir, err := filepath.Abs(filepath.Join(nodeRedisDir, "node_modules", "socket.io", "client-dist"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// bundleAnswer is what the bundle comparison looks at: the status, some
// headers (values joined by ", ") and the body, decompressed.
type bundleAnswer struct {
	Status int
	Header map[string]string
	Body   string
}

// bundleHeaders are the headers compared; Date, Connection, Keep-Alive
// and the framing (Node streams chunked, Go sends the length) are not.
var bundleHeaders = []string{"Content-Type", "ETag", "Cache-Control", "Content-Encoding", "Vary", "Access-Control-Allow-Origin"}

// mustBundleRequest sends a request without Go's transparent gzip and
// reads the answer, decompressing its body by its Content-Encoding.
func mustBundleRequest(t *testing.T, method, url string, header map[string]string) bundleAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	var body io.Reader = res.Body
	switch enc := res.Header.Get("Content-Encoding"); {
	case method == http.MethodHead || enc == "":
	case enc == "gzip":
		if body, err = gzip.NewReader(res.Body); err != nil {
			t.Fatalf("%s %s: gzip: %v", method, url, err)
		}
	case enc == "deflate":
		if body, err = zlib.NewReader(res.Body); err != nil {
			t.Fatalf("%s %s: deflate: %v", method, url, err)
		}
	case enc == "br":
		body = brotli.NewReader(res.Body)
	default:
		t.Fatalf("%s %s: Content-Encoding %q", method, url, enc)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	a := bundleAnswer{Status: res.StatusCode, Header: map[string]string{}, Body: string(b)}
	for _, h := range bundleHeaders {
		if v := res.Header.Values(h); len(v) > 0 {
			a.Header[h] = strings.Join(v, ", ")
		}
	}
	return a
}

// TestClientBundleNodeParity: socket.io 4.8.4 on Node and the Go server,
// both on that package's client-dist and with the same CORS settings,
// answer each bundle request with the same status, headers and
// (decompressed) body, less the differences ServeHTTP documents: Vary
// names Accept-Encoding too, and a 304 keeps ETag and Cache-Control.
// The Accept-Encoding cases hold the choice of encoding to Node's
// negotiator; a name that is not the bundle's stays Engine.IO's.
func TestClientBundleNodeParity(t *testing.T) {
	dist := mustClientDist(t)
	origins := []string{"http://localhost:3000", "http://localhost:5173"} // CORS_ORIGINS' default
	nodeURL := mustNodeOptions(t, map[string]any{"cors": map[string]any{"origin": origins, "credentials": true}})
	g := mustStartEnv(t, map[string]string{"SOCKETIO_CLIENT_DIR": dist})

	type tc struct {
		name, method, path string
		header             map[string]string
		wantStatus         int
		wantEncoding       string // Node's Content-Encoding, written out so a change in Node shows
	}
	cases := []tc{}
	for _, name := range clientNames {
		cases = append(cases,
			tc{name + "/plain", "GET", "/socket.io/" + name, nil, 200, ""},
			tc{name + "/gzip", "GET", "/socket.io/" + name, map[string]string{"Accept-Encoding": "gzip"}, 200, "gzip"})
	}
	js := "/socket.io/socket.io.js"
	for _, c := range []struct{ accept, want string }{
		{"gzip, deflate, br, zstd", "gzip"}, // Chromium's: the client's order decides
		{"deflate, gzip, br, zstd", "deflate"},
		{"br", "br"},
		{"BR;q=1", "br"},
		{"gzip;q=0.5, br;q=0.8", "br"},
		{"*", "br"},
		{"identity", ""},
		{"gzip;q=0", ""},
		{"*;q=0.1, gzip;q=0", "br"},
		{"gzip;q=x, deflate", "deflate"},
		{"gzip;q=1, gzip;q=nope", ""},
		{"identity;q=1, deflate;q=0.001", "deflate"},
		{"zstd", ""},
	} {
		cases = append(cases, tc{"accept/" + c.accept, "GET", js, map[string]string{"Accept-Encoding": c.accept}, 200, c.want})
	}
	cases = append(cases,
		tc{"if-none-match", "GET", js, map[string]string{"If-None-Match": `"4.8.4"`}, 304, ""},
		tc{"if-none-match-weak", "GET", js, map[string]string{"If-None-Match": `W/"4.8.4"`}, 304, ""},
		tc{"if-none-match-map", "GET", js + ".map", map[string]string{"If-None-Match": `"4.8.4"`, "Accept-Encoding": "gzip"}, 304, ""},
		tc{"if-none-match-other", "GET", js, map[string]string{"If-None-Match": `"4.8.3"`}, 200, ""},
		tc{"if-none-match-list", "GET", js, map[string]string{"If-None-Match": `"4.8.3", "4.8.4"`}, 200, ""},
		tc{"head", "HEAD", js, map[string]string{"Accept-Encoding": "gzip"}, 200, "gzip"},
		tc{"post", "POST", "/socket.io/socket.io.min.js", nil, 200, ""},
		tc{"query", "GET", js + "?v=4.8.4", nil, 200, ""},
		tc{"allowed-origin", "GET", js, map[string]string{"Origin": origins[0], "Accept-Encoding": "gzip"}, 200, "gzip"},
		tc{"unknown-name", "GET", "/socket.io/socket.io.foo.js", nil, 400, ""},
		tc{"escaped-name", "GET", "/socket.io/socket%2Eio.js", nil, 400, ""},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			node := mustBundleRequest(t, c.method, nodeURL+c.path, c.header)
			got := mustBundleRequest(t, c.method, g.url+c.path, c.header)
			if node.Status != c.wantStatus || node.Header["Content-Encoding"] != c.wantEncoding {
				t.Errorf("Node: %d %v, want %d with Content-Encoding %q", node.Status, node.Header, c.wantStatus, c.wantEncoding)
			}
			want := node
			want.Header = map[string]string{}
			for k, v := range node.Header {
				want.Header[k] = v
			}
			if node.Status == 200 || node.Status == 304 {
				want.Header["Vary"] += ", Accept-Encoding"
				want.Header["ETag"], want.Header["Cache-Control"] = `"4.8.4"`, "public, max-age=0"
			}
			if got.Status != want.Status || !equalHeaders(got.Header, want.Header) || got.Body != want.Body {
				t.Errorf("Go: %d %v (%d bytes), want %d %v (%d bytes)", got.Status, got.Header, len(got.Body), want.Status, want.Header, len(want.Body))
			}
			if c.wantStatus == 200 && c.method != "HEAD" {
				file, err := os.ReadFile(filepath.Join(dist, strings.TrimPrefix(strings.Split(c.path, "?")[0], "/socket.io/")))
				if err != nil || got.Body != string(file) {
					t.Errorf("body of %d bytes is not the file's (%v)", len(got.Body), err)
				}
			}
		})
	}
}

// equalHeaders compares two header maps.
func equalHeaders(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestClientBundleServeClientOff: with SOCKETIO_SERVE_CLIENT=false the
// bundle's names are Engine.IO's, as with Node's serveClient: false.
func TestClientBundleServeClientOff(t *testing.T) {
	dist := mustClientDist(t)
	nodeURL := mustNodeOptions(t, map[string]any{"serveClient": false})
	g := mustStartEnv(t, map[string]string{"SOCKETIO_SERVE_CLIENT": "false", "SOCKETIO_CLIENT_DIR": dist})
	node := mustBundleRequest(t, "GET", nodeURL+"/socket.io/socket.io.js", nil)
	got := mustBundleRequest(t, "GET", g.url+"/socket.io/socket.io.js", nil)
	if node.Status != 400 || node.Body != `{"code":0,"message":"Transport unknown"}` {
		t.Errorf("Node: %+v, want Engine.IO's 400", node)
	}
	if got.Status != node.Status || got.Body != node.Body || got.Header["Content-Type"] != node.Header["Content-Type"] {
		t.Errorf("Go: %+v, Node: %+v", got, node)
	}
}

// TestClientBundleMissing: without a bundle in SOCKETIO_CLIENT_DIR (no
// folder, or no package.json beside it) its names answer the REST API's
// 404 rather than Engine.IO's error, and Socket.IO works as ever. A
// folder with some of the files (socket.io-client's dist of an older
// version) serves those, its ETag the version of the package.json
// above it.
func TestClientBundleMissing(t *testing.T) {
	notFound := `{"message":"Not found.","data":[]}`
	dir := t.TempDir()
	noPackage := filepath.Join(dir, "no-package", "dist")
	partial := filepath.Join(dir, "socket.io-client", "dist")
	for _, d := range []string{noPackage, partial} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "socket.io.js"), []byte("var io;"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "socket.io-client", "package.json"), []byte(`{"name":"socket.io-client","version":"2.5.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// An answer as "status body", with the ETag after a 200's body.
	answer := func(a bundleAnswer) string {
		if a.Status == 200 {
			return "200 " + a.Body + " " + a.Header["ETag"]
		}
		return strconv.Itoa(a.Status) + " " + a.Body
	}
	for _, c := range []struct {
		name, dir string
		want      map[string]string // by file name
	}{
		{"no-folder", filepath.Join(dir, "nowhere"), map[string]string{"socket.io.js": "404 " + notFound, "socket.io.min.js.map": "404 " + notFound}},
		{"no-package.json", noPackage, map[string]string{"socket.io.js": "404 " + notFound}},
		{"partial", partial, map[string]string{"socket.io.js": `200 var io; "2.5.0"`, "socket.io.min.js": "404 " + notFound}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := mustStartEnv(t, map[string]string{"SOCKETIO_CLIENT_DIR": c.dir})
			for name, want := range c.want {
				if got := answer(mustBundleRequest(t, "GET", g.url+"/socket.io/"+name, nil)); got != want {
					t.Errorf("%s: %s, want %s", name, got, want)
				}
			}
			if res, body := mustRequest(t, "GET", g.url+handshakePath, "", nil); res.StatusCode != 200 || !strings.HasPrefix(body, "0{") {
				t.Errorf("handshake: %d %q", res.StatusCode, body)
			}
		})
	}
}

// TestClientBundleStartLog: the start-up log says whether the bundle is
// served and from where.
func TestClientBundleStartLog(t *testing.T) {
	dist := mustClientDist(t)
	for _, c := range []struct {
		name string
		cfg  SocketIOConfig
		want []string
	}{
		{"served", SocketIOConfig{Path: "/socket.io", ServeClient: true, ClientDir: dist},
			[]string{"level=INFO", `msg="client bundle served"`, "path=/socket.io/socket.io.js", "dir=" + dist, "version=4.8.4"}},
		{"missing", SocketIOConfig{Path: "/socket.io/", ServeClient: true, ClientDir: "no/such/dir"},
			[]string{"level=WARN", `msg="client bundle not served: `, "its paths answer 404"}},
		{"off", SocketIOConfig{Path: "/socket.io", ServeClient: false, ClientDir: dist},
			[]string{"level=INFO", `msg="client bundle not served: SOCKETIO_SERVE_CLIENT is off`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			loadClientBundle(c.cfg, slog.New(slog.NewTextHandler(&buf, nil)))
			for _, w := range c.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("log %q lacks %q", buf.String(), w)
				}
			}
		})
	}
}

// TestClientBundleOnPollingConnection: a page reloaded in a browser asks
// for the bundle on a keep-alive connection the engine's poller holds
// (it had long-polled on it). The poller hands the request to net/http
// (it carries no EIO=), which streams the file: it arrives whole on the
// same connection even when it is larger than what the poller would hold
// for one client (SOCKETIO_MAX_QUEUED_BYTES at its smallest).
func TestClientBundleOnPollingConnection(t *testing.T) {
	dist := mustClientDist(t)
	g := mustStartEnv(t, map[string]string{"SOCKETIO_CLIENT_DIR": dist, "SOCKETIO_MAX_QUEUED_BYTES": "65536"})
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true}}
	defer client.CloseIdleConnections()
	conns := map[string]bool{}
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conns[i.Conn.LocalAddr().String()] = true }}
	get := func(path string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", g.url+path, nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return res.StatusCode, b
	}
	if status, body := get(handshakePath); status != 200 || !bytes.HasPrefix(body, []byte("0{")) {
		t.Fatalf("handshake: %d %q", status, body)
	}
	file, err := os.ReadFile(filepath.Join(dist, "socket.io.js"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if status, body := get("/socket.io/socket.io.js"); status != 200 || !bytes.Equal(body, file) {
			t.Errorf("bundle: %d, %d bytes, want the file's %d", status, len(body), len(file))
		}
	}
	if status, body := get(handshakePath); status != 200 || !bytes.HasPrefix(body, []byte("0{")) {
		t.Errorf("handshake after: %d %q", status, body)
	}
	if len(conns) != 1 {
		t.Errorf("the requests used %d connections, want one", len(conns))
	}
}

// bundlePage loads the bundle from the Go server named in ?api= with a
// plain <script> tag (no bundler), connects, and records the connection
// and the first posts event.
const bundlePage = `<!doctype html>
<html><head><meta charset="utf-8"><title>bundle</title></head><body>
<script>
  const api = new URLSearchParams(location.search).get('api');
  window.__log = [];
  const s = document.createElement('script');
  s.src = api + '/socket.io/socket.io.js';
  s.onerror = () => { window.__log.push({ ev: 'script_error' }); window.__done = true; };
  s.onload = () => {
    const socket = io(api);
    socket.on('connect', () => window.__log.push({ ev: 'connect' }));
    socket.on('posts', (data) => { window.__log.push({ ev: 'posts', message: data.action + ' ' + data.post.title }); window.__done = true; });
    socket.on('connect_error', (err) => { window.__log.push({ ev: 'connect_error', message: err.message }); window.__done = true; });
  };
  document.head.appendChild(s);
</script></body></html>`

// TestClientBundleBrowser: in headless Chromium, a plain HTML page of
// another origin loads /socket.io/socket.io.js from the Go server,
// connects with the io() it defines, and receives the posts event of a
// post created over REST.
func TestClientBundleBrowser(t *testing.T) {
	needChromium(t)
	mustInstallAdminUI(t) // playwright-core, and cors.mjs that drives the page
	dist := mustClientDist(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			w.WriteHeader(http.StatusNoContent) // no icon
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, bundlePage)
	}))
	t.Cleanup(page.Close)
	g := mustStartEnv(t, map[string]string{"SOCKETIO_CLIENT_DIR": dist, "CORS_ORIGINS": page.URL})

	// The post is created once the page's socket is connected, by a
	// request of the test's own.
	author, _ := mustUser(t, g.url, "bundle@example.com", "Bundle")
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("title", "Through the bundle")
	_ = mw.WriteField("content", "Seen by a page that loaded socket.io.js from the server.")
	fw, _ := mw.CreateFormFile("image", "photo.png")
	_, _ = fw.Write(pngBytes(t, 90))
	_ = mw.Close()
	created := make(chan error, 1)
	g.srv.SocketIO().On("connection", func(args ...any) {
		if _, ok := args[0].(*socket.Socket); !ok {
			return
		}
		go func() {
			req, _ := http.NewRequest("POST", g.url+"/feed/post", bytes.NewReader(form.Bytes()))
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Authorization", "Bearer "+author.token)
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
				if res.StatusCode != 201 {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
			}
			select {
			case created <- err:
			default:
			}
		}()
	})

	out := runBrowserScript(t, map[string]any{"page": page.URL + "/?api=" + g.url, "chromium": chromiumPath, "timeoutMs": 30_000})
	want := []browserEvent{{Ev: "connect"}, {Ev: "posts", Message: "create Through the bundle"}}
	if !slices.Equal(out.Log, want) {
		t.Errorf("page's events %+v, want %+v (console: %q)", out.Log, want, out.Console)
	}
	select {
	case err := <-created:
		if err != nil {
			t.Errorf("create post: %v", err)
		}
	default:
		t.Error("no connection on the server")
	}
}
