package nodewire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// What the Node adapters' messages carry besides values: packets,
// broadcast options, rooms, the sockets of fetchSockets answers, in the
// shapes Node's socket.io-adapter gives them.

// marshalJSON encodes v without HTML escaping, as JSON.stringify does.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// packetOf builds a packet from its decoded map; a missing nsp is "/".
func PacketOf(m map[string]any) *parser.Packet {
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
func OptsOf(m map[string]any) *socket.BroadcastOptions {
	rooms, _ := m["rooms"].([]any)
	except, _ := m["except"].([]any)
	opts := &socket.BroadcastOptions{
		Rooms:  types.NewSet(ToRooms(RoomsOf(rooms))...),
		Except: types.NewSet(ToRooms(RoomsOf(except))...),
		Flags:  &socket.BroadcastFlags{},
	}
	if f := AsMap(m["flags"]); f != nil {
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

func ToRooms(s []string) []socket.Room {
	out := make([]socket.Room, len(s))
	for i, r := range s {
		out[i] = socket.Room(r)
	}
	return out
}

// fromRooms lists a set of rooms, sorted: a Go set has no order, and
// equal sets should encode to equal bytes.
func FromRooms(s *types.Set[socket.Room]) RoomList {
	out := RoomList{}
	if s == nil {
		return out
	}
	for _, r := range s.Keys() {
		out = append(out, string(r))
	}
	slices.Sort(out)
	return out
}

// roomList is a list of rooms as JSON carries them: Node rooms may be
// numbers, which become their decimal string.
type RoomList []string

// UnmarshalJSON accepts strings and numbers.
func (r *RoomList) UnmarshalJSON(raw []byte) error {
	var items []any
	if err := json.Unmarshal(raw, &items); err != nil {
		return err
	}
	*r = RoomsOf(items)
	return nil
}

// roomsOf converts decoded room values to strings.
func RoomsOf(items []any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch v := it.(type) {
		case string:
			out = append(out, v)
		case float64:
			out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
		case nil:
		default:
			out = append(out, fmt.Sprint(v))
		}
	}
	return out
}

// wireSocket is one socket in a fetchSockets answer.
type Socket struct {
	ID        socket.SocketId   `json:"id"`
	Handshake *socket.Handshake `json:"handshake"`
	Rooms     RoomList          `json:"rooms"`
	Data      any               `json:"data"`
}

// jsonable is v if it has a JSON form, else nil: one socket's odd data
// must not void the whole fetchSockets answer.
func Jsonable(v any) any {
	if _, err := MarshalJSON(v); err != nil {
		return nil
	}
	return v
}

// nodeHandshake is a Go socket's handshake in the shape Node's has, so a
// Node server's fetchSockets finds what it expects: lower-case header
// names with string values (repeated headers joined by ", ", set-cookie
// a list), query values as strings, auth an object.
func NodeHandshake(h *socket.Handshake) *socket.Handshake {
	if h == nil {
		return nil
	}
	out := *h
	out.Headers = types.IncomingHttpHeaders{}
	for k, v := range h.Headers {
		k = strings.ToLower(k)
		switch vs := v.(type) {
		case []string:
			if k == "set-cookie" {
				out.Headers[k] = vs
			} else {
				out.Headers[k] = strings.Join(vs, ", ")
			}
		default:
			out.Headers[k] = v
		}
	}
	out.Query = types.ParsedUrlQuery{}
	for k, v := range h.Query {
		if vs, ok := v.([]string); ok && len(vs) == 1 {
			out.Query[k] = vs[0]
		} else {
			out.Query[k] = v
		}
	}
	if out.Auth == nil {
		out.Auth = map[string]any{}
	}
	return &out
}

// remoteSocket is a socket of another server, as fetchSockets returns it.
type remoteSocket struct{ w Socket }

func (r *remoteSocket) Id() socket.SocketId { return r.w.ID }

func (r *remoteSocket) Handshake() *socket.Handshake {
	if r.w.Handshake == nil {
		return &socket.Handshake{}
	}
	return r.w.Handshake
}

func (r *remoteSocket) Rooms() *types.Set[socket.Room] {
	return types.NewSet(ToRooms(r.w.Rooms)...)
}

func (r *remoteSocket) Data() any { return r.w.Data }

// decodeRemoteSocket reads one socket of a fetchSockets answer; a
// handshake of an unexpected shape is dropped, not the socket.
func decodeRemoteSocket(raw json.RawMessage) *remoteSocket {
	var loose struct {
		ID        socket.SocketId `json:"id"`
		Handshake json.RawMessage `json:"handshake"`
		Rooms     RoomList        `json:"rooms"`
		Data      json.RawMessage `json:"data"`
	}
	if json.Unmarshal(raw, &loose) != nil || loose.ID == "" {
		return nil
	}
	rs := &remoteSocket{w: Socket{ID: loose.ID, Rooms: loose.Rooms}}
	if len(loose.Data) > 0 {
		rs.w.Data, _ = DecodeJSON(loose.Data) // keys in order, as the other clients' data
	}
	var hs socket.Handshake
	if json.Unmarshal(loose.Handshake, &hs) == nil {
		rs.w.Handshake = &hs
	}
	return rs
}

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
func SocketOf(s socket.SocketDetails) Socket {
	return Socket{ID: s.Id(), Handshake: NodeHandshake(s.Handshake()), Rooms: FromRooms(s.Rooms()), Data: Jsonable(s.Data())}
}

// RemoteSocket reads one socket of a fetchSockets answer (JSON); nil if
// it is not one.
func RemoteSocket(raw json.RawMessage) socket.SocketDetails {
	if rs := decodeRemoteSocket(raw); rs != nil {
		return rs
	}
	return nil
}

// Obj is an object of the given keys and values, in that order:
// Obj("type", 2, "data", d) is {type: 2, data: d}.
func Obj(kv ...any) *Object {
	keys := make([]string, 0, len(kv)/2)
	values := make([]any, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		keys = append(keys, kv[i].(string))
		values = append(values, kv[i+1])
	}
	return NewObject(keys, values)
}

// PacketObject is a broadcast packet as socket.io-adapter's cluster
// messages carry it: {type, data} (and the id of a packet with one; the
// namespace is the message's).
func PacketObject(p *parser.Packet) *Object {
	if p.Id != nil {
		return Obj("type", uint64(p.Type), "data", p.Data, "id", *p.Id)
	}
	return Obj("type", uint64(p.Type), "data", p.Data)
}

// OptsObject is broadcast options as Node's encodeOptions writes them:
// {rooms, except, flags}.
func OptsObject(opts *socket.BroadcastOptions) *Object {
	if opts == nil {
		opts = &socket.BroadcastOptions{}
	}
	return Obj("rooms", FromRooms(opts.Rooms), "except", FromRooms(opts.Except), "flags", OptsFlags(opts))
}
