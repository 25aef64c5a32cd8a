package engineio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// acceptCases are Accept-Encoding headers and what Node's engine.io
// picks for them (accepts 1.3.8, negotiator 0.6.3: the modules of
// testdata/noderef and testdata/noderedis); "-" is no header at all.
var acceptCases = []struct{ header, want string }{
	{"-", ""}, {"", ""}, {"gzip, deflate, br", "gzip"}, {"deflate, gzip", "deflate"}, {"br", ""},
	{"identity", ""}, {"*", "gzip"}, {"deflate", "deflate"}, {"gzip;q=0.5, deflate", "deflate"},
	{"gzip;q=0, *", "deflate"}, {"*;q=0, gzip", "gzip"}, {"gzip;q=0, deflate;q=0", ""}, {"GZIP", "gzip"},
	{"Deflate;q=1.0, gzip;q=1", "deflate"}, {"gzip;q=0.5, deflate;q=0.50", "gzip"}, {"*, deflate", "deflate"},
	{"gzip;q=abc, deflate", "deflate"}, {"gzip;q=, deflate;q=0.1", "deflate"}, {"gzip;Q=0, deflate", "gzip"},
	{"gzip ; q=0.2 , deflate ; q = 0.3", "deflate"}, {"gzip x, deflate", "deflate"}, {";q=1, deflate", "deflate"},
	{"gzip;q=0.1e1, deflate;q=1", "gzip"}, {"gzip;q=.5, deflate;q=0.4", "gzip"}, {"deflate;q=Infinity, gzip", "deflate"},
	{"gzip;q=-1, deflate", "deflate"}, {"gzip;foo=1;q=0.2, deflate;q=0.3", "deflate"}, {"*;q=0.5, gzip;q=0.1", "deflate"},
	{"gzip;q=0.3x, deflate;q=0.2", "gzip"}, {", , deflate, gzip", "deflate"}, {"x-gzip, deflate", "deflate"},
	{"gzip;q=0.8, *;q=0.9", "deflate"}, {"deflate;q=0, *", "gzip"}, {"gzip,deflate", "gzip"}, {"deflate, *", "deflate"},
}

func acceptHeader(h string) []string {
	if h == "-" {
		return nil
	}
	return []string{h}
}

// TestAcceptEncodingAsNode: gzip or deflate is chosen as Node chooses,
// q-values, "*", order and malformed entries included; repeated headers
// count as one joined with commas, as Node joins them.
func TestAcceptEncodingAsNode(t *testing.T) {
	for _, c := range acceptCases {
		got := acceptEncoding(acceptHeader(c.header))
		if want := c.want; (want == "" && got != identity) || (want != "" && got.String() != want) {
			t.Errorf("Accept-Encoding %q: %v, want %q", c.header, got, want)
		}
	}
	if got := acceptEncoding([]string{"br;q=1, gzip;q=0.2", "deflate;q=0.5"}); got != encDeflate {
		t.Errorf("two headers: %v, want deflate", got)
	}
}

// TestAcceptEncodingNodeParity asks Node's own accepts module what it
// picks for acceptCases, so that the table above stays Node's.
func TestAcceptEncodingNodeParity(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	var mod string
	for _, dir := range []string{"noderef", "noderedis"} {
		p, _ := filepath.Abs(filepath.Join("..", "..", "testdata", dir, "node_modules", "accepts"))
		if _, err := os.Stat(p); err == nil {
			mod = p
			break
		}
	}
	if mod == "" {
		t.Skip("accepts is not installed in testdata/noderef or testdata/noderedis")
	}
	headers := make([]*string, len(acceptCases))
	for i, c := range acceptCases {
		if c.header != "-" {
			headers[i] = &c.header
		}
	}
	in, _ := json.Marshal(headers)
	script := `const accepts = require(process.argv[1]);
console.log(JSON.stringify(JSON.parse(process.argv[2]).map(h =>
  accepts({ headers: h === null ? {} : { 'accept-encoding': h } }).encodings(['gzip', 'deflate']) || '')));`
	out, err := exec.Command(node, "-e", script, mod, string(in)).Output()
	if err != nil {
		t.Fatal(err)
	}
	var picks []string
	if err := json.Unmarshal(out, &picks); err != nil || len(picks) != len(acceptCases) {
		t.Fatalf("node said %q: %v", out, err)
	}
	for i, c := range acceptCases {
		if picks[i] != c.want {
			t.Errorf("Accept-Encoding %q: Node picks %q, the table says %q", c.header, picks[i], c.want)
		}
	}
}

// compressing turns compression on with Node's threshold.
func compressing(o *Options) {
	noPings(o)
	o.HTTPCompression, o.CompressionThreshold = true, 1024
}

// rawPoller is a polling client on one raw connection: it sends what
// it is told and reads answers without decoding them.
type rawPoller struct{ *rawConn }

func newRawPoller(t testing.TB, e *testEngine) rawPoller {
	return rawPoller{dialConn(t, e.addr())}
}

