package engineio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Compressed long-polling answers, as Node's polling transport makes
// them (its httpCompression option, on by default): a GET's answer of at
// least Options.CompressionThreshold bytes goes out gzip- or
// deflate-encoded (zlib's level 6, Node's default) when the client's
// Accept-Encoding takes either, chosen as Node chooses. A client that
// stays on polling (behind a proxy that blocks WebSocket) then gets a
// post's text in well under half the bytes.
//
// Node compresses each answer for each client. Here the answer of a held
// GET with nothing but one broadcast, the common case, is the
// broadcast's: compressed once per protocol and encoding by the first
// session that answers with it, kept with its Message (Message.zipped)
// and shared by every other; other answers are compressed one by one,
// as Node does.
//
// Where Node differs in form: it streams a compressed answer chunked;
// here it is written whole, with its Content-Length. Neither sends Vary
// (the answers are not to be cached).

// encoding is a Content-Encoding of polling answers.
type encoding uint8

const (
	identity encoding = iota
	encGzip
	encDeflate
)

func (e encoding) String() string {
	switch e {
	case encGzip:
		return "gzip"
	case encDeflate:
		return "deflate"
	}
	return "identity"
}

// requestEncoding is the encoding the answer to a GET may take:
// identity when compression is off.
func (s *Server) requestEncoding(r *http.Request) encoding {
	if !s.opts.HTTPCompression {
		return identity
	}
	return acceptEncoding(r.Header.Values("Accept-Encoding"))
}

// compressible reports whether a GET's answer of packets, n bytes long,
// is compressed for a client accepting enc: at or above the threshold,
// and when a packet asks for it (as in Node, the transport's own noop
// and close do not, nor a message sent with compress false).
func (s *Server) compressible(packets []outPacket, n int, enc encoding) bool {
	if enc == identity || int64(n) < s.opts.CompressionThreshold {
		return false
	}
	for _, p := range packets {
		if !p.plain {
			return true
		}
	}
	return false
}

// pollBody is the body of a GET's answer of packets for a client
// accepting enc, and its Content-Encoding: one broadcast alone is
// answered with its shared compressed body; any other answer is
// compressed on its own when it is compressible.
func (s *Server) pollBody(packets []outPacket, protocol int, supportsBinary bool, enc encoding) (body []byte, text bool, ce encoding) {
	if enc != identity && len(packets) == 1 && packets[0].m != nil {
		if z := packets[0].m.zipped(s, protocol, enc); z != nil {
			return z, true, enc
		}
	}
	body, text = encodePayload(packets, protocol, supportsBinary)
	if !s.compressible(packets, len(body), enc) {
		return body, text, identity
	}
	return s.zip(nil, enc, body), text, enc
}

// zipped is the compressed answer of a GET answered with m alone, for a
// client of protocol accepting enc (nil below the threshold). The first
// session to need it makes it, those that need it meanwhile wait, and
// all share it; it lives as long as m and counts with it in the queued
// total.
func (m *Message) zipped(s *Server, protocol int, enc encoding) []byte {
	slot := int(enc - 1)
	if protocol == 3 {
		slot += 2
	}
	z := &m.zips[slot]
	z.once.Do(func() {
		body, _ := encodePayload([]outPacket{{typ: typeMessage, binary: m.binary, data: m.data}}, protocol, false)
		if int64(len(body)) < s.opts.CompressionThreshold {
			return
		}
		bp := s.answers.Get().(*[]byte)
		*bp = s.zip((*bp)[:0], enc, body)
		z.body = bytes.Clone(*bp)
		if cap(*bp) <= maxPooledAnswer {
			s.answers.Put(bp)
		}
		s.holdZipped(m, int64(len(z.body)))
	})
	return z.body
}

// zip appends body compressed with enc to dst, with a writer from the
// server's pool (a writer holds some hundreds of KiB of tables).
func (s *Server) zip(dst []byte, enc encoding, body []byte) []byte {
	pool := &s.zippers[enc-1]
	z, _ := pool.Get().(*zipper)
	if z == nil {
		z = &zipper{}
		if enc == encGzip {
			z.w, _ = gzip.NewWriterLevel(z, gzip.DefaultCompression)
		} else { // HTTP's deflate is zlib's format, as Node's createDeflate writes it
			z.w, _ = zlib.NewWriterLevel(z, zlib.DefaultCompression)
		}
	}
	z.out = dst
	z.w.Reset(z)
	_, _ = z.w.Write(body)
	_ = z.w.Close()
	dst, z.out = z.out, nil
	pool.Put(z)
	s.zips.Add(1)
	return dst
}

