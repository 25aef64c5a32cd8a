package nodewire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Object is a JavaScript object another server sent (a msgpack map, or a
// JSON object of a JSON message), with its keys in the sender's order.
// Decoded into a Go map, its keys would reach this server's clients in
// alphabetical order (encoding/json sorts map keys), while the sender's
// own clients and Node's get them in the order they were written; an
// Object writes its JSON in that order, so every client of the cluster
// receives the same bytes.
//
// The library's Socket.IO encoder finds binary attachments only inside
// []any and map[string]any: give the server the Parser of this package,
// or the adapter hands its clients objects that hold binary as maps, keys
// sorted.
type Object struct {
	keys   []string
	values []any
}

// Len is the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// Keys lists the keys in the sender's order.
func (o *Object) Keys() []string { return append([]string(nil), o.keys...) }

// Entry is the i-th key, in the sender's order, and its value (Ordered
// reads them so).
func (o *Object) Entry(i int) (string, any) { return o.keys[i], o.values[i] }

// Get returns the value of key.
func (o *Object) Get(key string) (any, bool) {
	for i, k := range o.keys {
		if k == key {
			return o.values[i], true
		}
	}
	return nil, false
}

// Map is the object as a plain map (nested objects stay Objects).
func (o *Object) Map() map[string]any {
	m := make(map[string]any, len(o.keys))
	for i, k := range o.keys {
		m[k] = o.values[i]
	}
	return m
}

// MarshalJSON writes the object with its keys in order. HTML characters
// are left alone here: an encoder that escapes them (json.Marshal, as the
// Socket.IO encoder uses) escapes this output too.
func (o *Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		buf.WriteByte(':')
		if err := enc.Encode(o.values[i]); err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// objectBuilder collects an object's keys as they are read. A repeated
// key keeps its first place and takes the last value, as JSON.parse does.
type objectBuilder struct {
	o    *Object
	seen map[string]int
}

func newObjectBuilder(n int) *objectBuilder {
	n = min(n, 1024) // a length read off the wire is not trusted
	return &objectBuilder{o: &Object{keys: make([]string, 0, n), values: make([]any, 0, n)}, seen: make(map[string]int, n)}
}

func (b *objectBuilder) set(k string, v any) {
	if i, ok := b.seen[k]; ok {
		b.o.values[i] = v
		return
	}
	b.seen[k] = len(b.o.keys)
	b.o.keys = append(b.o.keys, k)
	b.o.values = append(b.o.values, v)
}

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER + 1: integers
// up to it in size are exact in a float64.
const maxSafeInteger = 1 << 53

// intNumber is an integer as this package hands numbers out: a float64,
// as a JSON decode gives, unless a float64 cannot hold it exactly.
func intNumber(i int64) any {
	if i >= -maxSafeInteger && i <= maxSafeInteger {
		return float64(i)
	}
	return i
}

// uintNumber is intNumber for unsigned integers: msgpack writes every
// non-negative integer unsigned, so one that fits an int64 is one, as
// when it was sent.
func uintNumber(u uint64) any {
	if u <= math.MaxInt64 {
		return intNumber(int64(u))
	}
	return u
}

// decodeJSON reads one JSON value with objects as *Object, keys in their
// order, and numbers as intNumber gives them (non-integers as float64).
func DecodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readJSON(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func readJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			arr := []any{}
			for dec.More() {
				item, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, item)
			}
			_, err := dec.Token() // ]
			return arr, err
		case '{':
			b := newObjectBuilder(0)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				item, err := readJSON(dec)
				if err != nil {
					return nil, err
				}
				b.set(k, item)
			}
			_, err := dec.Token() // }
			return b.o, err
		default:
			return nil, errors.New("unexpected JSON delimiter")
		}
	case json.Number:
		return jsonNumber(t)
	default: // nil, bool, string
		return t, nil
	}
}

func jsonNumber(n json.Number) (any, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return intNumber(i), nil
	}
	if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
		return uintNumber(u), nil
	}
	return n.Float64()
}

// asMap is a decoded object as a map, for reading the fields of a
// message's envelope; nil if v is no object.
func AsMap(v any) map[string]any {
	switch x := v.(type) {
	case *Object:
		return x.Map()
	case map[string]any:
		return x
	default:
		return nil
	}
}

// NewObject is an object with keys[i] set to values[i], in that order.
func NewObject(keys []string, values []any) *Object {
	return &Object{keys: keys, values: values}
}
