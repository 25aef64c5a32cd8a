package redisadapter

import (
	"bytes"
	"errors"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
)

// encodeBroadcast is the message on the broadcast channels:
// [uid, {type, data, nsp}, {rooms, except, flags}].
func encodeBroadcast(uid string, p *parser.Packet, opts *socket.BroadcastOptions) ([]byte, error) {
	var buf bytes.Buffer
	e := nodewire.NewEncoder(&buf)
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
	if err := nodewire.EncodeValue(enc, p.Data); err != nil {
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
	return nodewire.EncodeValue(e, nodewire.OptsFlags(opts))
}

func encodeRooms(e *msgpack.Encoder, rooms *types.Set[socket.Room]) error {
	return nodewire.EncodeStrings(e, nodewire.FromRooms(rooms))
}

// decodeBroadcast reads a message of the broadcast channels: msgpack, or
// JSON (a JSON array) from a Node adapter configured with a JSON parser.
func decodeBroadcast(raw []byte) (uid string, p *parser.Packet, opts *socket.BroadcastOptions, err error) {
	var v any
	if len(raw) > 0 && raw[0] == '[' {
		v, err = nodewire.DecodeJSON(raw)
	} else {
		v, err = nodewire.DecodeMsgpack(raw)
	}
	if err != nil {
		return "", nil, nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) < 3 {
		return "", nil, nil, errors.New("not a [uid, packet, opts] array")
	}
	uid, _ = arr[0].(string)
	pm, om := nodewire.AsMap(arr[1]), nodewire.AsMap(arr[2])
	if pm == nil || om == nil {
		return "", nil, nil, errors.New("packet or opts is not a map")
	}
	return uid, nodewire.PacketOf(pm), nodewire.OptsOf(om), nil
}
