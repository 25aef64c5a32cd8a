package cors

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

const (
	page  = "http://app.example.test:3000"
	other = "http://evil.example.test"
)

// handlers puts p in front of a Gin engine (as the REST routes use it)
// and in front of a plain handler (as Engine.IO uses it); both answer
// 200 "ok" to whatever gets through.
func handlers(p Policy) (rest, eio http.Handler) {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(p.Gin())
	r.Any("/x", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	return r, p.EngineIO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
}

// servers serves handlers(p) over HTTP.
func servers(t *testing.T, p Policy) (rest, eio *httptest.Server) {
	t.Helper()
	rh, eh := handlers(p)
	rest, eio = httptest.NewServer(rh), httptest.NewServer(eh)
	t.Cleanup(rest.Close)
	t.Cleanup(eio.Close)
	return rest, eio
}

// corsHeaders is the part of an answer the policy decides.
func corsHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
			out[k] = v
		}
	}
	return out
}

func TestPolicy(t *testing.T) {
	base := Options{Origins: []string{page}, Methods: []string{"get", "HEAD", "post"}, Credentials: true}
	with := func(edit func(*Options)) Options {
		o := base
		edit(&o)
		return o
	}
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-token"}
	bare := map[string]string{"Access-Control-Request-Method": "POST"}
	varyOrigin := []string{"Origin"}
	varyBoth := []string{"Origin", "Access-Control-Request-Headers"}

	cases := []struct {
		name     string
		opts     Options
		method   string
		origin   string
		header   map[string]string
		restCode int // the EngineIO side answers 204 to OPTIONS and 200 else
		want     http.Header
	}{
		{"preflight reflects requested headers", base, "OPTIONS", page, preflight, 204, http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Allow-Methods":     {"GET,HEAD,POST"},
			"Access-Control-Allow-Headers":     {"content-type,x-token"},
			"Vary":                             varyBoth,
		}},
		{"preflight without requested headers", base, "OPTIONS", page, bare, 204, http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Allow-Methods":     {"GET,HEAD,POST"},
			"Vary":                             varyBoth,
		}},
		{"preflight with a fixed header list", with(func(o *Options) { o.Headers = []string{"Content-Type", "Authorization"} }), "OPTIONS", page, preflight, 204, http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Allow-Methods":     {"GET,HEAD,POST"},
			"Access-Control-Allow-Headers":     {"Content-Type,Authorization"},
			"Vary":                             varyOrigin,
		}},
		{"preflight max age and exposed headers", with(func(o *Options) { o.MaxAge = 10 * time.Minute; o.ExposedHeaders = []string{"X-Total"} }), "OPTIONS", page, bare, 204, http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Allow-Methods":     {"GET,HEAD,POST"},
			"Access-Control-Max-Age":           {"600"},
			"Access-Control-Expose-Headers":    {"X-Total"},
			"Vary":                             varyBoth,
		}},
		{"preflight without credentials", with(func(o *Options) { o.Credentials = false }), "OPTIONS", page, bare, 204, http.Header{
			"Access-Control-Allow-Origin":  {page},
			"Access-Control-Allow-Methods": {"GET,HEAD,POST"},
			"Vary":                         varyBoth,
		}},
		{"simple request", base, "GET", page, nil, 200, http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             varyOrigin,
		}},
		{"simple request exposes headers, no max age", with(func(o *Options) { o.MaxAge = time.Hour; o.ExposedHeaders = []string{"X-Total", "ETag"} }), "POST", page, nil, 200, http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {"X-Total,ETag"},
			"Vary":                             varyOrigin,
		}},
		{"simple request without credentials", with(func(o *Options) { o.Credentials = false }), "GET", page, nil, 200, http.Header{
			"Access-Control-Allow-Origin": {page},
			"Vary":                        varyOrigin,
		}},
		{"origin compared case-insensitively, list entry with a slash", with(func(o *Options) { o.Origins = []string{"HTTP://App.Example.Test:3000/"} }), "GET", page, nil, 200, http.Header{
			"Access-Control-Allow-Origin":      {page},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             varyOrigin,
		}},
		{"any origin is echoed, never *", with(func(o *Options) { o.Origins = []string{"*"} }), "GET", other, nil, 200, http.Header{
			"Access-Control-Allow-Origin":      {other},
			"Access-Control-Allow-Credentials": {"true"},
			"Vary":                             varyOrigin,
		}},
		{"disallowed origin", base, "GET", other, nil, 403, http.Header{"Vary": varyOrigin}},
		{"disallowed origin's preflight", base, "OPTIONS", other, preflight, 403, http.Header{"Vary": varyOrigin}},
		{"no origin", base, "GET", "", nil, 200, http.Header{"Vary": varyOrigin}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rest, eio := servers(t, New(tc.opts))
			for _, side := range []struct {
				name string
				url  string
				code int
			}{{"REST", rest.URL, tc.restCode}, {"EngineIO", eio.URL, 200}} {
				if tc.method == "OPTIONS" && side.code != 403 {
					side.code = 204
				}
				req, _ := http.NewRequest(tc.method, side.url+"/x", nil)
				if tc.origin != "" {
					req.Header.Set("Origin", tc.origin)
				}
				for k, v := range tc.header {
					req.Header.Set(k, v)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != side.code {
					t.Errorf("%s: status %d, want %d", side.name, res.StatusCode, side.code)
				}
				if got := corsHeaders(res.Header); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: CORS headers\n%v\nwant\n%v", side.name, got, tc.want)
				}
				switch {
				case res.StatusCode == 204 && len(body) != 0:
					t.Errorf("%s: preflight body %q", side.name, body)
				case res.StatusCode == 403 && string(body) != `{"message":"Origin not allowed.","data":[]}`:
					t.Errorf("%s: refusal body %s", side.name, body)
				case res.StatusCode == 200 && string(body) != "ok":
					t.Errorf("%s: body %q, want the handler's", side.name, body)
				}
			}
		})
	}
}

