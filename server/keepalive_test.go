package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPollerParsesAsNetHTTP: the same raw bytes, sent on a fresh
// connection (net/http reads them) and on a connection that made one
// long-polling request first (the engine's poller reads them), get the
// same answers: as many, of the same status classes, and the connection
// closed (or not) after them. The cases are the request smuggling and
// lax parsing an attack found on the poller, and more of the kind; each
// is followed by a plain request that shows whether the connection is
// still read.
func TestPollerParsesAsNetHTTP(t *testing.T) {
	env := mustStart(t, nil)
	// The plain request after each case: a CORS preflight, the only
	// request answered 204 here.
	const end = "OPTIONS /healthz HTTP/1.1\r\nHost: h\r\nOrigin: http://localhost:3000\r\nAccess-Control-Request-Method: GET\r\n\r\n"
	eio := "/socket.io/?EIO=4&transport=polling"
	cases := []struct{ name, raw string }{
		{"plain", "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"two Content-Lengths", "POST /auth/login HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}GET /nope-smuggled HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"two Content-Lengths, Engine.IO", "POST " + eio + "&sid=x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n40GET /nope-smuggled HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"Content-Length and chunked", "POST /auth/login HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /nope-smuggled HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"Content-Length and chunked, Engine.IO", "POST " + eio + "&sid=x HTTP/1.1\r\nHost: h\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /nope-smuggled HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"no Host", "GET /healthz HTTP/1.1\r\n\r\n"},
		{"no Host, Engine.IO", "GET " + eio + " HTTP/1.1\r\n\r\n"},
		{"two Hosts", "GET " + eio + " HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n"},
		{"bad Host", "GET " + eio + " HTTP/1.1\r\nHost: h/i\r\n\r\n"},
		{"NUL in a value", "GET " + eio + " HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n"},
		{"2 MB header", "GET " + eio + " HTTP/1.1\r\nHost: h\r\nX-A: " + strings.Repeat("a", 2<<20) + "\r\n\r\n"},
		{"identity, chunked", "POST " + eio + "&sid=x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n"},
		{"negative Content-Length", "POST " + eio + "&sid=x HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"},
		{"space before colon", "GET " + eio + " HTTP/1.1\r\nHost: h\r\nX-A : a\r\n\r\n"},
		{"bare LF", "GET " + eio + " HTTP/1.1\nHost: h\n\n"},
		{"bare LF, REST", "GET /healthz HTTP/1.1\nHost: h\n\n"},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{"obs-fold", "GET " + eio + " HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n"},
		{"invalid method", "G@T " + eio + " HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"chunk-size overflow", "POST /auth/login HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n"},
		{"20-digit Content-Length", "POST " + eio + "&sid=x HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n"},
		{"pipelined", "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\nGET " + eio + " HTTP/1.1\r\nHost: h\r\n\r\nGET /nope HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"pipelined, Engine.IO first", "GET " + eio + " HTTP/1.1\r\nHost: h\r\n\r\nGET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"absolute form", "GET http://elsewhere.example" + eio + " HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"HTTP/1.0", "GET " + eio + " HTTP/1.0\r\n\r\n"},
		{"Connection: close", "GET " + eio + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"Expect", "POST " + eio + "&sid=x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n40"},
		{"Expect, unknown", "GET " + eio + " HTTP/1.1\r\nHost: h\r\nExpect: nothing\r\n\r\n"},
		{"CR/LF before a request", "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"Upgrade without WebSocket headers", "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fresh := rawExchange(t, env.url, "", tc.raw+end)
			polled := rawExchange(t, env.url, "GET "+eio+" HTTP/1.1\r\nHost: h\r\n\r\n", tc.raw+end)
			if !slices.Equal(fresh.classes, polled.classes) || fresh.closed != polled.closed {
				t.Errorf("net/http: %v, closed %v; on the poller: %v, closed %v", fresh.classes, fresh.closed, polled.classes, polled.closed)
			}
		})
	}
}

// exchange is what came back for some raw bytes: the status class of
// each answer (2 for 2xx, ...) and whether the connection then closed.
type exchange struct {
	classes []int
	closed  bool
}

// rawExchange opens a connection to base, sends first and reads its
// answer (a polling request: the connection moves to the poller), then
// sends raw and reads answers until the connection closes, the preflight
// at the end of raw is answered (204), or none comes for a while (the
// bytes after the last answer were not a whole request).
func rawExchange(t *testing.T, base, first, raw string) exchange {
	t.Helper()
	c := mustRawConn(t, base)
	defer c.Close()
	if first != "" {
		if res, body := c.roundTrip(t, first); res.StatusCode != 200 {
			t.Fatalf("first request: %d %q", res.StatusCode, body)
		}
	}
	go func() { _, _ = io.WriteString(c, raw) }() // a refusal may come before all is sent
	var ex exchange
	for {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		res, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return ex
		case err != nil:
			ex.closed = true
			return ex
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		ex.classes = append(ex.classes, res.StatusCode/100)
		if res.StatusCode == http.StatusNoContent {
			return ex
		}
		if res.Close {
			_, err := c.br.ReadByte()
			ex.closed = err != nil
			return ex
		}
	}
}
