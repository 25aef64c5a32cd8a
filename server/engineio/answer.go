package engineio

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Answers written on the poller: the response of a request served there
// (pollerResponse) and the bytes of an answer, as net/http writes them.

// pollerResponse is the http.ResponseWriter of a request served on the
// poller: the answer is put together, then written whole (with its
// Content-Length) when the handler returns, or later (deferred).
type pollerResponse struct {
	h      *httpConn
	header http.Header
	status int
	body   []byte
	// Under h.mu: the handler still runs; the answer comes later; it
	// came.
	inHandler, deferred, done bool
}

func (r *pollerResponse) Header() http.Header { return r.header }

func (r *pollerResponse) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *pollerResponse) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.body = append(r.body, b...)
	return len(b), nil
}

// Flush does nothing: the answer is written whole.
func (r *pollerResponse) Flush() {}

// bytes is the answer on the wire, as net/http would write it.
func (r *pollerResponse) bytes(date []byte) []byte {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	h := r.header
	bodyless := status == http.StatusNoContent || status == http.StatusNotModified || status < 200
	if !bodyless {
		if h.Get("Content-Type") == "" && len(r.body) > 0 {
			h.Set("Content-Type", http.DetectContentType(r.body))
		}
		h.Set("Content-Length", strconv.Itoa(len(r.body)))
	}
	b := appendHead(make([]byte, 0, 256+len(r.body)), h, status, date)
	b = append(b, "\r\n"...)
	if !bodyless {
		b = append(b, r.body...)
	}
	return b
}

// pollerResponseOf is w's pollerResponse, through the writers that wrap
// it (as Gin's does); nil when net/http serves the request.
func pollerResponseOf(w http.ResponseWriter) *pollerResponse {
	for {
		switch v := w.(type) {
		case *pollerResponse:
			return v
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return nil
		}
	}
}

// appendHead appends an HTTP/1.1 status line and the headers of h, in
// the order and form http.Header.Write gives them (keys sorted, line
// breaks in values made spaces), without allocating for a few headers;
// then Date, when date is set and h has none (as net/http adds it).
func appendHead(b []byte, h http.Header, status int, date []byte) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\n"...)
	var array [16]string
	keys := array[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !httpguts.ValidHeaderFieldName(k) {
			continue // as net/http drops it
		}
		for _, v := range h[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			start := len(b)
			b = append(b, v...)
			for i := start; i < len(b); i++ {
				if b[i] == '\r' || b[i] == '\n' {
					b[i] = ' '
				}
			}
			b = b[:start+copy(b[start:], bytes.Trim(b[start:], " \t"))]
			b = append(b, "\r\n"...)
		}
	}
	if _, ok := h["Date"]; !ok && date != nil {
		b = appendDate(b, date)
	}
	return b
}

// appendDate appends a Date header line.
func appendDate(b, date []byte) []byte {
	b = append(b, "Date: "...)
	b = append(b, date...)
	return append(b, "\r\n"...)
}

// rawResponse is a whole response: h must hold Content-Length.
func rawResponse(h http.Header, status int, body, date []byte) []byte {
	b := appendHead(make([]byte, 0, 256+len(body)), h, status, date)
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// date is the Date of answers written now, made once a second.
func (s *Server) date() []byte {
	now := time.Now().Unix()
	if d := s.dateCache.Load(); d != nil && d.unix == now {
		return d.text
	}
	d := &dateText{unix: now, text: []byte(time.Unix(now, 0).UTC().Format(http.TimeFormat))}
	s.dateCache.Store(d)
	return d.text
}

// dateText is a second's Date header value.
type dateText struct {
	unix int64
	text []byte
}
