package engineio

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Reading a request's header on the poller: where it ends (headEnd), what
// it says (readHead) and whether the poller serves the request
// (eligible). The standard library's parser (http.ReadRequest) is the
// reference: readHead hands it every header, unless the header is of the
// plain form polling clients send, which plainHead reads itself at a
// fraction of the cost (a poll is a request per message per client).
// plainHead takes a strict subset of what http.ReadRequest and net/http's
// server take, and reads it the same way: FuzzPlainHead holds the two
// against each other.

// readHead parses a request header (up to and including its empty line);
// plain: plainHead read it.
func (s *Server) readHead(head []byte) (req *http.Request, plain bool, err error) {
	if req := plainHead(string(head)); req != nil {
		return req, true, nil
	}
	hr := s.headReaders.Get().(*headReader)
	hr.rd.Reset(head)
	hr.br.Reset(&hr.rd)
	req, err = http.ReadRequest(&hr.br)
	hr.rd.Reset(nil)
	s.headReaders.Put(hr)
	return req, false, err
}

// headReader reads a request's header for http.ReadRequest; the server
// keeps a few for reuse (they hold no part of a request once it is read).
type headReader struct {
	rd bytes.Reader
	br bufio.Reader
}

// plainHead reads a header of the plain form, or returns nil for any
// other: a GET, POST or OPTIONS of an origin-form target of URL
// characters over HTTP/1.1; CRLF line ends; header names of token
// characters, each followed at once by its colon; values of visible
// ASCII, spaces and tabs; no continuation line; one valid Host; at most
// one Content-Length of up to 18 digits; no Transfer-Encoding, TE or
// Trailer. The request is what http.ReadRequest makes of the same bytes
// (Host taken out of the header into Host). Every value is a part of
// head, which is one string.
func plainHead(head string) *http.Request {
	line, rest, ok := strings.Cut(head, "\r\n")
	if !ok {
		return nil
	}
	var method string
	switch {
	case strings.HasPrefix(line, "GET "):
		method = http.MethodGet
	case strings.HasPrefix(line, "POST "):
		method = http.MethodPost
	case strings.HasPrefix(line, "OPTIONS "):
		method = http.MethodOptions
	default:
		return nil
	}
	target, ok := strings.CutSuffix(line[len(method)+1:], " HTTP/1.1")
	if !ok || target == "" || target[0] != '/' || !urlText(target) {
		return nil
	}
	n := strings.Count(rest, "\r\n") - 1 // header lines, the empty one not counted
	if n < 0 {
		return nil
	}
	hdr := make(http.Header, n)
	values := make([]string, n)
	host, hosts := "", 0
	for i := range n {
		line, rest, _ = strings.Cut(rest, "\r\n")
		name := 0
		for name < len(line) && httpguts.IsTokenRune(rune(line[name])) {
			name++
		}
		if name == 0 || name == len(line) || line[name] != ':' {
			return nil
		}
		v := strings.Trim(line[name+1:], " \t")
		for j := 0; j < len(v); j++ {
			if c := v[j]; (c < 0x20 && c != '\t') || c > 0x7e {
				return nil
			}
		}
		key := textproto.CanonicalMIMEHeaderKey(line[:name])
		switch key {
		case "Host":
			host, hosts = v, hosts+1
			continue
		case "Transfer-Encoding", "Te", "Trailer":
			return nil
		case "Content-Length":
			if _, ok := hdr[key]; ok || v == "" || len(v) > 18 || strings.Trim(v, "0123456789") != "" {
				return nil
			}
		}
		values[i] = v
		if vs, ok := hdr[key]; ok {
			hdr[key] = append(vs, v)
		} else {
			hdr[key] = values[i : i+1 : i+1]
		}
	}
	if rest != "\r\n" || hosts != 1 || !httpguts.ValidHostHeader(host) {
		return nil
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil
	}
	// As http.ReadRequest: "Pragma: no-cache" alone means Cache-Control
	// no-cache too (RFC 7234).
	if pragma, ok := hdr["Pragma"]; ok && pragma[0] == "no-cache" {
		if _, ok := hdr["Cache-Control"]; !ok {
			hdr["Cache-Control"] = []string{"no-cache"}
		}
	}
	req := &http.Request{
		Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, Host: host, RequestURI: target, Body: http.NoBody,
		Close: httpguts.HeaderValuesContainsToken(hdr["Connection"], "close"),
	}
	if cl, ok := hdr["Content-Length"]; ok {
		req.ContentLength, _ = strconv.ParseInt(cl[0], 10, 64)
	}
	return req
}

// urlText: every byte of a request target is one a URL may hold
// unescaped (RFC 3986), and every % starts an escape.
func urlText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// maxHeaderBytes is how much of a request's header net/http reads before
// it answers 431.
func maxHeaderBytes(srv *http.Server) int {
	n := srv.MaxHeaderBytes
	if n <= 0 {
		n = http.DefaultMaxHeaderBytes
	}
	return n + 4096
}

// headEnd is the length of the request header at the start of b, up to
// and including the empty line that ends it (as the standard library
// reads lines: ending in LF, a CR before it dropped); -1 when it has not
// all come.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		case i >= len(b)-1:
			return -1
		}
	}
}

// eligible parses a request header as the standard library does
// (readHead) and reports whether the poller serves the request (see the
// top of the file); a request it does not serve goes back to net/http.
func (h *httpConn) eligible(head []byte, ka *KeepAlive) (*http.Request, bool) {
	req, plain, err := h.srv.readHead(head)
	if err != nil || req.ProtoMajor != 1 || req.ProtoMinor != 1 || req.URL.Host != "" ||
		!strings.HasPrefix(req.URL.EscapedPath(), ka.Path) || req.Close ||
		req.ContentLength < 0 || req.ContentLength > h.srv.opts.MaxPayload || len(req.TransferEncoding) > 0 {
		return nil, false
	}
	switch req.Method {
	case http.MethodGet, http.MethodPost, http.MethodOptions:
	default:
		return nil, false
	}
	// Every Engine.IO client names its protocol in the query; any other
	// request under the path (socket.io's client bundle, hundreds of KB)
	// is an ordinary one, for net/http, which streams it, where the
	// poller would hold it whole against MaxQueued.
	if q := req.URL.RawQuery; !strings.HasPrefix(q, "EIO=") && !strings.Contains(q, "&EIO=") {
		return nil, false
	}
	for _, k := range []string{"Expect", "Upgrade", "Transfer-Encoding"} {
		if _, ok := req.Header[k]; ok {
			return nil, false
		}
	}
	// net/http's server also wants exactly one valid Host, and header
	// names and values it accepts (ReadRequest takes Host out of the
	// header: its lines are counted here). A plain header has them.
	if !plain && !validForServer(head, req) {
		return nil, false
	}
	req.RemoteAddr = h.remote
	return req, true
}

// validForServer: the header http.ReadRequest read as req passes the
// checks net/http's server adds.
func validForServer(head []byte, req *http.Request) bool {
	if hostLines(head) != 1 || !httpguts.ValidHostHeader(req.Host) {
		return false
	}
	for k, vs := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return false
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// wholeBody is the body of a request read whole on the poller.
type wholeBody struct{ bytes.Reader }

func (*wholeBody) Close() error { return nil }

// hostLines counts the header lines named Host.
func hostLines(head []byte) int {
	n := 0
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		// ReadRequest took the header: a name is followed by its colon.
		if len(line) > 4 && line[4] == ':' && bytes.EqualFold(line[:4], []byte("Host")) {
			n++
		}
	}
	return n
}
