package engineio

import (
	"bufio"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzPlainHead holds plainHead to the standard library: whatever header
// it reads, http.ReadRequest reads too, into the same request, and
// net/http's server takes it (one valid Host, valid header names and
// values). Run longer with:
//
//	go test ./server/engineio -run '^$' -fuzz FuzzPlainHead -fuzztime 5m
func FuzzPlainHead(f *testing.F) {
	for _, seed := range []string{
		"GET /engine.io/?EIO=4&transport=polling&t=PZn1Qx3&sid=uI3Qz8ds7BQ1_t2aAAAB HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive\r\n" +
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\nAccept: */*\r\nOrigin: http://localhost:3000\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n",
		"POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\n\r\n",
		"OPTIONS /socket.io/?EIO=3&transport=polling HTTP/1.1\r\nHost: [::1]:80\r\nAccess-Control-Request-Method: POST\r\n\r\n",
		"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: h\r\nx-a:  b \r\nX-A: c\r\nPragma: no-cache\r\nConnection: close\r\n\r\n",
		"GET /a%20b/?q=%E2%82%AC HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, head string) {
		got := plainHead(head)
		if got == nil {
			return
		}
		want, err := http.ReadRequest(bufio.NewReader(strings.NewReader(head)))
		if err != nil {
			t.Fatalf("plainHead read %q, http.ReadRequest refuses it: %v", head, err)
		}
		if !validForServer([]byte(head), want) {
			t.Fatalf("plainHead read %q, net/http's server refuses its Host or a header", head)
		}
		if got.Method != want.Method || got.URL.String() != want.URL.String() || got.URL.Path != want.URL.Path ||
			got.URL.RawPath != want.URL.RawPath || got.URL.RawQuery != want.URL.RawQuery || got.RequestURI != want.RequestURI ||
			got.Proto != want.Proto || got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor ||
			got.Host != want.Host || got.ContentLength != want.ContentLength || got.Close != want.Close ||
			!reflect.DeepEqual(got.Header, want.Header) || len(want.TransferEncoding) != 0 {
			t.Fatalf("%q:\nplainHead        %s %s %s host %q length %d close %v %v\nhttp.ReadRequest %s %s %s host %q length %d close %v %v",
				head, got.Method, got.URL, got.RequestURI, got.Host, got.ContentLength, got.Close, got.Header,
				want.Method, want.URL, want.RequestURI, want.Host, want.ContentLength, want.Close, want.Header)
		}
	})
}
