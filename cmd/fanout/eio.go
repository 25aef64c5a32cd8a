package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/valyala/fasthttp"
)

// A deliberately small Engine.IO v4 / Socket.IO v5 client: just what a
// front end that listens for `posts` does, namespace "/", no acks, no
// binary, no upgrade (a polling client stays on polling). One goroutine per
// client reads, answers pings and time-stamps events; nothing else is done
// on the receive path, so that thousands of them cost little CPU next to
// the server under test.

// Engine.IO packet types (first byte of a text packet).
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioNoop    = '6'
)

// Socket.IO packet types (first byte after the Engine.IO '4').
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioConnectError = '4'
)

// recordSep separates packets in a long-polling payload (Engine.IO v4).
const recordSep = 0x1e

// openPacket is the Engine.IO handshake.
type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

func parseOpen(pkt []byte) (openPacket, error) {
	var o openPacket
	if len(pkt) == 0 || pkt[0] != eioOpen {
		return o, fmt.Errorf("want an Engine.IO open packet, got %q", snippet(pkt))
	}
	if err := json.Unmarshal(pkt[1:], &o); err != nil {
		return o, fmt.Errorf("open packet: %w", err)
	}
	if o.SID == "" || o.PingInterval <= 0 || o.PingTimeout <= 0 {
		return o, fmt.Errorf("open packet lacks sid or ping timings: %q", snippet(pkt))
	}
	return o, nil
}

// liveness is how long a client waits for anything (at least a ping)
// before it gives the connection up, as socket.io-client does.
func (o openPacket) liveness() time.Duration {
	return time.Duration(o.PingInterval+o.PingTimeout)*time.Millisecond + 5*time.Second
}

// client is one simulated front end.
type client struct {
	id      int
	polling bool

	// Written by the client's own goroutine only; read by the runner after
	// that goroutine has ended (runner.wg).
	got        []time.Duration // receipt time of post seq (since runner.base); 0 = not yet
	verified   bool            // the first event was checked in full
	connectDur time.Duration
	connected  time.Duration // when CONNECT was acknowledged (since base); 0 = never
	connErr    error
	dropErr    error // why the connection ended before the run closed it

	closing atomic.Bool // the runner is closing it: errors are expected
	ws      *websocket.Conn
	sid     string
	open    openPacket
	cancel  context.CancelFunc
}

// eventSink is where clients deliver: the runner's shared counters and
// what identifies this run's posts.
type eventSink struct {
	base      time.Time
	marker    []byte // every title of this run starts with marker+seq
	posts     int
	verifyAll bool

	received   atomic.Int64
	duplicates atomic.Int64
	foreign    atomic.Int64 // `posts` events of other runs, or other events
	bad        atomic.Int64

	mu        sync.Mutex
	badSample string
}

// since is the monotonic time since base.
func (s *eventSink) since() time.Duration {
	d := time.Since(s.base)
	if d <= 0 {
		d = 1
	}
	return d
}

func (s *eventSink) noteBad(err error) {
	s.bad.Add(1)
	s.mu.Lock()
	if s.badSample == "" {
		s.badSample = err.Error()
	}
	s.mu.Unlock()
}

// onSocketIO handles one Socket.IO packet (the bytes after the Engine.IO
// '4') received at now. It returns an error when the server ended the
// Socket.IO session.
func (s *eventSink) onSocketIO(c *client, pkt []byte, now time.Duration) error {
	if len(pkt) == 0 {
		return nil
	}
	switch pkt[0] {
	case sioEvent:
		s.onEvent(c, pkt[1:], now)
	case sioDisconnect:
		return errors.New("server sent a Socket.IO DISCONNECT")
	case sioConnectError:
		return fmt.Errorf("server sent CONNECT_ERROR: %s", snippet(pkt[1:]))
	}
	return nil
}

var postsPrefix = []byte(`["posts",`)

