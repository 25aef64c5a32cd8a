package redisadapter

import (
	"errors"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
)

// encodeBroadcast is the message on the broadcast channels:
// [uid, {type, data, nsp}, {rooms, except, flags}].
func encodeBroadcast(uid string, p *parser.Packet, opts *socket.BroadcastOptions) ([]byte, error) {
	b := nodewire.AppendString(nodewire.AppendArrayLen(nil, 3), uid)
	b, err := appendPacket(b, p)
	if err != nil {
		return nil, err
	}
	return appendOpts(b, opts)
}

// appendPacket appends a Socket.IO packet as the Node adapter publishes
// it: {type, data, nsp, id}.
func appendPacket(b []byte, p *parser.Packet) ([]byte, error) {
	n := 3
	if p.Id != nil {
		n++
	}
	b = nodewire.AppendMapLen(b, n)
	b = nodewire.AppendUint(nodewire.AppendString(b, "type"), uint64(p.Type))
	b, err := nodewire.AppendValue(nodewire.AppendString(b, "data"), p.Data)
	if err != nil {
		return nil, err
	}
	b = nodewire.AppendString(nodewire.AppendString(b, "nsp"), p.Nsp)
	if p.Id != nil {
		b = nodewire.AppendUint(nodewire.AppendString(b, "id"), *p.Id)
	}
	return b, nil
}

// appendOpts appends {rooms, except, flags}; flags holds only what is
// set, with Node's names and the timeout in milliseconds.
func appendOpts(b []byte, opts *socket.BroadcastOptions) ([]byte, error) {
	return nodewire.AppendValue(b, nodewire.Obj(
		"rooms", nodewire.FromRooms(opts.Rooms),
		"except", nodewire.FromRooms(opts.Except),
		"flags", nodewire.OptsFlags(opts)))
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
