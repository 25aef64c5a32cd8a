package engineio

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
)

// TestHandshakeRequest: what the Socket.IO layer reads of a rebuilt
// request is what the handshake request had.
func TestHandshakeRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=websocket&x=%20y&x=2", nil)
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two: with colon")
	r.Header.Add("X-Multi", "")
	r.Header.Set("Origin", "http://example.com")
	r.Header.Set("X-Empty", "")
	r.RemoteAddr = "10.0.0.1:1234"
	h := snapshot(r).httpContext()
	if got := h.Request().Header; !reflect.DeepEqual(got, r.Header) {
		t.Errorf("headers\n got %q\nwant %q", got, r.Header)
	}
	if got := h.Query().All(); !reflect.DeepEqual(got, map[string][]string(r.URL.Query())) {
		t.Errorf("query %q, want %q", got, r.URL.Query())
	}
	req := h.Request()
	if req.RequestURI != r.RequestURI || req.RemoteAddr != r.RemoteAddr || req.Host != r.Host || h.Secure() {
		t.Errorf("request %q %q %q secure=%v", req.RequestURI, req.RemoteAddr, req.Host, h.Secure())
	}
	if http.Header(h.Headers().All()).Get("Origin") != "http://example.com" {
		t.Errorf("Origin %q", h.Headers().Peek("Origin"))
	}
}

// TestParseQuery: the engine's query reading agrees with url.ParseQuery
// on what it reads.
func TestParseQuery(t *testing.T) {
	for _, raw := range []string{
		"EIO=4&transport=polling&t=abc&sid=x-_Y1",
		"transport=websocket&transport=polling&EIO=3&EIO=4",
		"EIO=4&transport=polling&b64=1",
		"EIO=4&transport=polling&b64",
		"tr%61nsport=polling&EIO=%34&sid=a%2Bb+c",
		"transport=%zz&transport=polling&sid;=1&sid=ok",
		"&&EIO=4&&",
		"",
		"sid=&transport=",
	} {
		want, _ := url.ParseQuery(raw)
		got := parseQuery(raw)
		if got.transport != want.Get("transport") || got.eio != want.Get("EIO") || got.sid != want.Get("sid") ||
			got.hasSid != want.Has("sid") || got.hasB64 != want.Has("b64") {
			t.Errorf("%q: got %+v, url.ParseQuery %v", raw, got, want)
		}
	}
}

// TestAppendHead: a held GET's head is what http.Header.Write gives.
func TestAppendHead(t *testing.T) {
	for _, h := range []http.Header{
		{},
		{"Access-Control-Allow-Origin": {"http://localhost:3000"}, "Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"}},
		{"X-Many": {"a", " b ", "c\r\nd", "\te\n"}, "Bad Key": {"dropped"}, "": {"dropped"}, "X-Empty": {""}},
	} {
		var want bytes.Buffer
		want.WriteString("HTTP/1.1 200 OK\r\n")
		if err := h.Write(&want); err != nil {
			t.Fatal(err)
		}
		if got := appendHead(nil, h, http.StatusOK, nil); string(got) != want.String() {
			t.Errorf("appendHead(%v) = %q, want %q", h, got, want.String())
		}
	}
	h := http.Header{"Vary": {"Origin"}}
	if n := testing.AllocsPerRun(100, func() { _ = appendHead(make([]byte, 0, 256), h, http.StatusOK, nil) }); n > 1 {
		t.Errorf("appendHead allocates %v times, want only its buffer", n)
	}
}
