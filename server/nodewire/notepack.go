package nodewire

import (
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The Node servers' msgpack is notepack.io's: the Redis adapters encode
// their messages with it, socket.io-msgpack-parser its packets. These
// functions write a Go value as notepack writes the JavaScript value it
// stands for, the one the default Socket.IO parser's JSON describes, so
// a Go server sends the bytes a Node server sends:
//
//   - numbers: an integral value is the smallest msgpack integer
//     (notepack never writes an integral float), anything else a float64;
//     a float32 is the number its shortest text reads as, and a
//     json.Number an exact integer when it is one;
//   - strings, arrays and maps: the smallest header that fits; map keys
//     sorted as encoding/json sorts them, an Ordered object's (Object)
//     in its order;
//   - structs: their fields by their json tags in declaration order, as
//     encoding/json writes them (types with rules not repeated here go
//     through encoding/json);
//   - binary ([]byte, the library's buffers, bytes.Buffer): bin, which
//     Node reads back as a Buffer; *strings.Reader and the library's
//     StringBuffer are text, as the library's parser takes them;
//   - anything with a JSON form of its own (json.Marshaler, time.Time):
//     that JSON, object keys in its order.

// MaxDepth bounds the nesting of what is written and read, as
// encoding/json bounds it (a cycle would otherwise never end).
const MaxDepth = 10000

var (
	// ErrDepth: a value nested deeper than MaxDepth.
	ErrDepth = errors.New("msgpack: nesting too deep")
	// ErrUnencodable: a value with no JSON form (a func, a chan).
	ErrUnencodable = errors.New("msgpack: value cannot be encoded")
)

// Ordered is a JavaScript object whose keys keep an order, such as an
// Object: it is written with its keys in that order.
type Ordered interface {
	// Len is the number of keys.
	Len() int
	// Entry is the i-th key and its value.
	Entry(i int) (key string, value any)
}

// AppendValue appends v as notepack writes the JavaScript value it
// stands for (see above). A reader other than text is an error: it can
// be read once only, and the server's own delivery of the same data
// still needs it.
func AppendValue(b []byte, v any) ([]byte, error) { return writer{}.value(b, v, 0) }

// AppendValueReading is AppendValue reading (and consuming) an io.Reader
// as binary, as the default parser does for the packet it encodes.
func AppendValueReading(b []byte, v any) ([]byte, error) {
	return writer{readers: true}.value(b, v, 0)
}

// EncodeMsgpack is v as notepack.io writes it (AppendValue).
func EncodeMsgpack(v any) ([]byte, error) { return AppendValue(nil, v) }

// writer appends values; readers says whether it reads io.Readers.
type writer struct{ readers bool }

// byteser is binary whose bytes can be read without consuming them: the
// library's types.BufferInterface, bytes.Buffer.
type byteser interface{ Bytes() []byte }

// value appends v at nesting depth.
func (w writer) value(b []byte, v any, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, ErrDepth
	}
	switch x := v.(type) {
	case nil:
		return append(b, 0xc0), nil
	case bool:
		return appendBool(b, x), nil
	case string:
		return AppendString(b, x), nil
	case float64:
		return appendNumber(b, x), nil
	case int:
		return appendInt(b, int64(x)), nil
	case int64:
		return appendInt(b, x), nil
	case uint64:
		return AppendUint(b, x), nil
	case []any:
		if x == nil && depth > 0 {
			return append(b, 0xc0), nil // encoding/json's null
		}
		// A packet's data: the library hands encoding/json a nil one as [].
		b = AppendArrayLen(b, len(x))
		var err error
		for _, item := range x {
			if b, err = w.value(b, item, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		b = AppendMapLen(b, len(keys))
		var err error
		for _, k := range keys {
			b = AppendString(b, k)
			if b, err = w.value(b, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	if isNilPointer(v) {
		// null, as encoding/json writes it, whatever the type's methods.
		return append(b, 0xc0), nil
	}
	switch x := v.(type) {
	case Ordered:
		n := x.Len()
		b = AppendMapLen(b, n)
		var err error
		for i := range n {
			k, item := x.Entry(i)
			b = AppendString(b, k)
			if b, err = w.value(b, item, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []byte:
		return appendBin(b, x), nil
	case *types.StringBuffer:
		return AppendString(b, x.String()), nil
	case *strings.Reader:
		return AppendString(b, textOf(x)), nil
	case byteser:
		return appendBin(b, x.Bytes()), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return appendInt(b, i), nil
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return AppendUint(b, u), nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, err
		}
		return appendNumber(b, f), nil
	case json.Marshaler:
		raw, err := x.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return w.json(b, raw, depth)
	case encoding.TextMarshaler:
		text, err := x.MarshalText()
		if err != nil {
			return nil, err
		}
		return AppendString(b, string(text)), nil
	case io.Reader:
		if !w.readers {
			return nil, fmt.Errorf("cannot publish a %T (use []byte for binary)", v)
		}
		data, err := io.ReadAll(x)
		if err != nil {
			return nil, err
		}
		return appendBin(b, data), nil
	}
	return w.reflected(b, reflect.ValueOf(v), depth)
}

// reflected appends a value of any other type by its kind.
func (w writer) reflected(b []byte, rv reflect.Value, depth int) ([]byte, error) {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(b, 0xc0), nil
		}
		return w.value(b, rv.Elem().Interface(), depth+1)
	case reflect.Bool:
		return appendBool(b, rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return appendInt(b, rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return AppendUint(b, rv.Uint()), nil
	case reflect.Float32:
		// The float32's shortest text, as encoding/json writes it (1.1,
		// not 1.100000023841858), is the JavaScript number it stands for.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(rv.Float(), 'g', -1, 32), 64)
		return appendNumber(b, f), nil
	case reflect.Float64:
		return appendNumber(b, rv.Float()), nil
	case reflect.String:
		return AppendString(b, rv.String()), nil
	case reflect.Slice:
		if rv.IsNil() {
			return append(b, 0xc0), nil // encoding/json's null
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return appendBin(b, rv.Bytes()), nil
		}
		return w.elements(b, rv, depth)
	case reflect.Array:
		return w.elements(b, rv, depth)
	case reflect.Map:
		return w.mapValue(b, rv, depth)
	case reflect.Struct:
		plan := planOf(rv.Type())
		if plan.viaJSON {
			return w.viaJSON(b, rv.Interface(), depth)
		}
		n := 0
		for _, f := range plan.fields {
			if !f.omitEmpty || !isEmpty(rv.Field(f.index)) {
				n++
			}
		}
		b = AppendMapLen(b, n)
		var err error
		for _, f := range plan.fields {
			fv := rv.Field(f.index)
			if f.omitEmpty && isEmpty(fv) {
				continue
			}
			b = AppendString(b, f.name)
			if b, err = w.value(b, fv.Interface(), depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	default: // chan, func, complex, unsafe pointer: not JSON either
		return nil, ErrUnencodable
	}
}

// elements appends a slice or array.
func (w writer) elements(b []byte, rv reflect.Value, depth int) ([]byte, error) {
	n := rv.Len()
	b = AppendArrayLen(b, n)
	var err error
	for i := range n {
		if b, err = w.value(b, rv.Index(i).Interface(), depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// mapValue appends a map with string or integer keys, keys sorted as
// encoding/json sorts them (by their text); other maps go through JSON.
func (w writer) mapValue(b []byte, rv reflect.Value, depth int) ([]byte, error) {
	if rv.IsNil() {
		return append(b, 0xc0), nil
	}
	kt := rv.Type().Key()
	if kt.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
		return w.viaJSON(b, rv.Interface(), depth)
	}
	type entry struct {
		key string
		v   reflect.Value
	}
	entries := make([]entry, 0, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		k := it.Key()
		var key string
		switch k.Kind() {
		case reflect.String:
			key = k.String()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			key = strconv.FormatInt(k.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			key = strconv.FormatUint(k.Uint(), 10)
		default:
			return nil, ErrUnencodable
		}
		entries = append(entries, entry{key, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	b = AppendMapLen(b, len(entries))
	var err error
	for _, e := range entries {
		b = AppendString(b, e.key)
		if b, err = w.value(b, e.v.Interface(), depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// viaJSON appends v as its JSON describes it: what encoding/json makes
// of types whose rules this package does not repeat (embedded structs,
// the string and omitzero options, text-keyed maps).
func (w writer) viaJSON(b []byte, v any, depth int) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return w.json(b, raw, depth)
}

// json appends one JSON value as msgpack, object keys in their JSON
// order, as Node would after a JSON.parse.
func (w writer) json(b []byte, raw []byte, depth int) ([]byte, error) {
	v, err := DecodeJSON(raw)
	if err != nil {
		return nil, err
	}
	return w.value(b, v, depth)
}

// isNilPointer reports whether v is a nil pointer, which encoding/json
// writes as null rather than calling its methods.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// The msgpack forms notepack.io writes: the smallest that fits.

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// appendNumber writes a JavaScript number: an integral one as the
// smallest integer, any other (fractions, NaN, infinities) as float64.
func appendNumber(b []byte, f float64) []byte {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if f >= 0 && f < 1<<64 {
			return AppendUint(b, uint64(f))
		}
		if f < 0 && f >= -(1<<63) {
			return appendInt(b, int64(f))
		}
	}
	bits := math.Float64bits(f)
	if f != f {
		bits = 0x7ff8000000000000 // JavaScript's one NaN
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcb), bits)
}

// AppendUint appends an unsigned integer in its smallest form.
func AppendUint(b []byte, u uint64) []byte {
	switch {
	case u < 0x80:
		return append(b, byte(u))
	case u < 0x100:
		return append(b, 0xcc, byte(u))
	case u < 0x10000:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(u))
	case u < 0x100000000:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(u))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), u)
	}
}

func appendInt(b []byte, i int64) []byte {
	switch {
	case i >= 0:
		return AppendUint(b, uint64(i))
	case i >= -0x20:
		return append(b, byte(i))
	case i >= -0x80:
		return append(b, 0xd0, byte(i))
	case i >= -0x8000:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(i))
	case i >= -0x80000000:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(i))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(i))
	}
}

// appendLength writes the head of a string, binary, array or map of n
// items: fix (n below fixMax, or-ed into fix; no fix form if fixMax is
// 0), else the first byte of the 8-bit form (0 if there is none), of the
// 16-bit form or, above that, of the 32-bit form.
func appendLength(b []byte, n int, fix byte, fixMax int, f8, f16, f32 byte) []byte {
	switch {
	case n < fixMax:
		return append(b, fix|byte(n))
	case f8 != 0 && n < 0x100:
		return append(b, f8, byte(n))
	case n < 0x10000:
		return binary.BigEndian.AppendUint16(append(b, f16), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, f32), uint32(n))
	}
}

// AppendString appends a string.
func AppendString(b []byte, s string) []byte {
	return append(appendLength(b, len(s), 0xa0, 0x20, 0xd9, 0xda, 0xdb), s...)
}

func appendBin(b []byte, data []byte) []byte {
	return append(appendLength(b, len(data), 0, 0, 0xc4, 0xc5, 0xc6), data...)
}

// AppendArrayLen appends the head of an array of n items.
func AppendArrayLen(b []byte, n int) []byte {
	return appendLength(b, n, 0x90, 0x10, 0, 0xdc, 0xdd)
}

// AppendMapLen appends the head of a map of n entries.
func AppendMapLen(b []byte, n int) []byte {
	return appendLength(b, n, 0x80, 0x10, 0, 0xde, 0xdf)
}

// textOf is the text of a *strings.Reader, read without consuming it
// (recovery may send the same data again).
func textOf(r *strings.Reader) string {
	buf := make([]byte, r.Size())
	n, _ := r.ReadAt(buf, 0)
	return string(buf[:n])
}
