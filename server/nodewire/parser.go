package nodewire

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Parser wraps a Socket.IO parser (the server's option SetParser) so that
// packets reach the clients as a Node server would send them:
//   - binary inside an *Object goes out as attachments, with the object's
//     keys in order (the library's encoder looks for binary only inside
//     []any and map[string]any, so a server whose parser is not wrapped
//     gets such objects from its cluster adapter as maps, keys sorted);
//   - the JSON is written as JSON.stringify writes it: '<', '>' and '&'
//     as they are, where the library's json.Marshal writes \u003c,
//     \u003e and \u0026. The values are the same once parsed, but a
//     client could otherwise tell a Go from a Node server of one cluster
//     by the bytes of a post titled "Q&A". Still different from Node,
//     invisible after parsing: encoding/json always escapes U+2028 and
//     U+2029, and writes invalid UTF-8 as U+FFFD.
//
// Decoding is inner's, and so is a packet whose data cannot be written as
// JSON.
func Parser(inner parser.Parser) parser.Parser { return objectParser{inner} }

type objectParser struct{ parser.Parser }

// NewEncoder wraps inner's encoder.
func (p objectParser) NewEncoder() parser.Encoder { return objectEncoder{p.Parser.NewEncoder()} }

type objectEncoder struct{ parser.Encoder }

// Encode writes the packet as the library does (type, attachments,
// namespace, id, JSON data), with binary anywhere in the data taken out
// as attachments (placeholders numbered in order, as Node numbers them)
// and the JSON written without HTML escapes.
func (e objectEncoder) Encode(p *parser.Packet) []types.BufferInterface {
	if (p.Type != parser.EVENT && p.Type != parser.ACK) || !HasBinary(p.Data) {
		if text, ok := encodeText(p); ok {
			return []types.BufferInterface{text}
		}
		return e.Encoder.Encode(p)
	}
	var buffers []types.BufferInterface
	n := uint64(0)
	bp := &parser.Packet{Type: parser.BINARY_EVENT, Nsp: p.Nsp, Id: p.Id, Attachments: &n}
	if p.Type == parser.ACK {
		bp.Type = parser.BINARY_ACK
	}
	bp.Data = deconstruct(p.Data, &buffers)
	n = uint64(len(buffers))
	if header, ok := encodeText(bp); ok {
		return append([]types.BufferInterface{header}, buffers...)
	}
	// A binary packet type is encoded as is, header only.
	return append(e.Encoder.Encode(bp), buffers...)
}

// encodeText is the packet's text form, or false if its data cannot be
// written as JSON.
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

// anyValue reports whether f holds for a value of m.
func anyValue(m map[string]any, f func(any) bool) bool {
	for _, v := range m {
		if f(v) {
			return true
		}
	}
	return false
}

// hasBinary reports whether v is or holds binary, as the library counts it.
func HasBinary(v any) bool {
	switch x := v.(type) {
	case []any:
		return slices.ContainsFunc(x, HasBinary)
	case map[string]any:
		return anyValue(x, HasBinary)
	case *Object:
		return slices.ContainsFunc(x.values, HasBinary)
	default:
		return parser.IsBinary(v)
	}
}

// deconstruct copies v with each binary value replaced by a placeholder
// and appended to buffers. v itself is not changed: connection state
// recovery may send the same data again.
func deconstruct(v any, buffers *[]types.BufferInterface) any {
	if parser.IsBinary(v) {
		b := types.NewBytesBuffer(nil)
		switch x := v.(type) {
		case []byte:
			_, _ = b.Write(x)
		case byteser:
			_, _ = b.Write(x.Bytes())
		case io.Reader:
			_, _ = b.ReadFrom(x)
		}
		*buffers = append(*buffers, b)
		return &parser.Placeholder{Placeholder: true, Num: int64(len(*buffers) - 1)}
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = deconstruct(item, buffers)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = deconstruct(item, buffers)
		}
		return out
	case *Object:
		out := &Object{keys: x.keys, values: make([]any, len(x.values))}
		for i, item := range x.values {
			out.values[i] = deconstruct(item, buffers)
		}
		return out
	default:
		return v
	}
}

// binaryAsMaps copies v with every *Object that holds binary made a
// map[string]any, which the library's own encoder understands.
func binaryAsMaps(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = binaryAsMaps(item)
		}
		return out
	case *Object:
		if !HasBinary(x) {
			return x
		}
		m := make(map[string]any, len(x.keys))
		for i, k := range x.keys {
			m[k] = binaryAsMaps(x.values[i])
		}
		return m
	default:
		return v
	}
}
