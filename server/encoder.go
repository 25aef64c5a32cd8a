package server

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// nodeJSONParser wraps a Socket.IO parser so that packets carry their
// data as Node's JSON.stringify writes it. The library's encoder uses
// json.Marshal, which writes '<', '>' and '&' in strings as \u003c,
// \u003e and \u0026; Node writes them as they are. The values are the
// same once parsed, but the bytes are not, so a client could tell a Go
// from a Node server of one cluster by a post titled "Q&A". Decoding is
// inner's, and so is a packet whose data cannot be written as JSON.
//
// Still different from Node: encoding/json always escapes U+2028 and
// U+2029, and writes invalid UTF-8 as U+FFFD where JSON.stringify keeps
// lone surrogates as \udXXX escapes.
func nodeJSONParser(inner parser.Parser) parser.Parser { return nodeJSON{inner} }

type nodeJSON struct{ parser.Parser }

// NewEncoder wraps inner's encoder.
func (p nodeJSON) NewEncoder() parser.Encoder { return nodeJSONEncoder{p.Parser.NewEncoder()} }

type nodeJSONEncoder struct{ parser.Encoder }

// Encode writes the packet as the library does (type, attachments,
// namespace, id, JSON data; binary taken out as attachments), with the
// JSON written without HTML escaping.
func (e nodeJSONEncoder) Encode(p *parser.Packet) []types.BufferInterface {
	if (p.Type == parser.EVENT || p.Type == parser.ACK) && parser.HasBinary(p.Data) {
		bp := *p // DeconstructPacket replaces the copy's data, not p's
		bp.Type = parser.BINARY_EVENT
		if p.Type == parser.ACK {
			bp.Type = parser.BINARY_ACK
		}
		dp, buffers := parser.DeconstructPacket(&bp)
		header, ok := encodeText(dp)
		if !ok {
			return e.Encoder.Encode(p)
		}
		return append([]types.BufferInterface{header}, buffers...)
	}
	text, ok := encodeText(p)
	if !ok {
		return e.Encoder.Encode(p)
	}
	return []types.BufferInterface{text}
}

// encodeText is the packet's text form, or false if its data cannot be
// written as JSON (inner's encoder then decides what to do).
func encodeText(p *parser.Packet) (types.BufferInterface, bool) {
	var b bytes.Buffer
	b.WriteByte('0' + byte(p.Type))
	if (p.Type == parser.BINARY_EVENT || p.Type == parser.BINARY_ACK) && p.Attachments != nil {
		b.WriteString(strconv.FormatUint(*p.Attachments, 10))
		b.WriteByte('-')
	}
	if p.Nsp != "" && p.Nsp != "/" {
		b.WriteString(p.Nsp)
		b.WriteByte(',')
	}
	if p.Id != nil {
		b.WriteString(strconv.FormatUint(*p.Id, 10))
	}
	if p.Data != nil {
		start := b.Len()
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(jsonReady(p.Data)); err != nil || b.Len()-start > types.MaxPayloadSize {
			return nil, false
		}
		b.Truncate(b.Len() - 1) // Encode's newline
	}
	return types.NewStringBuffer(b.Bytes()), true
}

// jsonReady is v as the library's encoder hands it to encoding/json, so
// both write the same values: a nil []any or map[string]any is an empty
// array or object (JavaScript has no nil containers), a *strings.Reader is
// its text. Containers are copied, never changed: connection state
// recovery may send the same data again.
func jsonReady(v any) any {
	switch x := v.(type) {
	case *strings.Reader:
		text, _ := types.NewStringBufferReader(x)
		return text
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = jsonReady(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = jsonReady(item)
		}
		return out
	default:
		return v
	}
}