// poll sends a polling GET (sid "" is the handshake) of protocol eio
// with Accept-Encoding ae (none when empty).
func (p rawPoller) poll(eio, sid, ae string) {
	h := ""
	if ae != "" {
		h = "Accept-Encoding: " + ae + "\r\n"
	}
	p.get(pollPath(eio, sid), h)
}

// read reads an answer: its headers, its body as sent and decoded.
func (p rawPoller) read(t testing.TB) (h http.Header, raw []byte, body string) {
	t.Helper()
	res, b := p.answer(t)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("answer %d: %q", res.StatusCode, b)
	}
	return res.Header, []byte(b), decode(t, res.Header.Get("Content-Encoding"), []byte(b))
}

// decode undoes a Content-Encoding.
func decode(t testing.TB, ce string, raw []byte) string {
	t.Helper()
	var r io.Reader
	var err error
	switch ce {
	case "":
		return string(raw)
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(raw))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(raw))
	default:
		t.Fatalf("Content-Encoding %q", ce)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// open handshakes a session of protocol eio on p's connection.
func (p rawPoller) open(t testing.TB, eio string) string {
	t.Helper()
	p.poll(eio, "", "gzip, deflate, br")
	h, _, body := p.read(t)
	if h.Get("Content-Encoding") != "" { // an open packet is below the threshold
		t.Fatalf("handshake: %v %q", h, body)
	}
	sid, _ := openData(t, body)
	return sid
}

// payload is the polling payload of one message packet for protocol eio.
func payload(eio, data string) string {
	if eio == "3" {
		return fmt.Sprintf("%d:4%s", len([]rune(data))+1, data)
	}
	return "4" + data
}

// bigText is text of n bytes that compresses about as prose does
// (words drawn at random from a few dozen).
func bigText(n int) string {
	words := strings.Fields(`the a feed shows every new post as it comes in with its title content image
		and author while readers scroll down past older ones some of them write back quickly others only
		look at pictures from last summer trip over mountains lakes cities friends family dinner`)
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
	}
	return b.String()[:n]
}

// TestPollingCompressed: a polling answer at or above the threshold goes
// out in the encoding the client accepts, with Content-Encoding and the
// compressed Content-Length, alike on the poller and on net/http, for a
// GET answered at once and one held, in both protocols; the bytes are
// the same whichever path wrote them.
func TestPollingCompressed(t *testing.T) {
	data := bigText(8 << 10)
	type result struct {
		h   http.Header
		raw []byte
	}
	first := map[string]result{}
	for _, eio := range []string{"4", "3"} {
		for _, takeOver := range []bool{true, false} {
			for _, held := range []bool{false, true} {
				for _, ae := range []string{"gzip, deflate, br", "deflate"} {
					name := fmt.Sprintf("EIO=%s poller=%v held=%v %s", eio, takeOver, held, ae)
					e := mustEngineOn(t, compressing, takeOver)
					p := newRawPoller(t, e)
					sid := p.open(t, eio)
					c := e.socket(sid)
					if held {
						p.poll(eio, sid, ae)
						e.waitHeld(t, sid)
					}
					c.Write(types.NewStringBufferString(data), nil, nil)
					if !held {
						p.poll(eio, sid, ae)
					}
					h, raw, body := p.read(t)
					want := strings.Fields(ae)[0]
					want = strings.TrimSuffix(want, ",")
					if got := h.Get("Content-Encoding"); got != want || body != payload(eio, data) {
						t.Errorf("%s: Content-Encoding %q (want %q), body of %d bytes, want the message", name, got, want, len(body))
					}
					if h.Get("Content-Length") != fmt.Sprint(len(raw)) || len(raw) > len(data)/2 {
						t.Errorf("%s: Content-Length %q for %d bytes compressed from %d", name, h.Get("Content-Length"), len(raw), len(data))
					}
					if h.Get("Content-Type") != "text/plain; charset=UTF-8" || h.Get("Cache-Control") != "no-store" || h.Get("Vary") != "" {
						t.Errorf("%s: headers %v", name, h)
					}
					key := eio + ae
					if f, ok := first[key]; !ok {
						first[key] = result{h, raw}
					} else if !bytes.Equal(f.raw, raw) {
						t.Errorf("%s: other bytes than the first path's", name)
					} else {
						for _, k := range []string{"Content-Type", "Content-Encoding", "Content-Length", "Cache-Control"} {
							if f.h.Get(k) != h.Get(k) {
								t.Errorf("%s: %s %q, the first path's %q", name, k, h.Get(k), f.h.Get(k))
							}
						}
					}
				}
			}
		}
	}
}

