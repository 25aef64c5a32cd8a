package redisadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// marshalJSON encodes v without HTML escaping, as JSON.stringify does.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encodeBroadcast is the message on the broadcast channels:
// [uid, {type, data, nsp}, {rooms, except, flags}].
func encodeBroadcast(uid string, p *parser.Packet, opts *socket.BroadcastOptions) ([]byte, error) {
	var buf bytes.Buffer
	e := newEncoder(&buf)
	if err := e.EncodeArrayLen(3); err != nil {
		return nil, err
	}
	if err := e.EncodeString(uid); err != nil {
		return nil, err
	}
	if err := encodePacket(e, p); err != nil {
		return nil, err
	}
	if err := encodeOpts(e, opts); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodePacket writes a Socket.IO packet as the Node adapter publishes it.
// Writes into a bytes.Buffer cannot fail, so only the value encodings
// errors (a Go value with no JSON form) are checked.
func encodePacket(enc *msgpack.Encoder, p *parser.Packet) error {
	n := 3
	if p.Id != nil {
		n++
	}
	if err := enc.EncodeMapLen(n); err != nil {
		return err
	}
	_ = enc.EncodeString("type")
	_ = enc.EncodeUint(uint64(p.Type))
	_ = enc.EncodeString("data")
	if err := encodeValue(enc, p.Data); err != nil {
		return err
	}
	_ = enc.EncodeString("nsp")
	_ = enc.EncodeString(p.Nsp)
	if p.Id != nil {
		_ = enc.EncodeString("id")
		_ = enc.EncodeUint(*p.Id)
	}
	return nil
}

// encodeOpts writes {rooms, except, flags}; flags holds only what is set,
// with Node's names and the timeout in milliseconds.
func encodeOpts(e *msgpack.Encoder, opts *socket.BroadcastOptions) error {
	_ = e.EncodeMapLen(3)
	_ = e.EncodeString("rooms")
	if err := encodeRooms(e, opts.Rooms); err != nil {
		return err
	}
	_ = e.EncodeString("except")
	if err := encodeRooms(e, opts.Except); err != nil {
		return err
	}
	_ = e.EncodeString("flags")
	return encodeValue(e, OptsFlags(opts))
}

func encodeRooms(e *msgpack.Encoder, rooms *types.Set[socket.Room]) error {
	return encodeStrings(e, fromRooms(rooms))
}

// decodeBroadcast reads a message of the broadcast channels: msgpack, or
// JSON (a JSON array) from a Node adapter configured with a JSON parser.
func decodeBroadcast(raw []byte) (uid string, p *parser.Packet, opts *socket.BroadcastOptions, err error) {
	var v any
	if len(raw) > 0 && raw[0] == '[' {
		v, err = decodeJSON(raw)
	} else {
		v, err = decodeValue(newDecoder(raw))
	}
	if err != nil {
		return "", nil, nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 3 {
		return "", nil, nil, errors.New("not a [uid, packet, opts] array")
	}
	uid, _ = arr[0].(string)
	pm, om := asMap(arr[1]), asMap(arr[2])
	if pm == nil || om == nil {
		return "", nil, nil, errors.New("packet or opts is not a map")
	}
	return uid, packetOf(pm), optsOf(om), nil
}

// packetOf builds a packet from its decoded map; a missing nsp is "/".
func packetOf(m map[string]any) *parser.Packet {
	p := &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: m["data"]}
	if t, ok := m["type"].(float64); ok {
		p.Type = parser.PacketType(t)
	}
	if nsp, ok := m["nsp"].(string); ok {
		p.Nsp = nsp
	}
	if id, ok := m["id"].(float64); ok && id >= 0 {
		u := uint64(id)
		p.Id = &u
	}
	return p
}

// optsOf builds broadcast options from their decoded map.
func optsOf(m map[string]any) *socket.BroadcastOptions {
	rooms, _ := m["rooms"].([]any)
	except, _ := m["except"].([]any)
	opts := &socket.BroadcastOptions{
		Rooms:  types.NewSet(toRooms(roomsOf(rooms))...),
		Except: types.NewSet(toRooms(roomsOf(except))...),
		Flags:  &socket.BroadcastFlags{},
	}
	if f := asMap(m["flags"]); f != nil {
		if c, ok := f["compress"].(bool); ok {
			opts.Flags.Compress = &c
		}
		opts.Flags.Volatile, _ = f["volatile"].(bool)
		opts.Flags.Local, _ = f["local"].(bool)
		opts.Flags.ExpectSingleResponse, _ = f["expectSingleResponse"].(bool)
		if ms, ok := f["timeout"].(float64); ok {
			d := time.Duration(ms) * time.Millisecond
			opts.Flags.Timeout = &d
		}
	}
	return opts
}

func toRooms(s []string) []socket.Room {
	out := make([]socket.Room, len(s))
	for i, r := range s {
		out[i] = socket.Room(r)
	}
	return out
}

// fromRooms lists a set of rooms, sorted: a Go set has no order, and
// equal sets should encode to equal bytes.
func fromRooms(s *types.Set[socket.Room]) roomList {
	out := roomList{}
	if s == nil {
		return out
	}
	for _, r := range s.Keys() {
		out = append(out, string(r))
	}
	slices.Sort(out)
	return out
}
