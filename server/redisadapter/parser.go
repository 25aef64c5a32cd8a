package redisadapter

import (
	"io"
	"slices"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Parser wraps a Socket.IO parser (the server's option SetParser) so that
// binary inside an *Object reaches the clients as binary attachments,
// with the object's keys in order. The library's encoder looks for
// binary only inside []any and map[string]any, so a server whose parser
// is not wrapped gets such objects as maps, keys sorted, from its
// cluster adapter. Decoding and everything else are inner's.
func Parser(inner parser.Parser) parser.Parser { return objectParser{inner} }

type objectParser struct{ parser.Parser }

// NewEncoder wraps inner's encoder.
func (p objectParser) NewEncoder() parser.Encoder { return objectEncoder{p.Parser.NewEncoder()} }

type objectEncoder struct{ parser.Encoder }

// Encode takes the binary out of a packet that has some inside an
// *Object, as the library's encoder does for maps (placeholders numbered
// in order, as Node numbers them), and leaves other packets to inner.
func (e objectEncoder) Encode(p *parser.Packet) []types.BufferInterface {
	if (p.Type != parser.EVENT && p.Type != parser.ACK) || !objectBinary(p.Data) {
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
	// A binary packet type is encoded as is, header only.
	return append(e.Encoder.Encode(bp), buffers...)
}

// objectBinary reports whether v holds binary inside an *Object.
func objectBinary(v any) bool {
	switch x := v.(type) {
	case []any:
		return slices.ContainsFunc(x, objectBinary)
	case map[string]any:
		return anyValue(x, objectBinary)
	case *Object:
		return hasBinary(x)
	}
	return false
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
func hasBinary(v any) bool {
	switch x := v.(type) {
	case []any:
		return slices.ContainsFunc(x, hasBinary)
	case map[string]any:
		return anyValue(x, hasBinary)
	case *Object:
		return slices.ContainsFunc(x.values, hasBinary)
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
		if !hasBinary(x) {
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