// TestPollingNotCompressed: below the threshold, to a client that
// accepts neither encoding, with compression off, or for a message sent
// with compress false, answers go as they are.
func TestPollingNotCompressed(t *testing.T) {
	no := false
	cases := []struct {
		name    string
		opts    func(*Options)
		ae      string
		size    int
		options *packet.Options
	}{
		{"below the threshold", compressing, "gzip", 1022, nil},
		{"no Accept-Encoding", compressing, "", 8 << 10, nil},
		{"br only", compressing, "br", 8 << 10, nil},
		{"identity", compressing, "identity, gzip;q=0", 8 << 10, nil},
		{"compression off", noPings, "gzip, deflate, br", 8 << 10, nil},
		{"compress false", compressing, "gzip, deflate, br", 8 << 10, &packet.Options{Compress: &no}},
	}
	for _, c := range cases {
		for _, takeOver := range []bool{true, false} {
			e := mustEngineOn(t, c.opts, takeOver)
			p := newRawPoller(t, e)
			sid := p.open(t, "4")
			data := bigText(c.size)
			e.socket(sid).Write(types.NewStringBufferString(data), c.options, nil)
			p.poll("4", sid, c.ae)
			h, _, body := p.read(t)
			if h.Get("Content-Encoding") != "" || body != "4"+data {
				t.Errorf("%s (poller %v): Content-Encoding %q, %d bytes", c.name, takeOver, h.Get("Content-Encoding"), len(body))
			}
		}
	}
	// At the threshold exactly, it is compressed (Node: below it is not).
	e := mustEngine(t, compressing)
	p := newRawPoller(t, e)
	sid := p.open(t, "4")
	e.socket(sid).Write(types.NewStringBufferString(bigText(1023)), nil, nil)
	p.poll("4", sid, "gzip")
	if h, _, body := p.read(t); h.Get("Content-Encoding") != "gzip" || len(body) != 1024 {
		t.Errorf("1024 bytes: Content-Encoding %q, %d bytes", h.Get("Content-Encoding"), len(body))
	}
}

// TestBroadcastCompressedOnce: a broadcast that answers many held GETs
// is compressed once per protocol and encoding, and every client gets
// those bytes; an answer of several packets is compressed on its own.
// The compressed copy counts in the queued total while the message does
// and leaves it with it.
func TestBroadcastCompressedOnce(t *testing.T) {
	e := mustEngine(t, compressing)
	type client struct {
		p        rawPoller
		sid, eio string
		ae       string
	}
	var clients []client
	for i := range 40 {
		eio, ae := "4", "gzip, deflate, br"
		if i%4 == 1 {
			ae = "deflate"
		}
		if i%2 == 0 {
			eio = "3"
		}
		p := newRawPoller(t, e)
		clients = append(clients, client{p, p.open(t, eio), eio, ae})
	}
	for _, c := range clients {
		c.p.poll(c.eio, c.sid, c.ae)
		e.waitHeld(t, c.sid)
	}
	data := bigText(8 << 10)
	m := NewMessage([]byte(data))
	zips := e.srv.zips.Load()
	e.broadcast(m)
	if n := e.srv.zips.Load() - zips; n != 3 { // v4 gzip, v4 deflate, v3 gzip
		t.Errorf("%d compressions for 40 held GETs, want 3", n)
	}
	for i, c := range clients {
		h, raw, body := c.p.read(t)
		slot := map[string]int{"gzip": 0, "deflate": 1}[h.Get("Content-Encoding")]
		if c.eio == "3" {
			slot += 2
		}
		if body != payload(c.eio, data) || !bytes.Equal(raw, m.zips[slot].body) {
			t.Errorf("client %d: %q, %d bytes, not the shared answer", i, h.Get("Content-Encoding"), len(raw))
		}
	}
	if q := e.srv.QueuedBytes(); q != 0 {
		t.Errorf("%d bytes queued once every GET was answered", q)
	}
	m.mu.Lock()
	zipMem := m.zipMem
	m.mu.Unlock()
	if want := int64(len(m.zips[0].body) + len(m.zips[1].body) + len(m.zips[2].body)); zipMem != want {
		t.Errorf("the message counts %d bytes of compressed answers, want %d", zipMem, want)
	}

	// With nobody's GET waiting, the message waits in the buffers and
	// counts with its compressed answers; a GET then answers with the
	// message and a packet more, compressed for it alone.
	small := NewMessage([]byte("small"))
	e.broadcast(m)
	e.broadcast(small)
	if q, want := e.srv.QueuedBytes(), m.mem()+small.mem(); q != want {
		t.Errorf("%d bytes queued, want %d (the message with its compressed answers, and the small one)", q, want)
	}
	zips = e.srv.zips.Load()
	c := clients[3] // protocol 4, gzip
	c.p.poll(c.eio, c.sid, c.ae)
	if h, _, body := c.p.read(t); h.Get("Content-Encoding") != "gzip" || body != "4"+data+"\x1e4small" {
		t.Errorf("two packets: %q, %d bytes", h.Get("Content-Encoding"), len(body))
	}
	if n := e.srv.zips.Load() - zips; n != 1 {
		t.Errorf("%d compressions for one answer of two packets, want 1", n)
	}
}