// onEvent records an EVENT packet's payload (a JSON array). Only this
// run's `posts` events count; they are found by the marker in the title
// without decoding the JSON, and the first one per client (or every one
// with -verify-all) is decoded in full and checked against the contract.
func (s *eventSink) onEvent(c *client, payload []byte, now time.Duration) {
	if !bytes.HasPrefix(payload, postsPrefix) {
		s.foreign.Add(1)
		return
	}
	i := bytes.Index(payload, s.marker)
	if i < 0 {
		s.foreign.Add(1)
		return
	}
	seq, n := 0, 0
	for _, b := range payload[i+len(s.marker):] {
		if b < '0' || b > '9' || n > 6 {
			break
		}
		seq = seq*10 + int(b-'0')
		n++
	}
	if n == 0 || seq >= s.posts {
		s.noteBad(fmt.Errorf("client %d: event with a bad sequence number: %s", c.id, snippet(payload)))
		return
	}
	if !c.verified || s.verifyAll {
		c.verified = true
		if err := verifyEvent(payload, string(s.marker)); err != nil {
			s.noteBad(fmt.Errorf("client %d: %w", c.id, err))
		}
	}
	if c.got[seq] != 0 {
		s.duplicates.Add(1)
		return
	}
	c.got[seq] = now
	s.received.Add(1)
}

// verifyEvent checks a `posts` create event in full: ["posts",
// {"action":"create","post":Post}] with, when connection state recovery is
// on, the offset as a trailing string argument.
func verifyEvent(payload []byte, marker string) error {
	var args []json.RawMessage
	if err := json.Unmarshal(payload, &args); err != nil {
		return fmt.Errorf("event is not a JSON array: %w", err)
	}
	if len(args) != 2 && len(args) != 3 {
		return fmt.Errorf("event has %d arguments, want the name, the payload and at most an offset", len(args))
	}
	var name string
	if err := json.Unmarshal(args[0], &name); err != nil || name != "posts" {
		return fmt.Errorf("event name %s, want \"posts\"", args[0])
	}
	var ev struct {
		Action string `json:"action"`
		Post   struct {
			ID       string `json:"_id"`
			Title    string `json:"title"`
			Content  string `json:"content"`
			ImageURL string `json:"imageUrl"`
			Creator  struct {
				ID   string `json:"_id"`
				Name string `json:"name"`
			} `json:"creator"`
			CreatedAt string `json:"createdAt"`
			UpdatedAt string `json:"updatedAt"`
		} `json:"post"`
	}
	if err := json.Unmarshal(args[1], &ev); err != nil {
		return fmt.Errorf("event payload: %w", err)
	}
	p := ev.Post
	switch {
	case ev.Action != "create":
		return fmt.Errorf("action %q, want create", ev.Action)
	case len(p.ID) != 24 || len(p.Creator.ID) != 24:
		return fmt.Errorf("post._id %q / creator._id %q: want 24 hex digits", p.ID, p.Creator.ID)
	case !strings.HasPrefix(p.Title, marker):
		return fmt.Errorf("title %q lacks the run's marker", p.Title)
	case p.Content == "" || !strings.HasPrefix(p.ImageURL, "images/") || p.Creator.Name == "" || p.CreatedAt == "" || p.UpdatedAt == "":
		return fmt.Errorf("post lacks a field of the contract: %s", snippet(args[1]))
	}
	if len(args) == 3 {
		var offset string
		if err := json.Unmarshal(args[2], &offset); err != nil {
			return fmt.Errorf("third argument %s is not a string offset", snippet(args[2]))
		}
	}
	return nil
}

// transports holds what clients of one run share to reach the server.
type transports struct {
	wsURL   string // ws://host:port/socket.io/?EIO=4&transport=websocket
	pollURL string // http://host:port/socket.io/?EIO=4&transport=polling
	dialer  *websocket.Dialer
	deflate bool                 // permessage-deflate must be negotiated
	poll    *fasthttp.HostClient // long-polling requests
}

