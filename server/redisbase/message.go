package redisbase

import (
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
)

// MessageType is a message type of socket.io-adapter's ClusterAdapter,
// the protocol the streams and the sharded adapters speak (Node's
// RedisStreamsAdapter and ShardedRedisAdapter both extend it; 1, 2 and 13
// are ClusterAdapterWithHeartbeat's heartbeats, which neither uses).
type MessageType int

// The types, with socket.io-adapter's numbers.
const (
	TypeBroadcast MessageType = iota + 3
	TypeSocketsJoin
	TypeSocketsLeave
	TypeDisconnectSockets
	TypeFetchSockets
	TypeFetchSocketsResponse
	TypeServerSideEmit
	TypeServerSideEmitResponse
	TypeBroadcastClientCount
	TypeBroadcastAck
)

// RandomID is 16 hex characters, as Node's randomBytes(8).toString("hex"):
// the form of socket.io-adapter's uids and request ids.
func RandomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MayContainBinary reports the types whose data the Node adapters write
// as msgpack when it holds binary (JSON otherwise).
func (t MessageType) MayContainBinary() bool {
	switch t {
	case TypeBroadcast, TypeFetchSocketsResponse, TypeServerSideEmit, TypeServerSideEmitResponse, TypeBroadcastAck:
		return true
	}
	return false
}

// Message is one message of ClusterAdapter's protocol, however it came
// (a stream entry, a channel's message): the sender's uid, the
// namespace, the type and its data, objects in the sender's key order.
type Message struct {
	UID  string
	Nsp  string
	Type MessageType
	Data map[string]any // nil: none
	// Value is Data as decoded, keys in the sender's order.
	Value *nodewire.Object
}

// Envelope is a message as ClusterAdapter writes it on a channel:
// {type, data, uid, nsp}, in the order it fills them in.
func Envelope(uid, nsp string, typ MessageType, data *nodewire.Object) *nodewire.Object {
	return nodewire.Obj("type", uint64(typ), "data", data, "uid", uid, "nsp", nsp)
}

// MessageOf reads a decoded Envelope.
func MessageOf(v any) (*Message, error) {
	fields := nodewire.AsMap(v)
	if fields == nil {
		return nil, errors.New("not an object")
	}
	t, ok := fields["type"].(float64)
	if !ok {
		return nil, errors.New("no type")
	}
	m := &Message{Type: MessageType(t), Data: nodewire.AsMap(fields["data"])}
	m.Value, _ = fields["data"].(*nodewire.Object)
	m.UID, _ = fields["uid"].(string)
	m.Nsp, _ = fields["nsp"].(string)
	return m, nil
}

// RequestID is the data's requestId ("" if none).
func (m *Message) RequestID() string {
	id, _ := m.Data["requestId"].(string)
	return id
}

// Opts is the data's broadcast options.
func (m *Message) Opts() *socket.BroadcastOptions {
	return nodewire.OptsOf(nodewire.AsMap(m.Data["opts"]))
}

// Rooms is the data's rooms list (socketsJoin, socketsLeave).
func (m *Message) Rooms() []socket.Room {
	items, _ := m.Data["rooms"].([]any)
	return nodewire.ToRooms(nodewire.RoomsOf(items))
}

// Packet is the data's broadcast packet, nil if it has none; its
// namespace is the message's.
func (m *Message) Packet() *parser.Packet {
	pm := nodewire.AsMap(m.Data["packet"])
	if pm == nil {
		return nil
	}
	p := nodewire.PacketOf(pm)
	p.Nsp = m.Nsp
	return p
}

// RoomNames is rooms as the strings the messages carry.
func RoomNames(rooms []socket.Room) []any {
	out := make([]any, len(rooms))
	for i, r := range rooms {
		out[i] = string(r)
	}
	return out
}