// zipper is a pooled compressor: w writes into out (zipper's Write).
type zipper struct {
	w interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	out []byte
}

func (z *zipper) Write(p []byte) (int, error) {
	z.out = append(z.out, p...)
	return len(p), nil
}

// acceptEncoding picks gzip, deflate or neither for an Accept-Encoding
// header (its values in order, as Node joins repeated ones) as Node's
// engine.io does, with accepts(req).encodings(["gzip", "deflate"])
// (negotiator 0.6): each gets the best entry naming it or "*" (naming it
// beats "*", then the higher q, then the later entry); of those with a q
// above 0 the higher q wins, then naming over "*", then the earlier
// entry, then gzip. So "deflate, gzip" is deflate, "*" gzip, and
// "gzip;q=0, *" deflate. q is read as JavaScript's parseFloat reads it.
func acceptEncoding(values []string) encoding {
	type entry struct {
		s, o int // 1 names it, 0 "*"; its index in the header
		q    float64
	}
	best := [2]entry{{o: -1}, {o: -1}} // gzip, deflate
	i := 0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if name, q, ok := acceptEntry(part); ok {
				for k, want := range [2]string{"gzip", "deflate"} {
					s := 0
					if strings.EqualFold(name, want) {
						s = 1
					} else if name != "*" {
						continue
					}
					if b := best[k]; jsOr(jsOr(float64(b.s-s), b.q-q), float64(b.o-i)) < 0 {
						best[k] = entry{s: s, o: i, q: q}
					}
				}
			}
			i++
		}
	}
	g, d := best[0], best[1]
	switch {
	case !(g.q > 0) && !(d.q > 0): // NaN is no quality either
		return identity
	case !(d.q > 0):
		return encGzip
	case !(g.q > 0):
		return encDeflate
	case jsOr(jsOr(d.q-g.q, float64(d.s-g.s)), float64(g.o-d.o)) > 0:
		return encDeflate
	}
	return encGzip
}

// acceptEntry reads one entry of Accept-Encoding as negotiator does
// (/^\s*([^\s;]+)\s*(?:;(.*))?$/ on the trimmed entry; q is the first
// "q=" parameter, 1 without one, NaN when it is no number).
func acceptEntry(part string) (name string, q float64, ok bool) {
	part = strings.Trim(part, jsSpace)
	n := strings.IndexAny(part, jsSpace+";")
	if part == "" || n == 0 {
		return "", 0, false
	}
	if n < 0 {
		return part, 1, true
	}
	name, rest := part[:n], strings.TrimLeft(part[n:], jsSpace)
	if rest == "" || rest[0] != ';' {
		return "", 0, false
	}
	for param := range strings.SplitSeq(rest[1:], ";") {
		k, v, _ := strings.Cut(strings.Trim(param, jsSpace), "=")
		if k == "q" {
			v, _, _ = strings.Cut(v, "=")
			return name, parseFloatJS(v), true
		}
	}
	return name, 1, true
}

// jsSpace is the white space JavaScript's trim and \s take, in ASCII.
const jsSpace = " \t\n\v\f\r"

// parseFloatJS reads a number at the start of s as JavaScript's
// parseFloat does: what follows it is ignored; NaN when there is none.
func parseFloatJS(s string) float64 {
	s = strings.TrimLeft(s, jsSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		f, _ := strconv.ParseFloat(s[:i]+"Inf", 64)
		return f
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return math.NaN()
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() > 0 {
			end = i
		}
	}
	f, _ := strconv.ParseFloat(s[:end], 64) // out of range: ±Inf, as JavaScript
	return f
}

// jsOr is JavaScript's a || b for numbers: b when a is 0 or NaN.
func jsOr(a, b float64) float64 {
	if a == 0 || math.IsNaN(a) {
		return b
	}
	return a
}
