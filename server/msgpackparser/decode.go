package msgpackparser

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"feedrt/server/nodewire"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Decoder reads one client's packets, each one binary message.
type Decoder struct {
	types.EventEmitter
}

func newDecoder() *Decoder { return &Decoder{EventEmitter: types.NewEventEmitter()} }

// Errors of a message that is not a packet; the library closes the
// client that sent it.
var (
	ErrText       = errors.New("msgpackparser: text message (packets are binary)")
	ErrPacketType = errors.New("msgpackparser: invalid packet type")
	ErrNamespace  = errors.New("msgpackparser: invalid namespace")
	ErrPayload    = errors.New("msgpackparser: invalid payload")
	ErrID         = errors.New("msgpackparser: invalid packet id")
	errTruncated  = errors.New("msgpackparser: message ends inside a value")
	errTrailing   = errors.New("msgpackparser: bytes after the packet")
)

// maxNamespaceLength is the default parser's bound on a namespace's
// length (parser.DefaultMaxNamespaceLength).
const maxNamespaceLength = parser.DefaultMaxNamespaceLength

// Add decodes one message and emits "decoded" with its packet.
func (d *Decoder) Add(data any) error {
	var raw []byte
	switch x := data.(type) {
	case string, *strings.Reader, *types.StringBuffer:
		return ErrText
	case []byte:
		raw = x
	case interface{ Bytes() []byte }:
		raw = x.Bytes()
	case io.Reader:
		var err error
		if raw, err = io.ReadAll(x); err != nil {
			return err
		}
	default:
		return fmt.Errorf("msgpackparser: unknown type %T", data)
	}
	p, err := Decode(raw)
	if err != nil {
		return err
	}
	d.Emit("decoded", p)
	return nil
}

// Destroy does nothing: a decoder holds nothing between messages.
func (d *Decoder) Destroy() {}

// Decode reads one packet, checked as socket.io-msgpack-parser's
// checkPacket checks it: type an integer from CONNECT to CONNECT_ERROR,
// nsp a string, data as the type wants it (CONNECT: none or an object;
// DISCONNECT: none; CONNECT_ERROR: a string or an object; EVENT and ACK:
// an array), id none or an integer. As the default parser, it also
// refuses what the library cannot take: an EVENT with no name, a name
// that is not a string or a number or is reserved ("connect",
// "disconnect", ...), an id that is negative or past 2^64, a namespace
// longer than 512 bytes.
func Decode(raw []byte) (*parser.Packet, error) {
	r := &reader{b: raw}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	if r.off != len(raw) {
		return nil, errTrailing
	}
	m, _ := v.(map[string]any)
	p := &parser.Packet{}
	typ, ok := m["type"].(float64)
	if !ok || typ != math.Trunc(typ) || typ < float64(parser.CONNECT) || typ > float64(parser.CONNECT_ERROR) {
		return nil, ErrPacketType
	}
	p.Type = parser.PacketType(typ)
	if p.Nsp, ok = m["nsp"].(string); !ok || len(p.Nsp) > maxNamespaceLength {
		return nil, ErrNamespace
	}
	data, hasData := m["data"]
	if !validData(p.Type, data, hasData) {
		return nil, ErrPayload
	}
	if hasData {
		p.Data = data
	}
	if idv, has := m["id"]; has {
		id, ok := idv.(float64)
		if !ok || id != math.Trunc(id) || id < 0 || id >= 1<<64 {
			return nil, ErrID
		}
		u := uint64(id)
		p.Id = &u
	}
	return p, nil
}

// validData is checkPacket's isDataValid, with the default parser's
// check of an event's name.
func validData(t parser.PacketType, data any, has bool) bool {
	switch t {
	case parser.CONNECT:
		_, isMap := data.(map[string]any)
		return !has || isMap
	case parser.DISCONNECT:
		return !has
	case parser.CONNECT_ERROR:
		switch data.(type) {
		case string, map[string]any:
			return true
		}
		return false
	case parser.EVENT:
		args, ok := data.([]any)
		if !ok || len(args) == 0 {
			return false
		}
		switch name := args[0].(type) {
		case string:
			return !parser.ReservedEvents.Has(name)
		case float64:
			return true
		}
		return false
	default: // ACK
		_, ok := data.([]any)
		return ok
	}
}

// reader reads msgpack values as notepack.io's decoder does, into the Go
// values a JSON decode of the same JavaScript value gives. Every length
// is checked against the bytes left before anything is allocated for it
// (an element takes at least one byte, a map entry two), and nesting is
// bounded, so a message allocates in proportion to its size.
type reader struct {
	b   []byte
	off int
}

// undefined is a JavaScript undefined read off the wire: a key holding
// it is left out of its object, an array holds nil, as JSON.stringify
// would have written them.
type undefinedType struct{}

var undefined = undefinedType{}

