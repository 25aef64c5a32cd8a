package nodewire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// The Node adapter encodes broadcasts with notepack.io. These functions
// write the same bytes for the same JavaScript values and read what it
// writes, so Go and Node servers can share channels:
//
//   - numbers: an integral value is the smallest msgpack int (notepack
//     never writes an integral float), anything else a float64;
//   - strings, arrays and maps: the smallest header that fits;
//   - binary ([]byte): bin 8/16/32, which Node reads back as a Buffer;
//   - any other Go value (structs with json tags, time.Time, ...): what it
//     would be on the wire to a client, i.e. its JSON form, with object
//     keys in the order encoding/json writes them.
//
// Decoding turns maps into *Object, keys in the sender's order, every
// number into a float64 (as a JSON decode would) unless it is an integer
// a float64 cannot hold exactly (then an int64 or uint64), msgpack
// timestamps (a JavaScript Date) into the ISO string a client would have
// received, and bin into []byte, which the Go Socket.IO parser sends as a
// binary attachment. Re-encoded, a decoded value gives the bytes it came
// from, and the JSON a client receives is the sender's.

// byteser is the library's types.BufferInterface and bytes.Buffer: binary
// whose content can be read without consuming it.
type byteser interface{ Bytes() []byte }

// encodeValue writes v the way notepack.io writes the equivalent value.
func EncodeValue(e *msgpack.Encoder, v any) error {
	switch x := v.(type) {
	case nil:
		return e.EncodeNil()
	case bool:
		return e.EncodeBool(x)
	case string:
		return e.EncodeString(x)
	case []byte:
		return e.EncodeBytes(x)
	case int, int8, int16, int32, int64:
		return e.EncodeInt(reflect.ValueOf(x).Int())
	case uint, uint8, uint16, uint32, uint64:
		return e.EncodeUint(reflect.ValueOf(x).Uint())
	case float32:
		return encodeNumber(e, float64(x))
	case float64:
		return encodeNumber(e, x)
	case json.Number:
		return encodeJSONNumber(e, x)
	case []any:
		if err := e.EncodeArrayLen(len(x)); err != nil {
			return err
		}
		for _, item := range x {
			if err := EncodeValue(e, item); err != nil {
				return err
			}
		}
		return nil
	case []string:
		return EncodeStrings(e, x)
	case *Object:
		return encodeEntries(e, x.keys, x.values)
	case map[string]any:
		// Sorted, as encoding/json writes a map, so equal maps encode to
		// equal bytes.
		keys := slices.Sorted(maps.Keys(x))
		values := make([]any, len(keys))
		for i, k := range keys {
			values[i] = x[k]
		}
		return encodeEntries(e, keys, values)
	case byteser:
		return e.EncodeBytes(x.Bytes())
	case io.Reader:
		// A reader other than a buffer can be read once only, and the
		// local delivery still needs it.
		return fmt.Errorf("cannot publish a %T (use []byte for binary)", v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %T: %w", v, err)
		}
		return transcodeJSON(e, raw)
	}
}

// encodeStrings writes an array of strings.
func EncodeStrings(e *msgpack.Encoder, items []string) error {
	if err := e.EncodeArrayLen(len(items)); err != nil {
		return err
	}
	for _, s := range items {
		if err := e.EncodeString(s); err != nil {
			return err
		}
	}
	return nil
}

// encodeEntries writes a map of keys[i] to values[i], in that order.
func encodeEntries(e *msgpack.Encoder, keys []string, values []any) error {
	if err := e.EncodeMapLen(len(keys)); err != nil {
		return err
	}
	for i, k := range keys {
		if err := e.EncodeString(k); err != nil {
			return err
		}
		if err := EncodeValue(e, values[i]); err != nil {
			return err
		}
	}
	return nil
}

// encodeNumber writes a JavaScript number as notepack.io does.
func encodeNumber(e *msgpack.Encoder, f float64) error {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if f >= 0 && f < 1<<64 {
			return e.EncodeUint(uint64(f))
		}
		if f < 0 && f >= -(1<<63) {
			return e.EncodeInt(int64(f))
		}
	}
	return e.EncodeFloat64(f)
}

func encodeJSONNumber(e *msgpack.Encoder, n json.Number) error {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return e.EncodeInt(i)
	}
	if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
		return e.EncodeUint(u)
	}
	f, err := n.Float64()
	if err != nil {
		return err
	}
	return encodeNumber(e, f)
}

// transcodeJSON writes one JSON value as msgpack, keeping object keys in
// their JSON order (a struct's field order), as Node would after a
// JSON.parse.
func transcodeJSON(e *msgpack.Encoder, raw []byte) error {
	v, err := DecodeJSON(raw)
	if err != nil {
		return err
	}
	return EncodeValue(e, v)
}

// decodeValue reads one msgpack value and normalises it (see above).
func decodeValue(d *msgpack.Decoder) (any, error) {
	v, err := d.DecodeInterface()
	if err != nil {
		return nil, err
	}
	return normalize(v), nil
}

// normalize turns what msgpack decoded into the values a JSON decode of
// the same JavaScript value would give, binary aside and objects in
// order.
func normalize(v any) any {
	switch x := v.(type) {
	case int8, int16, int32:
		return float64(reflect.ValueOf(x).Int())
	case int64:
		return intNumber(x)
	case uint8, uint16, uint32:
		return float64(reflect.ValueOf(x).Uint())
	case uint64:
		return uintNumber(x)
	case float32:
		return float64(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	case *Object:
		for i := range x.values {
			x.values[i] = normalize(x.values[i])
		}
		return x
	default:
		return v
	}
}

// newEncoder returns an encoder writing to buf.
func NewEncoder(buf *bytes.Buffer) *msgpack.Encoder {
	return msgpack.NewEncoder(buf)
}

// newDecoder returns a decoder that reads maps as *Object, keys in order;
// a key that is not a string becomes its text, as in JavaScript.
func newDecoder(raw []byte) *msgpack.Decoder {
	d := msgpack.NewDecoder(bytes.NewReader(raw))
	d.SetMapDecoder(func(d *msgpack.Decoder) (any, error) {
		n, err := d.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		b := newObjectBuilder(n)
		for range n {
			k, err := d.DecodeInterface()
			if err != nil {
				return nil, err
			}
			v, err := d.DecodeInterface()
			if err != nil {
				return nil, err
			}
			key, ok := k.(string)
			if !ok {
				key = fmt.Sprint(normalize(k))
			}
			b.set(key, v)
		}
		return b.o, nil
	})
	return d
}

// DecodeMsgpack reads one msgpack value: objects as *Object, keys in
// order, numbers as a JSON decode gives them.
func DecodeMsgpack(raw []byte) (any, error) { return decodeValue(newDecoder(raw)) }

// EncodeMsgpack is v as notepack.io writes the equivalent value (see
// EncodeValue).
func EncodeMsgpack(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := EncodeValue(msgpack.NewEncoder(&buf), v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
