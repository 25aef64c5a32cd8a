package redissharded

import (
	"errors"
	"fmt"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// maxMessageBytes bounds a message this server decodes.
const maxMessageBytes = 64 << 20

// encode writes a message as the Node adapter does: {type, data, uid,
// nsp} (the order ClusterAdapter fills it in), as msgpack when a type
// that may hold binary does, else as JSON.stringify writes it.
func encode(uid, nsp string, typ redisbase.MessageType, data *nodewire.Object) ([]byte, error) {
	msg := redisbase.Envelope(uid, nsp, typ, data)
	if typ.MayContainBinary() && nodewire.HasBinary(data) {
		return nodewire.EncodeMsgpack(msg)
	}
	return nodewire.MarshalJSON(msg)
}

// decode reads a message: JSON when it starts with "{", else msgpack.
func decode(raw []byte) (*redisbase.Message, error) {
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
	m, err := redisbase.MessageOf(v)
	if err == nil && m.Data == nil {
		return nil, errors.New("no data")
	}
	return m, err
}