func (r *reader) left() int { return len(r.b) - r.off }

// take returns the next n bytes.
func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > r.left() {
		return nil, errTruncated
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

// length reads a big-endian length of size bytes.
func (r *reader) length(size int) (int, error) {
	s, err := r.take(size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return int(s[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(s)), nil
	default:
		return int(binary.BigEndian.Uint32(s)), nil
	}
}

func (r *reader) value(depth int) (any, error) {
	if depth > nodewire.MaxDepth {
		return nil, nodewire.ErrDepth
	}
	s, err := r.take(1)
	if err != nil {
		return nil, err
	}
	c := s[0]
	switch {
	case c < 0x80:
		return float64(c), nil
	case c < 0x90:
		return r.mapOf(int(c&0x0f), depth)
	case c < 0xa0:
		return r.array(int(c&0x0f), depth)
	case c < 0xc0:
		return r.str(int(c & 0x1f))
	case c >= 0xe0:
		return float64(int8(c)), nil
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := r.length(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		return r.bin(n)
	case 0xc7, 0xc8, 0xc9:
		n, err := r.length(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return r.ext(n, true)
	case 0xca:
		s, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(s))), nil
	case 0xcb:
		s, err := r.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(s)), nil
	case 0xcc, 0xcd, 0xce, 0xcf:
		s, err := r.take(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		var u uint64
		for _, x := range s {
			u = u<<8 | uint64(x)
		}
		return float64(u), nil
	case 0xd0, 0xd1, 0xd2, 0xd3:
		size := 1 << (c - 0xd0)
		s, err := r.take(size)
		if err != nil {
			return nil, err
		}
		var u uint64
		for _, x := range s {
			u = u<<8 | uint64(x)
		}
		shift := 64 - 8*size // sign-extend
		return float64(int64(u<<shift) >> shift), nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return r.ext(1<<(c-0xd4), false)
	case 0xd9, 0xda, 0xdb:
		n, err := r.length(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		return r.str(n)
	case 0xdc, 0xdd:
		n, err := r.length(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return r.array(n, depth)
	case 0xde, 0xdf:
		n, err := r.length(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return r.mapOf(n, depth)
	}
	return nil, fmt.Errorf("msgpackparser: unknown byte 0x%02x", c) // 0xc1, as notepack
}

func (r *reader) str(n int) (any, error) {
	s, err := r.take(n)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(s) { // as Buffer.toString and a JSON decode replace it
		return strings.ToValidUTF8(string(s), "\uFFFD"), nil
	}
	return string(s), nil
}

// bin is binary as the default parser hands it to handlers: a
// *types.BytesBuffer of its own copy (the message's buffer is not ours
// to keep).
func (r *reader) bin(n int) (any, error) {
	s, err := r.take(n)
	if err != nil {
		return nil, err
	}
	return types.NewBytesBuffer(append([]byte(nil), s...)), nil
}

// ext reads an extension of n bytes after its type: type 0 is
// notepack's ArrayBuffer (ext 8/16/32), undefined (fixext 1) or Date
// (fixext 8); any other is [type, binary], as notepack reads it.
func (r *reader) ext(n int, variable bool) (any, error) {
	s, err := r.take(1)
	if err != nil {
		return nil, err
	}
	typ := int8(s[0])
	if typ == 0 {
		switch {
		case variable:
			return r.bin(n)
		case n == 1:
			if _, err := r.take(1); err != nil {
				return nil, err
			}
			return undefined, nil
		case n == 8:
			s, err := r.take(8)
			if err != nil {
				return nil, err
			}
			ms := float64(int32(binary.BigEndian.Uint32(s)))*(1<<32) + float64(binary.BigEndian.Uint32(s[4:]))
			if math.Abs(ms) > 8.64e15 { // an Invalid Date, which JSON writes null
				return nil, nil
			}
			// A Date's JSON: toISOString.
			return time.UnixMilli(int64(ms)).UTC().Format("2006-01-02T15:04:05.000Z"), nil
		}
	}
	data, err := r.bin(n)
	if err != nil {
		return nil, err
	}
	return []any{float64(typ), data}, nil
}

func (r *reader) array(n int, depth int) (any, error) {
	if n > r.left() {
		return nil, errTruncated
	}
	out := make([]any, n)
	for i := range out {
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if v == undefined {
			v = nil
		}
		out[i] = v
	}
	return out, nil
}

// mapOf reads an object. Keys are strings (notepack writes an object's
// keys as strings); a repeated key takes the last value, as in
// JavaScript.
func (r *reader) mapOf(n int, depth int) (any, error) {
	if n > r.left()/2 {
		return nil, errTruncated
	}
	out := make(map[string]any, min(n, 1024))
	for range n {
		k, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("msgpackparser: map key of type %T", k)
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if v == undefined {
			delete(out, key)
			continue
		}
		out[key] = v
	}
	return out, nil
}
