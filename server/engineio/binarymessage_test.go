package engineio

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"feedrt/store/storetest"
)

// TestBinaryMessage: a binary Message (the msgpack parser's broadcast) is
// one binary WebSocket frame, the same bytes for every protocol 4
// socket; a protocol 4 polling client gets it as "b" + base64; a
// protocol 3 socket gets its own binary frame, the packet type first;
// a message buffered for polling follows an upgrade as the shared frame.
func TestBinaryMessage(t *testing.T) {
	e := mustEngine(t, noPings)
	data := []byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0x00, 0xff}
	m := NewBinaryMessage(data)

	ws4 := e.openWS(t)
	ws3 := e.dialWS(t, "EIO=3&transport=websocket")
	if _, open, _ := ws3.ReadMessage(); !strings.HasPrefix(string(open), "0{") {
		t.Fatalf("v3 open %q", open)
	}
	_, url := pollingSession(t, e)
	upSid, _ := pollingSession(t, e)
	storetest.WaitFor(t, "4 sessions", func() bool { return e.srv.ClientsCount() == 4 })
	e.broadcast(m)

	if typ, got, err := ws4.ReadMessage(); err != nil || typ != websocket.BinaryMessage || !bytes.Equal(got, data) {
		t.Errorf("v4 WebSocket: %d %x %v, want binary %x", typ, got, err, data)
	}
	if typ, got, err := ws3.ReadMessage(); err != nil || typ != websocket.BinaryMessage || !bytes.Equal(got, append([]byte{4}, data...)) {
		t.Errorf("v3 WebSocket: %d %x %v, want binary 04%x", typ, got, err, data)
	}
	want := "b" + base64.StdEncoding.EncodeToString(data)
	if status, body := request(t, http.DefaultClient, "GET", url, ""); status != 200 || body != want {
		t.Errorf("v4 polling: %d %q, want %q", status, body, want)
	}

	// Buffered for polling, then upgraded: the shared binary frame.
	ws := upgrade(t, e, upSid)
	if typ, got, err := ws.ReadMessage(); err != nil || typ != websocket.BinaryMessage || !bytes.Equal(got, data) {
		t.Errorf("after the upgrade: %d %x %v, want binary %x", typ, got, err, data)
	}
}

// TestBinaryMessageCompressedPolling: a binary broadcast's compressed
// polling answer is made once and shared, and holds "b" + base64.
func TestBinaryMessageCompressedPolling(t *testing.T) {
	e := mustEngine(t, func(o *Options) {
		noPings(o)
		o.HTTPCompression, o.CompressionThreshold = true, 1024
	})
	data := bytes.Repeat([]byte{0xc4, 0x10, 1, 2, 3}, 1000)
	m := NewBinaryMessage(data)
	var urls []string
	for range 3 {
		_, url := pollingSession(t, e)
		urls = append(urls, url)
	}
	e.broadcast(m)
	want := "b" + base64.StdEncoding.EncodeToString(data)
	var bodies [][]byte
	for _, url := range urls {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q", res.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if string(plain) != want {
			t.Errorf("answer of %d bytes, not the message's payload", len(plain))
		}
		bodies = append(bodies, body)
	}
	if z := m.zips[0].body; z == nil || !bytes.Equal(bodies[0], z) || !bytes.Equal(bodies[2], z) {
		t.Error("the answers are not the message's one compressed body")
	}
}

// TestBinaryMessageDeflate: with permessage-deflate, a binary message at
// the threshold is compressed once, as a binary frame with RSV1, and
// inflates to the message.
func TestBinaryMessageDeflate(t *testing.T) {
	e := mustEngine(t, deflating)
	conn, _ := dialWebSocket(t, e.addr(), "permessage-deflate")
	if b0, _ := conn.frame(t); b0 != 0x81 {
		t.Fatalf("open frame %#x", b0)
	}
	storetest.WaitFor(t, "the session", func() bool { return e.srv.ClientsCount() == 1 })
	data := []byte(bigText(4 << 10))
	m := NewBinaryMessage(data)
	e.broadcast(m)
	b0, p := conn.frame(t)
	if b0 != 0xc2 || inflateFrame(t, p) != string(data) {
		t.Fatalf("frame %#x of %d bytes, want a compressed binary frame of the message", b0, len(p))
	}
	if m.pmdFrame == nil {
		t.Error("the compressed frame is not the message's")
	}
}
