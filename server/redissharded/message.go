package redissharded

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// messageType numbers the messages, as socket.io-adapter's MessageType.
// messageType is socket.io-adapter's ClusterAdapter message type.
type messageType = redisbase.MessageType

const (
	typeBroadcast              = redisbase.TypeBroadcast
	typeSocketsJoin            = redisbase.TypeSocketsJoin
	typeSocketsLeave           = redisbase.TypeSocketsLeave
	typeDisconnectSockets      = redisbase.TypeDisconnectSockets
	typeFetchSockets           = redisbase.TypeFetchSockets
	typeFetchSocketsResponse   = redisbase.TypeFetchSocketsResponse
	typeServerSideEmit         = redisbase.TypeServerSideEmit
	typeServerSideEmitResponse = redisbase.TypeServerSideEmitResponse
	typeBroadcastClientCount   = redisbase.TypeBroadcastClientCount
	typeBroadcastAck           = redisbase.TypeBroadcastAck
)

// maxMessageBytes bounds a message this server decodes.
const maxMessageBytes = 64 << 20

// message is one message of the cluster; data's objects keep the
// sender's key order.
type message struct {
	uid  string
	nsp  string
	typ  messageType
	data map[string]any
}

// encode writes a message as the Node adapter does: {type, data, uid,
// nsp} (the order ClusterAdapter fills it in), as msgpack when a type
// that may hold binary does, else as JSON.stringify writes it.
func encode(uid, nsp string, typ messageType, data *nodewire.Object) ([]byte, error) {
	msg := nodewire.Obj("type", uint64(typ), "data", data, "uid", uid, "nsp", nsp)
	if typ.MayContainBinary() && nodewire.HasBinary(data) {
		var buf bytes.Buffer
		if err := nodewire.EncodeValue(msgpack.NewEncoder(&buf), msg); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return nodewire.MarshalJSON(msg)
}

// decode reads a message: JSON when it starts with "{", else msgpack.
func decode(raw []byte) (*message, error) {
	if len(raw) == 0 || len(raw) > maxMessageBytes {
		return nil, fmt.Errorf("message of %d bytes", len(raw))
	}
	var v any
	var err error
	if raw[0] == '{' {
		v, err = nodewire.DecodeJSON(raw)
	} else {
		v, err = nodewire.DecodeMsgpack(raw)
	}
	if err != nil {
		return nil, err
	}
	fields := nodewire.AsMap(v)
	if fields == nil {
		return nil, errors.New("not an object")
	}
	m := &message{data: nodewire.AsMap(fields["data"])}
	m.uid, _ = fields["uid"].(string)
	m.nsp, _ = fields["nsp"].(string)
	t, ok := fields["type"].(float64)
	if !ok {
		return nil, errors.New("no type")
	}
	m.typ = messageType(t)
	if m.data == nil {
		return nil, errors.New("no data")
	}
	return m, nil
}

// requestID is the data's requestId ("" if none).
func (m *message) requestID() string {
	id, _ := m.data["requestId"].(string)
	return id
}

// opts is the data's broadcast options.
func (m *message) opts() *socket.BroadcastOptions {
	return nodewire.OptsOf(nodewire.AsMap(m.data["opts"]))
}

// rooms is the data's rooms list (socketsJoin, socketsLeave).
func (m *message) rooms() []socket.Room {
	items, _ := m.data["rooms"].([]any)
	return nodewire.ToRooms(nodewire.RoomsOf(items))
}

// packet is the data's broadcast packet, nil if it has none.
func (m *message) packet() *parser.Packet {
	pm := nodewire.AsMap(m.data["packet"])
	if pm == nil {
		return nil
	}
	p := nodewire.PacketOf(pm)
	p.Nsp = m.nsp
	return p
}
