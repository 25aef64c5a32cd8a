package engineio

import (
	"net/http"
	"testing"
	"time"
)

// BenchmarkPollerRequest: what reading one polling GET costs on the
// poller, from its bytes to the request the handler gets (a browser's
// headers). Run:
//
//	go test ./server/engineio -run '^$' -bench PollerRequest -benchmem
func BenchmarkPollerRequest(b *testing.B) {
	head := []byte("GET /engine.io/?EIO=4&transport=polling&t=PZn1Qx3&sid=uI3Qz8ds7BQ1_t2aAAAB HTTP/1.1\r\n" +
		"Host: localhost:8080\r\nConnection: keep-alive\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0\r\n" +
		"Accept: */*\r\nOrigin: http://localhost:3000\r\nReferer: http://localhost:3000/\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n\r\n")
	srv, err := New(testOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ka := &KeepAlive{Server: &http.Server{ReadTimeout: time.Minute}, Path: "/engine.io/"}
	h := &httpConn{srv: srv}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := h.eligible(head, ka); !ok {
			b.Fatal("not eligible")
		}
	}
}
