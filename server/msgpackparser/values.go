package msgpackparser

import (
	"encoding"
	"encoding/binary"
	"encoding/json"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
)

// byteser is binary whose bytes can be read without consuming them: the
// library's types.BufferInterface, bytes.Buffer.
type byteser interface{ Bytes() []byte }

// value appends v as notepack writes the JavaScript value it stands for
// (see the package comment).
func (w *writer) value(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	switch x := v.(type) {
	case nil:
		return append(b, 0xc0), nil
	case bool:
		return appendBool(b, x), nil
	case string:
		return appendString(b, x), nil
	case float64:
		return appendNumber(b, x), nil
	case int:
		return appendInt(b, int64(x)), nil
	case int64:
		return appendInt(b, x), nil
	case uint64:
		return appendUint(b, x), nil
	case []any:
		// nil too: the library hands encoding/json a nil []any as [].
		b = appendArrayLen(b, len(x))
		var err error
		for _, item := range x {
			if b, err = w.value(b, item, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		b = appendMapLen(b, len(keys))
		var err error
		for _, k := range keys {
			b = appendString(b, k)
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
		b = appendMapLen(b, n)
		var err error
		for i := range n {
			k, item := x.Entry(i)
			b = appendString(b, k)
			if b, err = w.value(b, item, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []byte:
		return appendBin(b, x), nil
	case *types.StringBuffer:
		return appendString(b, x.String()), nil
	case *strings.Reader:
		return appendString(b, textOf(x)), nil
	case byteser:
		return appendBin(b, x.Bytes()), nil
	case json.Number:
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
		return appendString(b, string(text)), nil
	case io.Reader:
		// Binary the default parser would read (and consume) too.
		data, err := io.ReadAll(x)
		if err != nil {
			return nil, err
		}
		return appendBin(b, data), nil
	}
	return w.reflected(b, reflect.ValueOf(v), depth)
}

// reflected appends a value of any other type by its kind.
func (w *writer) reflected(b []byte, rv reflect.Value, depth int) ([]byte, error) {
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
		return appendUint(b, rv.Uint()), nil
	case reflect.Float32:
		// The float32's shortest text, as encoding/json writes it (1.1,
		// not 1.100000023841858), is the JavaScript number it stands for.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(rv.Float(), 'g', -1, 32), 64)
		return appendNumber(b, f), nil
	case reflect.Float64:
		return appendNumber(b, rv.Float()), nil
	case reflect.String:
		return appendString(b, rv.String()), nil
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
		plan := w.fields.planOf(rv.Type())
		if plan.viaJSON {
			return w.viaJSON(b, rv.Interface(), depth)
		}
		n := 0
		for _, f := range plan.fields {
			if !f.omitEmpty || !isEmpty(rv.Field(f.index)) {
				n++
			}
		}
		b = appendMapLen(b, n)
		var err error
		for _, f := range plan.fields {
			fv := rv.Field(f.index)
			if f.omitEmpty && isEmpty(fv) {
				continue
			}
			b = appendString(b, f.name)
			if b, err = w.value(b, fv.Interface(), depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	default: // chan, func, complex, unsafe pointer: not JSON either
		return nil, errUnencodable
	}
}

// elements appends a slice or array.
func (w *writer) elements(b []byte, rv reflect.Value, depth int) ([]byte, error) {
	n := rv.Len()
	b = appendArrayLen(b, n)
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
func (w *writer) mapValue(b []byte, rv reflect.Value, depth int) ([]byte, error) {
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
			return nil, errUnencodable
		}
		entries = append(entries, entry{key, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	b = appendMapLen(b, len(entries))
	var err error
	for _, e := range entries {
		b = appendString(b, e.key)
		if b, err = w.value(b, e.v.Interface(), depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// viaJSON appends v as its JSON describes it: what encoding/json makes
// of types whose rules this package does not repeat (embedded structs,
// the string and omitzero options, text-keyed maps).
func (w *writer) viaJSON(b []byte, v any, depth int) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return w.json(b, raw, depth)
}

// json appends one JSON value as msgpack, object keys in their JSON
// order, as Node would after a JSON.parse.
func (w *writer) json(b []byte, raw []byte, depth int) ([]byte, error) {
	v, err := nodewire.DecodeJSON(raw)
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
			return appendUint(b, uint64(f))
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

func appendUint(b []byte, u uint64) []byte {
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
		return appendUint(b, uint64(i))
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

func appendString(b []byte, s string) []byte {
	return append(appendLength(b, len(s), 0xa0, 0x20, 0xd9, 0xda, 0xdb), s...)
}

func appendBin(b []byte, data []byte) []byte {
	return append(appendLength(b, len(data), 0, 0, 0xc4, 0xc5, 0xc6), data...)
}

func appendArrayLen(b []byte, n int) []byte {
	return appendLength(b, n, 0x90, 0x10, 0, 0xdc, 0xdd)
}

func appendMapLen(b []byte, n int) []byte {
	return appendLength(b, n, 0x80, 0x10, 0, 0xde, 0xdf)
}
