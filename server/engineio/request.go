package engineio

import (
	"crypto/tls"
	"net/http"
	"net/url"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// handshakeRequest is what a session keeps of the request that opened
// it: what the Socket.IO layer reads (in buildHandshake: headers, query,
// Origin, secure flag, URL; the remote address), not the request, its
// body, context or response.
type handshakeRequest struct {
	header     http.Header
	path       string
	rawQuery   string
	requestURI string
	host       string
	remoteAddr string
	secure     bool
}

func snapshot(r *http.Request) *handshakeRequest {
	return &handshakeRequest{
		header:     r.Header,
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
		Header:     h.header,
		Host:       h.host,
		RemoteAddr: h.remoteAddr,
		RequestURI: h.requestURI,
	}
	if h.secure {
		r.TLS = &tls.ConnectionState{}
	}
	return types.NewHttpContext(noResponse{}, r)
}

// noResponse is the response side of a rebuilt request context: the
// Socket.IO layer never writes to it.
type noResponse struct{}

func (noResponse) Header() http.Header         { return http.Header{} }
func (noResponse) Write(b []byte) (int, error) { return len(b), nil }
func (noResponse) WriteHeader(int)             {}
