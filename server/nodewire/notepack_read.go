package nodewire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Decoding is how msgpack as notepack.io writes it (a Node server's, a
// client's) is read into Go values: those a JSON decode of the same
// JavaScript value gives, but for what the fields choose. notepack's
// extensions are read as it reads them: undefined (a key holding it is
// left out of its object, an array holds nil, as JSON.stringify would
// write them), a Date (its JSON: the ISO string; an invalid one null),
// an ArrayBuffer (binary); any other extension is [type, binary]. A map
// key is a string, or a number as JavaScript writes it.
//
// Every length is checked against the bytes left before anything is
// allocated for it (an element takes at least one byte, a map entry
// two), and nesting is bounded, so a message allocates in proportion to
// its size whoever sent it.
type Decoding struct {
	// Objects reads maps as *Object, keys in the sender's order (data a
	// cluster peer relays, which reaches clients as it was written);
	// otherwise as map[string]any.
	Objects bool
	// ExactIntegers keeps an integer a float64 cannot hold exactly as an
	// int64 or uint64 (relayed as it came); otherwise every number is a
	// float64.
	ExactIntegers bool
	// Binary makes a value of binary data, given its own copy of the
	// bytes; nil keeps the []byte.
	Binary func([]byte) any
}

// Errors of a message that is not one msgpack value.
var (
	ErrTruncated = errors.New("msgpack: message ends inside a value")
	ErrTrailing  = errors.New("msgpack: bytes after the value")
)

// clusterValues is how a cluster peer's messages are read: objects in
// the sender's key order, integers exact, binary as []byte (which the
// Go Socket.IO parser sends as an attachment). Written again
// (AppendValue), a value read so gives the bytes it came from, and the
// JSON a client receives is the sender's.
var clusterValues = Decoding{Objects: true, ExactIntegers: true}

// DecodeMsgpack reads a cluster peer's msgpack message (clusterValues).
func DecodeMsgpack(raw []byte) (any, error) { return clusterValues.Decode(raw) }

// Decode reads raw, one msgpack value and nothing after it.
func (d Decoding) Decode(raw []byte) (any, error) {
	r := &reader{Decoding: d, b: raw}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	if r.off != len(raw) {
		return nil, ErrTrailing
	}
	if v == undefined {
		v = nil
	}
	return v, nil
}

// reader reads one message.
type reader struct {
	Decoding
	b   []byte
	off int
}

// undefined is a JavaScript undefined read off the wire.
type undefinedType struct{}

var undefined = undefinedType{}

func (r *reader) left() int { return len(r.b) - r.off }

// take returns the next n bytes.
func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > r.left() {
		return nil, ErrTruncated
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
	if depth > MaxDepth {
		return nil, ErrDepth
	}
	s, err := r.take(1)
	if err != nil {
		return nil, err
	}
	c := s[0]
	switch {
	case c < 0x80:
		return float64(c), nil // fixint: exact either way
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
		if r.ExactIntegers {
			return uintNumber(u), nil
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
		i := int64(u<<shift) >> shift
		if r.ExactIntegers {
			return intNumber(i), nil
		}
		return float64(i), nil
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
	return nil, fmt.Errorf("msgpack: unknown byte 0x%02x", c) // 0xc1, as notepack
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

// bin is binary, of its own copy (the message's buffer is not ours to
// keep).
func (r *reader) bin(n int) (any, error) {
	s, err := r.take(n)
	if err != nil {
		return nil, err
	}
	b := append([]byte(nil), s...)
	if r.Binary != nil {
		return r.Binary(b), nil
	}
	return b, nil
}

// ext reads an extension of n bytes after its type, as notepack 3
// reads them (notepack 2 wrote type 0, notepack 3 writes Dates as
// msgpack timestamps): type 0 is an ArrayBuffer (ext 8/16/32),
// undefined (fixext 1) or a Date (fixext 8, milliseconds); type -1 a
// timestamp (32, 64 or 96 bits), read as a Date; any other is [type,
// binary].
func (r *reader) ext(n int, variable bool) (any, error) {
	s, err := r.take(1)
	if err != nil {
		return nil, err
	}
	typ := int8(s[0])
	switch {
	case typ == 0 && variable:
		return r.bin(n)
	case typ == 0 && n == 1:
		if _, err := r.take(1); err != nil {
			return nil, err
		}
		return undefined, nil
	case typ == 0 && n == 8:
		s, err := r.take(8)
		if err != nil {
			return nil, err
		}
		return dateJSON(float64(int32(binary.BigEndian.Uint32(s)))*(1<<32) + float64(binary.BigEndian.Uint32(s[4:]))), nil
	case typ == -1 && !variable && n == 4:
		s, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return dateJSON(float64(binary.BigEndian.Uint32(s)) * 1e3), nil
	case typ == -1 && !variable && n == 8:
		s, err := r.take(8)
		if err != nil {
			return nil, err
		}
		hi, lo := binary.BigEndian.Uint32(s), binary.BigEndian.Uint32(s[4:])
		sec := float64(hi&3)*(1<<32) + float64(lo)
		return dateJSON(sec*1e3 + float64(hi>>2)/1e6), nil
	case typ == -1 && variable && n == 12:
		s, err := r.take(12)
		if err != nil {
			return nil, err
		}
		ns := binary.BigEndian.Uint32(s)
		sec := float64(int32(binary.BigEndian.Uint32(s[4:])))*(1<<32) + float64(binary.BigEndian.Uint32(s[8:]))
		return dateJSON(sec*1e3 + float64(ns)/1e6), nil
	}
	data, err := r.bin(n)
	if err != nil {
		return nil, err
	}
	return []any{float64(typ), data}, nil
}

// dateJSON is a JavaScript Date of ms milliseconds as JSON writes it:
// toISOString, or null for an invalid Date.
func dateJSON(ms float64) any {
	if math.IsNaN(ms) || math.Abs(ms) > 8.64e15 {
		return nil
	}
	return time.UnixMilli(int64(ms)).UTC().Format("2006-01-02T15:04:05.000Z")
}

func (r *reader) array(n int, depth int) (any, error) {
	if n > r.left() {
		return nil, ErrTruncated
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

// mapOf reads an object. A repeated key takes the last value, as in
// JavaScript.
func (r *reader) mapOf(n int, depth int) (any, error) {
	if n > r.left()/2 {
		return nil, ErrTruncated
	}
	var ordered *objectBuilder
	var out map[string]any
	if r.Objects {
		ordered = newObjectBuilder(n)
	} else {
		out = make(map[string]any, min(n, 1024))
	}
	undefinedKeys := false
	for range n {
		k, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		key, err := keyText(k)
		if err != nil {
			return nil, err
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		switch {
		case ordered != nil:
			ordered.set(key, v)
			undefinedKeys = undefinedKeys || v == undefined
		case v == undefined:
			delete(out, key)
		default:
			out[key] = v
		}
	}
	if ordered == nil {
		return out, nil
	}
	o := ordered.o
	if undefinedKeys { // left out, once all are read (in place: keys stay in order)
		keys, values := o.keys[:0], o.values[:0]
		for i, v := range o.values {
			if v != undefined {
				keys, values = append(keys, o.keys[i]), append(values, v)
			}
		}
		o.keys, o.values = keys, values
	}
	return o, nil
}

// keyText is a map key as a JavaScript object holds it: a string, or a
// number's text.
func keyText(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	}
	return "", fmt.Errorf("msgpack: map key of type %T", k)
}
