package engineio

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// handshakeRequest is what a session keeps of the request that opened
// it: what the Socket.IO layer reads (in buildHandshake: headers, query,
// Origin, secure flag, URL; the remote address), not the request, its
// body, context or response.
type handshakeRequest struct {
	// headers holds every header value as a "Key: value\n" line: one
	// string instead of a map, rebuilt into an http.Header on demand
	// (values are substrings of it, so the Socket.IO layer's copies
	// share its bytes).
	headers    string
	path       string
	rawQuery   string
	requestURI string
	host       string
	remoteAddr string
	secure     bool
}

func snapshot(r *http.Request) *handshakeRequest {
	var b strings.Builder
	for k, vs := range r.Header {
		for _, v := range vs {
			b.Grow(len(k) + len(v) + 3)
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return &handshakeRequest{
		headers:    b.String(),
		path:       r.URL.Path,
		rawQuery:   r.URL.RawQuery,
		requestURI: r.RequestURI,
		host:       r.Host,
		remoteAddr: r.RemoteAddr,
		secure:     r.TLS != nil,
	}
}

// httpContext rebuilds a request context from the snapshot for the
// Socket.IO layer, which reads a few fields of it once per namespace
// connection. It is made anew on each call and kept by nobody.
func (h *handshakeRequest) httpContext() *types.HttpContext {
	r := &http.Request{
		Method:     http.MethodGet,
		URL:        &url.URL{Path: h.path, RawQuery: h.rawQuery},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h.header(),
		Host:       h.host,
		RemoteAddr: h.remoteAddr,
		RequestURI: h.requestURI,
	}
	if h.secure {
		r.TLS = &tls.ConnectionState{}
	}
	return types.NewHttpContext(noResponse{}, r)
}

// header rebuilds the request's header (values of a key in their order).
func (h *handshakeRequest) header() http.Header {
	hdr := make(http.Header, strings.Count(h.headers, "\n"))
	for line := range strings.SplitSeq(h.headers, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			hdr[k] = append(hdr[k], v)
		}
	}
	return hdr
}

// noResponse is the response side of a rebuilt request context: the
// Socket.IO layer never writes to it.
type noResponse struct{}

func (noResponse) Header() http.Header         { return http.Header{} }
func (noResponse) Write(b []byte) (int, error) { return len(b), nil }
func (noResponse) WriteHeader(int)             {}
