package redisadapter

import (
	"encoding/json"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// What the Redis Streams adapter (server/redisstreams) shares with this
// one: its messages carry the same JavaScript values (packets, broadcast
// options, fetchSockets answers), so they are written and read by the
// same code.

// NewObject is an object with keys[i] set to values[i], in that order.
func NewObject(keys []string, values []any) *Object {
	return &Object{keys: keys, values: values}
}

// EncodeValue writes v as msgpack, the way Node's encoders write the
// equivalent JavaScript value (see codec.go).
func EncodeValue(e *msgpack.Encoder, v any) error { return encodeValue(e, v) }

// DecodeMsgpack reads one msgpack value: objects as *Object, keys in
// order, numbers as a JSON decode gives them.
func DecodeMsgpack(raw []byte) (any, error) { return decodeValue(newDecoder(raw)) }

// DecodeJSON reads one JSON value as DecodeMsgpack reads msgpack.
func DecodeJSON(raw []byte) (any, error) { return decodeJSON(raw) }

// MarshalJSON encodes v as JSON.stringify does (no HTML escapes).
func MarshalJSON(v any) ([]byte, error) { return marshalJSON(v) }

// AsMap is a decoded object as a map; nil if v is no object.
func AsMap(v any) map[string]any { return asMap(v) }

// PacketOf builds a Socket.IO packet from its decoded map.
func PacketOf(m map[string]any) *parser.Packet { return packetOf(m) }

// OptsOf builds broadcast options from their decoded map
// ({rooms, except, flags}).
func OptsOf(m map[string]any) *socket.BroadcastOptions { return optsOf(m) }

// OptsFlags is the flags of broadcast options as the Node adapters write
// them: only what is set, with Node's names, the timeout in milliseconds.
func OptsFlags(opts *socket.BroadcastOptions) *Object {
	var keys []string
	var vals []any
	if f := opts.Flags; f != nil {
		if f.Compress != nil {
			keys, vals = append(keys, "compress"), append(vals, *f.Compress)
		}
		if f.Volatile {
			keys, vals = append(keys, "volatile"), append(vals, true)
		}
		if f.Timeout != nil {
			keys, vals = append(keys, "timeout"), append(vals, f.Timeout.Milliseconds())
		}
		if f.ExpectSingleResponse {
			keys, vals = append(keys, "expectSingleResponse"), append(vals, true)
		}
	}
	return NewObject(keys, vals)
}

// RoomsOf converts decoded room values (strings, or Node's numbers) to
// strings.
func RoomsOf(items []any) []string { return roomsOf(items) }

// FromRooms lists a set of rooms, sorted.
func FromRooms(s *types.Set[socket.Room]) []string { return fromRooms(s) }

// ToRooms converts room names to rooms.
func ToRooms(s []string) []socket.Room { return toRooms(s) }

// HasBinary reports whether v is or holds binary.
func HasBinary(v any) bool { return hasBinary(v) }

// Deliverable is data another server sent, made fit for the local
// encoder: unless the server's parser is Parser's, objects holding binary
// become maps.
func Deliverable(data any, objectParser bool) any {
	if objectParser {
		return data
	}
	return binaryAsMaps(data)
}

// IsObjectEncoder reports whether e writes *Object itself, binary inside
// included: Parser's encoder, or one that says so (the msgpack parser's,
// through a WritesOrderedObjects method returning true).
func IsObjectEncoder(e parser.Encoder) bool {
	if _, ok := e.(objectEncoder); ok {
		return true
	}
	w, ok := e.(interface{ WritesOrderedObjects() bool })
	return ok && w.WritesOrderedObjects()
}

// SocketOf is a local socket as a fetchSockets answer carries it:
// {id, handshake, rooms, data}, the handshake in Node's shape.
func SocketOf(s socket.SocketDetails) any { return socketOf(s) }

func socketOf(s socket.SocketDetails) wireSocket {
	w := wireSocket{ID: s.Id(), Handshake: nodeHandshake(s.Handshake()), Rooms: fromRooms(s.Rooms()), Data: jsonable(s.Data())}
	return w
}

// RemoteSocket reads one socket of a fetchSockets answer (JSON); nil if
// it is not one.
func RemoteSocket(raw json.RawMessage) socket.SocketDetails {
	if rs := decodeRemoteSocket(raw); rs != nil {
		return rs
	}
	return nil
}
