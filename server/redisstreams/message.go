package redisstreams

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// seqField is the field of a stream entry, beyond the Node adapter's,
// that numbers the broadcasts of one adapter (uid): how its reader knows
// its own broadcasts (see ownEntries). Node's adapter reads uid, nsp,
// type and data only.
const seqField = "seq"

// entryFields are the fields of a stream entry, in the Node adapter's
// order: uid, nsp, type (decimal), data (JSON, or base64 msgpack when a
// type that may hold binary does).
func entryFields(uid, nsp string, typ redisbase.MessageType, data *nodewire.Object) ([]any, error) {
	return appendEntry(nil, uid, nsp, typ, data)
}

// appendEntry appends the entryFields to args (an XADD's, so that a
// broadcast builds one slice).
func appendEntry(args []any, uid, nsp string, typ redisbase.MessageType, data *nodewire.Object) ([]any, error) {
	fields := append(args, "uid", uid, "nsp", nsp, "type", strconv.Itoa(int(typ)))
	if data == nil {
		return fields, nil
	}
	var text string
	if typ.MayContainBinary() && nodewire.HasBinary(data) {
		raw, err := nodewire.EncodeMsgpack(data)
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
func decodeEntry(values map[string]any) (*redisbase.Message, error) {
	m := &redisbase.Message{}
	m.UID, _ = values["uid"].(string)
	m.Nsp, _ = values["nsp"].(string)
	ts, _ := values["type"].(string)
	t, err := strconv.Atoi(ts)
	if err != nil {
		return nil, fmt.Errorf("type %q", ts)
	}
	m.Type = redisbase.MessageType(t)
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
	if m.Data = nodewire.AsMap(v); m.Data == nil {
		return nil, errors.New("data is not an object")
	}
	m.Value, _ = v.(*nodewire.Object)
	return m, nil
}

// encodePubSub is a message on a channel: msgpack {type, data, uid, nsp},
// the order in which Node's adapter fills it.
func encodePubSub(uid, nsp string, typ redisbase.MessageType, data *nodewire.Object) ([]byte, error) {
	return nodewire.EncodeMsgpack(redisbase.Envelope(uid, nsp, typ, data))
}

// decodePubSub reads a message of a channel.
func decodePubSub(raw []byte) (*redisbase.Message, error) {
	if len(raw) > maxFieldBytes {
		return nil, fmt.Errorf("message of %d bytes", len(raw))
	}
	v, err := nodewire.DecodeMsgpack(raw)
	if err != nil {
		return nil, err
	}
	return redisbase.MessageOf(v)
}