// TestPreflightContentLength: both sides give a preflight's 204 the
// Content-Length: 0 of Node's cors (net/http drops it from the wire;
// the Engine.IO poller does not).
func TestPreflightContentLength(t *testing.T) {
	rest, eio := handlers(New(Options{Origins: []string{page}}))
	for name, h := range map[string]http.Handler{"REST": rest, "EngineIO": eio} {
		for _, origin := range []string{page, ""} {
			req := httptest.NewRequest("OPTIONS", "/x", nil)
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 204 || rec.Header().Get("Content-Length") != "0" || rec.Body.Len() != 0 {
				t.Errorf("%s, Origin %q: %d, Content-Length %q, %d bytes; want 204, 0, none", name, origin, rec.Code, rec.Header().Get("Content-Length"), rec.Body.Len())
			}
		}
	}
}

// TestSameHost: a page of the server's own host is no cross-origin
// caller: let through on both sides and on a WebSocket upgrade, with
// no CORS headers.
func TestSameHost(t *testing.T) {
	rest, eio := servers(t, New(Options{Origins: []string{page}}))
	for _, url := range []string{rest.URL, eio.URL} {
		req, _ := http.NewRequest("GET", url+"/x", nil)
		req.Header.Set("Origin", url)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := corsHeaders(res.Header); res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: %d %v, want 200 without CORS headers", url, res.StatusCode, got)
		}
		if !New(Options{Origins: []string{page}}).AllowsRequest(req) {
			t.Errorf("%s: same-host upgrade refused", url)
		}
	}
}

func TestAllowsRequest(t *testing.T) {
	p := New(Options{Origins: []string{page}})
	for origin, want := range map[string]bool{"": true, page: true, other: false} {
		r := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=websocket", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if got := p.AllowsRequest(r); got != want {
			t.Errorf("AllowsRequest from %q = %v, want %v", origin, got, want)
		}
	}
}

// TestVary: a Vary the handler set already is kept, and not repeated.
func TestVary(t *testing.T) {
	h := http.Header{"Vary": {"Accept-Encoding, origin"}}
	vary(h, "Origin")
	vary(h, "Access-Control-Request-Headers")
	if want := []string{"Accept-Encoding, origin", "Access-Control-Request-Headers"}; !reflect.DeepEqual(h["Vary"], want) {
		t.Errorf("Vary = %q, want %q", h["Vary"], want)
	}
	h = http.Header{"Vary": {"*"}}
	vary(h, "Origin")
	if len(h["Vary"]) != 1 {
		t.Errorf("Vary = %q, want * alone", h["Vary"])
	}
}

func TestCheck(t *testing.T) {
	defaults := Options{
		Origins: []string{"http://localhost:3000", "http://localhost:5173"},
		Methods: []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
	}
	for _, o := range []Options{defaults, {}, {Origins: []string{"*", "https://a.example/", "http://[::1]:8080"}, Headers: []string{"X-Token"}, ExposedHeaders: []string{"*"}, MaxAge: time.Hour}} {
		if err := o.Check(); err != nil {
			t.Errorf("Check(%+v) = %v", o, err)
		}
	}
	bad := Options{
		Origins:        []string{"app.example.com", "https://a.example/path", ""},
		Methods:        []string{"GET", "PO ST"},
		Headers:        []string{"X:Y"},
		ExposedHeaders: []string{""},
		MaxAge:         -time.Second,
	}
	err := bad.Check()
	if err == nil {
		t.Fatal("Check accepted bad settings")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`CORS_ORIGINS: "app.example.com" is not an origin like https://app.example.com`,
		`CORS_ORIGINS: "https://a.example/path" is not an origin like https://app.example.com`,
		`CORS_ORIGINS: "" is not an origin like https://app.example.com`,
		`CORS_METHODS: "PO ST" is not a method like GET`,
		`CORS_HEADERS: "X:Y" is not a header name like Content-Type`,
		`CORS_EXPOSED_HEADERS: "" is not a header name like Content-Type`,
		`CORS_MAX_AGE: -1s is negative`,
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("Check errors:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
