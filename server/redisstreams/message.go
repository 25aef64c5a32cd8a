package redisstreams

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

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

// message is one message of the cluster, read from the stream or from a
// channel; data's objects keep the sender's key order.
type message struct {
	uid  string
	nsp  string
	typ  messageType
	data map[string]any // nil: none
	// value is data as decoded, keys in the sender's order.
	value *nodewire.Object
}

// entryFields are the fields of a stream entry, in the Node adapter's
// order: uid, nsp, type (decimal), data (JSON, or base64 msgpack when a
// type that may hold binary does).
func entryFields(uid, nsp string, typ messageType, data *nodewire.Object) ([]any, error) {
	fields := []any{"uid", uid, "nsp", nsp, "type", strconv.Itoa(int(typ))}
	if data == nil {
		return fields, nil
	}
	var text string
	if typ.MayContainBinary() && nodewire.HasBinary(data) {
		raw, err := encodeMsgpack(data)
		if err != nil {
			return nil, err
		}
		text = base64.StdEncoding.EncodeToString(raw)
	} else {
		raw, err := nodewire.MarshalJSON(data)
		if err != nil {
			return nil, err
		}
		text = string(raw)
	}
	return append(fields, "data", text), nil
}

// decodeEntry reads the fields of a stream entry.
func decodeEntry(values map[string]any) (*message, error) {
	m := &message{}
	m.uid, _ = values["uid"].(string)
	m.nsp, _ = values["nsp"].(string)
	ts, _ := values["type"].(string)
	t, err := strconv.Atoi(ts)
	if err != nil {
		return nil, fmt.Errorf("type %q", ts)
	}
	m.typ = messageType(t)
	text, _ := values["data"].(string)
	if text == "" {
		return m, nil
	}
	if len(text) > maxFieldBytes {
		return nil, fmt.Errorf("data of %d bytes", len(text))
	}
	var v any
	if text[0] == '{' {
		v, err = nodewire.DecodeJSON([]byte(text))
	} else {
		var raw []byte
		if raw, err = base64.StdEncoding.DecodeString(text); err == nil {
			v, err = nodewire.DecodeMsgpack(raw)
		}
	}
	if err != nil {
		return nil, err
	}
	if m.data = nodewire.AsMap(v); m.data == nil {
		return nil, errors.New("data is not an object")
	}
	m.value, _ = v.(*nodewire.Object)
	return m, nil
}

// encodePubSub is a message on a channel: msgpack {type, data, uid, nsp},
// the order in which Node's adapter fills it.
func encodePubSub(uid, nsp string, typ messageType, data *nodewire.Object) ([]byte, error) {
	return encodeMsgpack(nodewire.Obj("type", uint64(typ), "data", data, "uid", uid, "nsp", nsp))
}

// decodePubSub reads a message of a channel.
func decodePubSub(raw []byte) (*message, error) {
	if len(raw) > maxFieldBytes {
		return nil, fmt.Errorf("message of %d bytes", len(raw))
	}
	v, err := nodewire.DecodeMsgpack(raw)
	if err != nil {
		return nil, err
	}
	fields := nodewire.AsMap(v)
	if fields == nil {
		return nil, errors.New("not an object")
	}
	m := &message{data: nodewire.AsMap(fields["data"])}
	m.value, _ = fields["data"].(*nodewire.Object)
	m.uid, _ = fields["uid"].(string)
	m.nsp, _ = fields["nsp"].(string)
	t, ok := fields["type"].(float64)
	if !ok {
		return nil, errors.New("no type")
	}
	m.typ = messageType(t)
	return m, nil
}

func encodeMsgpack(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := nodewire.EncodeValue(msgpack.NewEncoder(&buf), v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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

// packet is the data's broadcast packet, nil if it has none; its
// namespace is the message's.
func (m *message) packet() *parser.Packet {
	pm := nodewire.AsMap(m.data["packet"])
	if pm == nil {
		return nil
	}
	p := nodewire.PacketOf(pm)
	p.Nsp = m.nsp
	return p
}
