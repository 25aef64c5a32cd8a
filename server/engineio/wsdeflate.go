package engineio

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Compressed WebSocket messages (RFC 7692's permessage-deflate), as Node
// sends them with its perMessageDeflate option (off by default; a
// threshold of 1024 bytes when on): with Options.PerMessageDeflate, a
// client that offers the extension gets every message of at least
// Options.DeflateThreshold bytes as one compressed frame.
//
// Node's ws keeps a compressor per socket (its context carries from one
// message to the next). Here the extension is negotiated with
// server_no_context_takeover, so a message's compressed frame does not
// depend on the socket: a broadcast is compressed once (Message.deflated)
// and that frame goes to every socket that negotiated it, as its plain
// frame goes to the others. client_no_context_takeover asks the same of
// the client, so each message it sends is inflated on its own with a
// reader from the server's pool, not one kept per connection.

// deflateTail ends every compressed message (a sync flush's empty stored
// block): the sender removes it, the receiver puts it back (RFC 7692,
// 7.2.1 and 7.2.2).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// inflateTail is what an inflater is given after a message: its tail and
// a final empty stored block, so a whole message ends with io.EOF.
var inflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// acceptDeflate is the Sec-WebSocket-Extensions answer to r's offers
// ("" to decline them all): the first permessage-deflate offer this
// server can honour. It compresses with a 32 KiB window, so an offer
// limiting server_max_window_bits below 15 is declined; it asks nothing
// of the client's window (an inflater reads any).
func acceptDeflate(r *http.Request) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Extensions") {
		for offer := range strings.SplitSeq(v, ",") {
			if answer, ok := deflateOffer(offer); ok {
				return answer
			}
		}
	}
	return ""
}

// deflateOffer reads one extension offer: its answer, and whether it is
// a permessage-deflate offer with parameters RFC 7692 allows, each once
// (an offer breaking either is declined, as section 7.1 asks).
func deflateOffer(offer string) (string, bool) {
	params := strings.Split(offer, ";")
	if !strings.EqualFold(strings.TrimSpace(params[0]), "permessage-deflate") {
		return "", false
	}
	answer := "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	seen := map[string]bool{}
	for _, p := range params[1:] {
		k, v, hasValue := strings.Cut(p, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if seen[k] {
			return "", false
		}
		seen[k] = true
		switch k {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasValue {
				return "", false
			}
		case "server_max_window_bits":
			if v != "15" { // out of range, or a smaller window than compress/flate's
				return "", false
			}
			answer += "; server_max_window_bits=15"
		case "client_max_window_bits": // a hint: the client may be limited; the answer need not name it
			if hasValue && !windowBits(v) {
				return "", false
			}
		default:
			return "", false
		}
	}
	return answer, true
}

// windowBits reports whether v is a window size RFC 7692 allows, 8 to
// 15, in decimal without a leading zero.
func windowBits(v string) bool {
	switch v {
	case "8", "9", "10", "11", "12", "13", "14", "15":
		return true
	}
	return false
}

// deflater is a pooled compressor: w writes into out.
type deflater struct {
	w   *flate.Writer
	out []byte
}

func (d *deflater) Write(p []byte) (int, error) {
	d.out = append(d.out, p...)
	return len(p), nil
}

// deflateFrame is the compressed frame (RSV1 set, final) of a message of
// opcode made of parts, compressed with no context: each message begins
// anew (server_no_context_takeover).
func (s *Server) deflateFrame(opcode byte, parts ...[]byte) []byte {
	d, _ := s.deflaters.Get().(*deflater)
	if d == nil {
		d = &deflater{}
		d.w, _ = flate.NewWriter(d, flate.DefaultCompression) // level 6, zlib's default as ws uses it
	}
	d.out = d.out[:0]
	d.w.Reset(d)
	for _, p := range parts {
		_, _ = d.w.Write(p)
	}
	_ = d.w.Flush()
	body := bytes.TrimSuffix(d.out, deflateTail)
	f := wsFrame(opcode, body)
	f[0] |= 0x40 // RSV1: this message is compressed
	if cap(d.out) <= maxPooledAnswer {
		s.deflaters.Put(d)
	}
	s.deflates.Add(1)
	return f
}

// deflated is m's compressed frame, or its plain frame when m is below
// the threshold: made once by the first connection that needs it, then
// shared by every connection that negotiated the extension; it lives as
// long as m and counts with it in the queued total.
func (m *Message) deflated(s *Server) []byte {
	m.pmd.Do(func() {
		if m.binary {
			if int64(len(m.data)) >= s.opts.DeflateThreshold {
				m.pmdFrame = s.deflateFrame(wsBinary, m.data)
			}
		} else if int64(1+len(m.data)) >= s.opts.DeflateThreshold {
			m.pmdFrame = s.deflateFrame(wsText, []byte{typeMessage}, m.data)
		}
		if m.pmdFrame == nil {
			return
		}
		s.holdZipped(m, int64(len(m.pmdFrame)))
	})
	if m.pmdFrame == nil {
		return m.frame
	}
	return m.pmdFrame
}

// messageFrame is the frame t sends for m.
func (t *wsConn) messageFrame(m *Message) []byte {
	if t.deflate {
		return m.deflated(t.c.srv)
	}
	return m.frame
}

// packetFrame is the frame t sends for p: compressed when the extension
// was negotiated, p is at least the threshold and it does not ask to go
// plain (compress(false), as Node's engine.io honours it).
func (t *wsConn) packetFrame(p outPacket) []byte {
	s := t.c.srv
	if !t.deflate || p.plain || int64(wsPayloadSize(p, t.c.protocol)) < s.opts.DeflateThreshold {
		return packetFrame(p, t.c.protocol)
	}
	switch {
	case !p.binary:
		return s.deflateFrame(wsText, []byte{p.typ}, p.data)
	case t.c.protocol == 3:
		return s.deflateFrame(wsBinary, []byte{p.typ - '0'}, p.data)
	}
	return s.deflateFrame(wsBinary, p.data)
}

// wsPayloadSize is the size of p's frame payload, which the threshold is
// held to (as Node's engine.io holds it to the data it hands ws).
func wsPayloadSize(p outPacket, protocol int) int {
	if p.binary && protocol != 3 {
		return len(p.data)
	}
	return 1 + len(p.data)
}

// errTooBig: a compressed message inflates past the payload limit.
var errTooBig = errors.New("engineio: inflated message past the limit")

// inflate is a compressed message's payload, refused (errTooBig) past
// max bytes: it is read a piece at a time, so a small message that would
// inflate to gigabytes costs at most max bytes. Other faults (not
// DEFLATE) are errors too.
func (s *Server) inflate(compressed []byte, max int) ([]byte, error) {
	// One bytes.Reader (an io.ByteReader): flate then reads it directly,
	// with no bufio.Reader of its own per message.
	src := bytes.NewReader(append(compressed, inflateTail...))
	fr, _ := s.inflaters.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else {
		_ = fr.(flate.Resetter).Reset(src, nil)
	}
	defer s.inflaters.Put(fr)
	out := make([]byte, 0, min(max+1, 2*len(compressed)+64))
	for {
		if len(out) == cap(out) {
			if len(out) > max {
				return nil, errTooBig
			}
			grown := make([]byte, len(out), min(2*cap(out), max+1)) // never past max+1
			copy(grown, out)
			out = grown
		}
		n, err := fr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if len(out) > max {
			return nil, errTooBig
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
