package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// strictPollingBuilder makes the library's HTTP long-polling transport
// with one behaviour changed: a request body that does not parse ends the
// session, as the Engine.IO protocol and Node's server do. The library
// drops the bad packet and keeps the session open; the fix it needs is in
// transports.(*polling).OnData, which ignores DecodePayload's error.
type strictPollingBuilder struct{ transports.PollingBuilder }

// New builds the transport; JSONP requests keep the library's own.
func (b *strictPollingBuilder) New(ctx *types.HttpContext) transports.Transport {
	if ctx.Query().Has("j") {
		return b.PollingBuilder.New(ctx)
	}
	p := transports.MakePolling()
	sp := &strictPolling{Polling: p}
	p.Prototype(sp) // the library dispatches OnData through its prototype
	p.Construct(ctx)
	return sp
}

// UpgradesTo lists WebSocket only: WebTransport is not served.
func (b *strictPollingBuilder) UpgradesTo() []string { return []string{transports.WEBSOCKET} }

// strictPolling is the library's polling transport with OnData replaced.
type strictPolling struct{ transports.Polling }

// OnData delivers the packets of one POST body in order and, if the body
// does not parse, an error packet after them, which makes the Engine.IO
// socket close with "parse error".
func (p *strictPolling) OnData(data types.BufferInterface) {
	packets, err := p.Parser().DecodePayload(data)
	for _, pkt := range packets {
		if pkt.Type == packet.CLOSE {
			p.OnClose()
			return
		}
		p.OnPacket(pkt)
	}
	if err != nil {
		p.OnPacket(&packet.Packet{Type: packet.ERROR})
	}
}

// limitPollingBody makes a long-polling POST whose size is not announced
// (chunked) go the way of one whose Content-Length is too big: the
// library reads at most max bytes of it and processes what it read,
// packets before the cut included, then answers 200. This reads up to
// max+1 bytes first and hands the library a body of known length, so past
// max the library answers 413 and processes nothing, as Node's engine.io
// does.
func limitPollingBody(h http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.ContentLength < 0 && r.Body != nil {
			body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
			_ = r.Body.Close()
			if err != nil {
				http.Error(w, "", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		h.ServeHTTP(w, r)
	})
}

// pollingMaxBuffered bounds the bytes a long-polling session may hold for
// its client between two GETs. A live client fetches everything on each
// round trip, so its buffer stays far below this even during a burst; a
// session whose client stopped polling would otherwise keep a copy of
// every broadcast until its ping timeout (45 s), and a few hundred of them
// could hold gigabytes. Past the bound the session is closed, as a
// WebSocket client that stops reading is dropped.
const pollingMaxBuffered = 1 << 20

// capPollingBuffers applies pollingMaxBuffered to every session of eio
// that starts on long-polling. The library keeps the buffer to itself, so
// its size is tracked from the events it emits: packetCreate when a packet
// joins the buffer, flush when the buffer is handed to a GET.
func capPollingBuffers(eio engine.BaseServer, log *slog.Logger) {
	eio.On("connection", func(args ...any) {
		conn, ok := args[0].(engine.Socket)
		if !ok || conn.Transport().Name() != transports.POLLING {
			return
		}
		var held atomic.Int64
		var dropped atomic.Bool
		conn.On("packetCreate", func(a ...any) {
			n := int64(1) // the packet type
			if p, ok := a[0].(*packet.Packet); ok {
				if b, ok := p.Data.(interface{ Len() int }); ok {
					n += int64(b.Len())
				}
			}
			if held.Add(n) > pollingMaxBuffered && dropped.CompareAndSwap(false, true) {
				log.Warn("long-polling client dropped: it stopped polling", "sid", conn.Id(), "buffered_bytes", held.Load())
				// Not from inside the library's send path, which holds
				// its locks while it emits packetCreate.
				go conn.Close(true)
			}
		})
		conn.On("flush", func(...any) { held.Store(0) })
	})
}

// socketIOHandler is sio's HTTP handler with the long-polling guards:
// capped session buffers and limitPollingBody.
func socketIOHandler(sio *socket.Server, maxBody int64, log *slog.Logger) http.Handler {
	h := sio.ServeHandler(nil) // creates the Engine.IO server
	capPollingBuffers(sio.Engine(), log)
	return limitPollingBody(h, maxBody)
}