// connectWS opens a WebSocket session and waits for the Socket.IO CONNECT
// acknowledgement.
func (t *transports) connectWS(ctx context.Context, s *eventSink, c *client) error {
	conn, resp, err := t.dialer.DialContext(ctx, t.wsURL, nil)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("websocket handshake: status %d: %w", resp.StatusCode, err)
		}
		return fmt.Errorf("websocket dial: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	if t.deflate && !strings.HasPrefix(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		return errors.New("websocket: the server did not accept permessage-deflate")
	}
	if dl, has := ctx.Deadline(); has {
		_ = conn.SetReadDeadline(dl)
		_ = conn.SetWriteDeadline(dl)
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		return fmt.Errorf("read open packet: %w", err)
	}
	c.open, err = parseOpen(msg)
	if err != nil {
		return err
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte{eioMessage, sioConnect}); err != nil {
		return fmt.Errorf("send CONNECT: %w", err)
	}
	for range 100 { // the CONNECT answer comes first; allow a few pings
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("wait for CONNECT: %w", err)
		}
		now := s.since()
		switch {
		case len(msg) >= 2 && msg[0] == eioMessage && msg[1] == sioConnect:
			c.sid = c.open.SID
			c.ws = conn
			c.connected = now
			ok = true
			_ = conn.SetWriteDeadline(time.Time{})
			return nil
		case len(msg) >= 1 && msg[0] == eioPing:
			if err := conn.WriteMessage(websocket.TextMessage, []byte{eioPong}); err != nil {
				return fmt.Errorf("send pong: %w", err)
			}
		case len(msg) >= 2 && msg[0] == eioMessage:
			if err := s.onSocketIO(c, msg[1:], now); err != nil {
				return err
			}
		case len(msg) >= 1 && msg[0] == eioClose:
			return errors.New("server closed the session during the handshake")
		}
	}
	return errors.New("no CONNECT acknowledgement in the first 100 packets")
}

// wsBufs recycles message buffers between WebSocket reads, so that an
// idle client holds none.
var wsBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readWS is a WebSocket client's life after CONNECT. The read deadline is
// renewed on each ping, which the server sends every pingInterval, so a
// dead server is noticed as socket.io-client notices it without a timer
// update per message.
func (t *transports) readWS(s *eventSink, c *client) {
	conn := c.ws
	wait := c.open.liveness()
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	for {
		_, rd, err := conn.NextReader()
		if err == nil {
			buf := wsBufs.Get().(*bytes.Buffer)
			buf.Reset()
			_, err = buf.ReadFrom(rd)
			if err == nil {
				err = t.onWSMessage(s, c, buf.Bytes(), s.since(), wait)
			}
			wsBufs.Put(buf)
		}
		if err != nil {
			if !c.closing.Load() && c.dropErr == nil {
				c.dropErr = err
			}
			conn.Close()
			return
		}
	}
}

// onWSMessage handles one Engine.IO packet received over WebSocket at
// now; an error ends the client.
func (t *transports) onWSMessage(s *eventSink, c *client, msg []byte, now, wait time.Duration) error {
	if len(msg) == 0 {
		return nil
	}
	switch msg[0] {
	case eioMessage:
		return s.onSocketIO(c, msg[1:], now)
	case eioPing:
		_ = c.ws.SetReadDeadline(time.Now().Add(wait))
		_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte{eioPong}); err != nil {
			return fmt.Errorf("send pong: %w", err)
		}
	case eioClose:
		return errors.New("server sent an Engine.IO close")
	}
	return nil
}

// pollGet is one long-polling GET; it returns the payload's packets. The
// server answers within a ping interval; wait bounds the wait for it
// (c.open.liveness(), or pollTimeout before the handshake).
func (t *transports) pollGet(ctx context.Context, sid string, wait time.Duration) ([][]byte, error) {
	u := t.pollURL
	if sid != "" {
		u += "&sid=" + sid
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(u)
	// As a browser asks: servers with compression on (Node's default)
	// answer large payloads gzip-encoded.
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	if err := t.do(ctx, req, resp, wait); err != nil {
		return nil, err
	}
	if resp.StatusCode() != http.StatusOK {
		return nil, fmt.Errorf("polling GET: status %d: %s", resp.StatusCode(), snippet(resp.Body()))
	}
	var body []byte
	if len(resp.Header.ContentEncoding()) == 0 {
		body = bytes.Clone(resp.Body()) // resp is reused
	} else if b, err := resp.BodyUncompressed(); err != nil { // a new slice
		return nil, fmt.Errorf("polling GET: %s body: %w", resp.Header.ContentEncoding(), err)
	} else {
		body = b
	}
	return bytes.Split(body, []byte{recordSep}), nil
}

// pollPost sends packets in one long-polling POST.
func (t *transports) pollPost(ctx context.Context, sid string, packets ...[]byte) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(t.pollURL + "&sid=" + sid)
	req.Header.SetMethod(http.MethodPost)
	req.Header.SetContentType("text/plain;charset=UTF-8")
	req.SetBody(bytes.Join(packets, []byte{recordSep}))
	if err := t.do(ctx, req, resp, pollTimeout); err != nil {
		return err
	}
	if resp.StatusCode() != http.StatusOK {
		return fmt.Errorf("polling POST: status %d: %s", resp.StatusCode(), snippet(resp.Body()))
	}
	return nil
}

