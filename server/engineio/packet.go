package engineio

import (
	"encoding/base64"
	"encoding/binary"
	"sync"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Engine.IO packet types as they travel in text.
const (
	typeOpen    = '0'
	typeClose   = '1'
	typePing    = '2'
	typePong    = '3'
	typeMessage = '4'
	typeUpgrade = '5'
	typeNoop    = '6'
)

// outPacket is one packet waiting for a polling client. data is shared
// and never written to: a broadcast's encoding is the same slice in
// every session's buffer (m is then the broadcast's Message). plain: it
// does not ask for its answer to be compressed (compress.go).
type outPacket struct {
	typ    byte
	binary bool
	plain  bool
	data   []byte
	m      *Message
}

func (p outPacket) size() int { return 1 + len(p.data) }

// Message is a message encoded once for many sockets, text or binary:
// its data for polling buffers, its WebSocket frame and, made when first
// needed,
// its compressed polling answers (zips, by protocol and encoding: see
// zipped) and compressed WebSocket frame (deflated).
type Message struct {
	data   []byte
	frame  []byte
	binary bool // a binary message (NewBinaryMessage)
	zips   [4]struct {
		once sync.Once
		body []byte
	}
	// pmdFrame is its compressed WebSocket frame (wsdeflate.go), made
	// once (pmd) when a connection with permessage-deflate first needs
	// it; nil below the threshold.
	pmd      sync.Once
	pmdFrame []byte
	// Under mu: refs counts the queues and buffers holding the message
	// (its memory counts once in Server.queued while any does); zipMem
	// is the size of its compressed answers made so far. A lock rather
	// than atomics: the memory counted when the first queue takes the
	// message must be what is taken back when the last lets it go,
	// though an answer may be compressed meanwhile.
	mu     sync.Mutex
	refs   int32
	zipMem int64
}

// mem is the memory a message holds (under mu).
func (m *Message) mem() int64 { return int64(len(m.data)+len(m.frame)) + m.zipMem }

// NewMessage wraps an encoded Socket.IO packet (text) for
// Socket.WriteMessage. data must not change afterwards.
func NewMessage(data []byte) *Message {
	return &Message{data: data, frame: wsFrame(wsText, []byte{typeMessage}, data)}
}

// NewBinaryMessage wraps an encoded Socket.IO packet that is one binary
// message (socket.io-msgpack-parser's) for Socket.WriteMessage: one
// WebSocket binary frame, "b" and base64 in a protocol 4 polling
// payload. Protocol 3 sessions frame it themselves (their binary frame
// starts with the packet type). data must not change afterwards.
func NewBinaryMessage(data []byte) *Message {
	return &Message{data: data, frame: wsFrame(wsBinary, data), binary: true}
}

// Size is the encoded size of m.
func (m *Message) Size() int { return 1 + len(m.data) }

// WebSocket opcodes this server writes.
const (
	wsText   = opText
	wsBinary = opBinary
	wsClose  = opClose
	wsPong   = opPong
)

// wsFrame builds one unmasked, final WebSocket frame of parts.
func wsFrame(opcode byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var hdr [10]byte
	hdr[0] = 0x80 | opcode
	h := 2
	switch {
	case n < 126:
		hdr[1] = byte(n)
	case n <= 0xffff:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(n))
		h = 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(n))
		h = 10
	}
	f := make([]byte, 0, h+n)
	f = append(f, hdr[:h]...)
	for _, p := range parts {
		f = append(f, p...)
	}
	return f
}

// frames are the fixed WebSocket frames every socket sends.
type frames struct {
	ping, pong, noop, probe, close []byte
}

func newFrames() frames {
	return frames{
		ping:  wsFrame(wsText, []byte{typePing}),
		pong:  wsFrame(wsText, []byte{typePong}),
		noop:  wsFrame(wsText, []byte{typeNoop}),
		probe: wsFrame(wsText, []byte("3probe")),
		close: closeFrame(closeNormal),
	}
}

// closeFrame is a close frame with a status code.
func closeFrame(code uint16) []byte {
	return wsFrame(wsClose, binary.BigEndian.AppendUint16(nil, code))
}

// packetFrame is the WebSocket frame of one packet for protocol.
func packetFrame(p outPacket, protocol int) []byte {
	if !p.binary {
		return wsFrame(wsText, []byte{p.typ}, p.data)
	}
	if protocol == 3 { // v3 binary frames start with the packet type as a number
		return wsFrame(wsBinary, []byte{p.typ - '0'}, p.data)
	}
	return wsFrame(wsBinary, p.data)
}

