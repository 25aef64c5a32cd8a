package engineio

import (
	"net/http"
	"net/http/httptest"
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