// do sends req and reads its answer, within timeout and ctx's deadline.
// A request under way is not cancelled with ctx: the runner ends a
// polling client by closing its session, which answers its GET.
func (t *transports) do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return t.poll.DoDeadline(req, resp, deadline)
}

// pollTimeout bounds a long-polling request whose session's ping
// interval is not known (the handshake) or that is not held (a POST): it
// only catches a server that stopped answering.
const pollTimeout = 2 * time.Minute

// connectPolling opens a long-polling session and waits for the
// Socket.IO CONNECT acknowledgement.
func (t *transports) connectPolling(ctx context.Context, s *eventSink, c *client) error {
	pkts, err := t.pollGet(ctx, "", pollTimeout)
	if err != nil {
		return fmt.Errorf("polling handshake: %w", err)
	}
	c.open, err = parseOpen(pkts[0])
	if err != nil {
		return err
	}
	c.sid = c.open.SID
	if err := t.pollPost(ctx, c.sid, []byte{eioMessage, sioConnect}); err != nil {
		return fmt.Errorf("send CONNECT: %w", err)
	}
	for range 100 {
		pkts, err := t.pollGet(ctx, c.sid, c.open.liveness())
		if err != nil {
			return fmt.Errorf("wait for CONNECT: %w", err)
		}
		now := s.since()
		connected, pong := false, false
		for _, p := range pkts {
			switch {
			case len(p) >= 2 && p[0] == eioMessage && p[1] == sioConnect:
				connected = true
			case len(p) >= 2 && p[0] == eioMessage:
				if err := s.onSocketIO(c, p[1:], now); err != nil {
					return err
				}
			case len(p) >= 1 && p[0] == eioPing:
				pong = true
			case len(p) >= 1 && p[0] == eioClose:
				return errors.New("server closed the session during the handshake")
			}
		}
		if pong {
			if err := t.pollPost(ctx, c.sid, []byte{eioPong}); err != nil {
				return fmt.Errorf("send pong: %w", err)
			}
		}
		if connected {
			c.connected = now
			return nil
		}
	}
	return errors.New("no CONNECT acknowledgement in the first 100 polls")
}

// pollLoop is a long-polling client's life after CONNECT: one GET at a
// time, as socket.io-client does, a POST for each pong.
func (t *transports) pollLoop(ctx context.Context, s *eventSink, c *client) {
	fail := func(err error) {
		if !c.closing.Load() && ctx.Err() == nil {
			c.dropErr = err
		}
	}
	for ctx.Err() == nil {
		pkts, err := t.pollGet(ctx, c.sid, c.open.liveness())
		now := s.since()
		if err != nil {
			fail(err)
			return
		}
		pong := false
		for _, p := range pkts {
			if len(p) == 0 {
				continue
			}
			switch p[0] {
			case eioMessage:
				if err := s.onSocketIO(c, p[1:], now); err != nil {
					fail(err)
					return
				}
			case eioPing:
				pong = true
			case eioClose:
				fail(errors.New("server sent an Engine.IO close"))
				return
			}
		}
		if pong {
			if err := t.pollPost(ctx, c.sid, []byte{eioPong}); err != nil {
				fail(fmt.Errorf("send pong: %w", err))
				return
			}
		}
	}
}

// closePolling tells the server the session is over (Engine.IO close),
// as socket.io-client's disconnect() does; best effort.
func (t *transports) closePolling(c *client) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = t.pollPost(ctx, c.sid, []byte{eioClose})
}
