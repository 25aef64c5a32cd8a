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

// Reading a request's header on the poller. The standard library's
// parser (http.ReadRequest) is the reference: readHead hands it every
// header, unless the header is of the plain form polling clients send,
// which plainHead reads itself at a fraction of the cost (a poll is a
// request per message per client). plainHead takes a strict subset of
// what http.ReadRequest and net/http's server take, and reads it the
// same way: FuzzPlainHead holds the two against each other.

// readHead parses a request header (up to and including its empty line).
func (s *Server) readHead(head []byte) (*http.Request, error) {
	if req := plainHead(string(head)); req != nil {
		return req, nil
	}
	hr := s.headReaders.Get().(*headReader)
	hr.rd.Reset(head)
	hr.br.Reset(&hr.rd)
	req, err := http.ReadRequest(&hr.br)
	hr.rd.Reset(nil)
	s.headReaders.Put(hr)
	return req, err
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