// encodePayload is the body of a polling answer: v4 joins packets with
// the record separator, binary as "b" + base64; v3 is the library's
// parser (length-prefixed, binary or base64 as the client asked).
func encodePayload(packets []outPacket, protocol int, supportsBinary bool) (body []byte, text bool) {
	if protocol == 3 {
		ps := make([]*packet.Packet, len(packets))
		for i, p := range packets {
			ps[i] = toLibraryPacket(p)
		}
		data, err := parser.Parserv3().EncodePayload(ps, supportsBinary)
		if err != nil {
			return nil, true
		}
		_, text = data.(*types.StringBuffer)
		return data.Bytes(), text
	}
	return appendPayload(make([]byte, 0, payloadLen(packets)), packets), true
}

// payloadLen is the size of a protocol 4 payload of packets.
func payloadLen(packets []outPacket) int {
	n := len(packets) - 1 // separators
	for _, p := range packets {
		if p.binary {
			n += 1 + base64.StdEncoding.EncodedLen(len(p.data))
			continue
		}
		n += 1 + len(p.data)
	}
	return n
}

// appendPayload appends a protocol 4 payload of packets to b: packets
// separated by 0x1e, binary ones as "b" and base64.
func appendPayload(b []byte, packets []outPacket) []byte {
	for i, p := range packets {
		if i > 0 {
			b = append(b, 0x1e)
		}
		if p.binary {
			b = append(b, 'b')
			b = base64.StdEncoding.AppendEncode(b, p.data)
			continue
		}
		b = append(b, p.typ)
		b = append(b, p.data...)
	}
	return b
}

var packetTypes = map[byte]packet.Type{
	typeOpen: packet.OPEN, typeClose: packet.CLOSE, typePing: packet.PING, typePong: packet.PONG,
	typeMessage: packet.MESSAGE, typeUpgrade: packet.UPGRADE, typeNoop: packet.NOOP,
}

func toLibraryPacket(p outPacket) *packet.Packet {
	lp := &packet.Packet{Type: packetTypes[p.typ]}
	if p.binary {
		lp.Data = types.NewBytesBuffer(p.data)
	} else if len(p.data) > 0 {
		lp.Data = types.NewStringBuffer(p.data)
	}
	return lp
}

// inPacket is a decoded packet from a client.
type inPacket struct {
	typ    byte
	binary bool
	data   []byte
}

// decodePayload decodes a polling POST body with the library's parser
// for protocol; ok is false if the body does not parse (the packets
// before the fault are returned).
func decodePayload(body []byte, isBinary bool, protocol int) (out []inPacket, ok bool) {
	var data types.BufferInterface
	if isBinary {
		data = types.NewBytesBuffer(body)
	} else {
		data = types.NewStringBuffer(body)
	}
	p := parser.Parserv4()
	if protocol == 3 {
		p = parser.Parserv3()
	}
	packets, err := p.DecodePayload(data)
	for _, lp := range packets {
		in, good := fromLibraryPacket(lp)
		if !good {
			return out, false
		}
		out = append(out, in)
	}
	return out, err == nil
}

func fromLibraryPacket(lp *packet.Packet) (inPacket, bool) {
	var typ byte
	for b, t := range packetTypes {
		if t == lp.Type {
			typ = b
		}
	}
	if typ == 0 {
		return inPacket{}, false
	}
	in := inPacket{typ: typ}
	switch d := lp.Data.(type) {
	case nil:
	case *types.StringBuffer:
		in.data = d.Bytes()
	case types.BufferInterface:
		in.binary, in.data = true, d.Bytes()
	default:
		return inPacket{}, false
	}
	return in, true
}

// decodeFrame decodes one WebSocket message.
func decodeFrame(data []byte, isBinary bool, protocol int) (inPacket, bool) {
	if isBinary {
		if protocol == 3 {
			if len(data) == 0 || data[0] > 6 {
				return inPacket{}, false
			}
			return inPacket{typ: '0' + data[0], binary: true, data: data[1:]}, true
		}
		return inPacket{typ: typeMessage, binary: true, data: data}, true
	}
	if len(data) == 0 || data[0] < typeOpen || data[0] > typeNoop {
		return inPacket{}, false
	}
	return inPacket{typ: data[0], data: data[1:]}, true
}
