package server

import (
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// fastWebSocketBuilder makes the library's WebSocket transport with one
// behaviour changed, for broadcast speed. For a broadcast the library
// encodes the packet once and hands every socket the same pre-encoded
// frame, but its transport then builds a new gorilla PreparedMessage from
// that frame for each socket (transports.(*websocket).send), which
// allocates and frames the payload again per socket: most of the CPU and
// garbage of a large fan-out. Without the pre-encoded frame the transport
// writes the packet through the connection's own write buffer instead,
// which costs a copy but no per-socket framing objects.
type fastWebSocketBuilder struct{ transports.WebSocketBuilder }

// New builds the transport.
func (b *fastWebSocketBuilder) New(ctx *types.HttpContext) transports.Transport {
	w := transports.MakeWebSocket()
	fw := &fastWebSocket{Websocket: w}
	w.Prototype(fw)
	w.Construct(ctx)
	return fw
}

// fastWebSocket is the library's WebSocket transport with Send replaced.
type fastWebSocket struct{ transports.Websocket }

// Send drops the shared pre-encoded frame from the packets' options (the
// options are shared by every socket of a broadcast, so they are copied,
// not changed) and sends through the library.
func (w *fastWebSocket) Send(packets []*packet.Packet) {
	for i, p := range packets {
		if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
			cp, opts := *p, *p.Options
			opts.WsPreEncodedFrame = nil
			cp.Options = &opts
			packets[i] = &cp
		}
	}
	w.Websocket.Send(packets)
}
