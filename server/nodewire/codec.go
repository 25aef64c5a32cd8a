package nodewire

import (
	"bytes"
	"fmt"
	"reflect"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Decoding msgpack (DecodeMsgpack) turns maps into *Object, keys in the
// sender's order, every number into a float64 (as a JSON decode would)
// unless it is an integer a float64 cannot hold exactly (then an int64 or
// uint64), msgpack timestamps (a JavaScript Date) into the ISO string a
// client would have received, and bin into []byte, which the Go
// Socket.IO parser sends as a binary attachment. Re-encoded (AppendValue),
// a decoded value gives the bytes it came from, and the JSON a client
// receives is the sender's.

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
// AppendValue).
func EncodeMsgpack(v any) ([]byte, error) { return AppendValue(nil, v) }
