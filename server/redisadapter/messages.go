package redisadapter

import (
	"encoding/json"
	"fmt"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
)

// requestType numbers the messages on the request and response channels,
// as the Node adapter's RequestType enum does.
type requestType int

const (
	typeSockets              requestType = 0 // ids of the matching sockets
	typeAllRooms             requestType = 1
	typeRemoteJoin           requestType = 2
	typeRemoteLeave          requestType = 3
	typeRemoteDisconnect     requestType = 4
	typeRemoteFetch          requestType = 5
	typeServerSideEmit       requestType = 6
	typeBroadcast            requestType = 7 // a broadcast that wants acks
	typeBroadcastClientCount requestType = 8
	typeBroadcastAck         requestType = 9
)

// wireOpts is the rooms/except part of a request's opts.
type wireOpts struct {
	Rooms  nodewire.RoomList `json:"rooms"`
	Except nodewire.RoomList `json:"except"`
}

// request is a message on the request channel. Field order is Node's, so
// the JSON reads the same whoever wrote it.
type request struct {
	UID       string             `json:"uid"`
	RequestID string             `json:"requestId,omitempty"`
	Type      requestType        `json:"type"`
	Opts      *wireOpts          `json:"opts,omitempty"`
	Rooms     *nodewire.RoomList `json:"rooms,omitempty"`
	Close     *bool              `json:"close,omitempty"`
	Data      []any              `json:"data,omitempty"`
	// Sid and Room are the per-socket form of join, leave and disconnect
	// that adapters before 7.x sent.
	Sid  string `json:"sid,omitempty"`
	Room any    `json:"room,omitempty"`

	packet *parser.Packet           // typeBroadcast only
	bopts  *socket.BroadcastOptions // typeBroadcast only
}

// response is a message on a response channel.
type response struct {
	Type        *requestType       `json:"type,omitempty"`
	RequestID   string             `json:"requestId"`
	Sockets     json.RawMessage    `json:"sockets,omitempty"`
	Rooms       *nodewire.RoomList `json:"rooms,omitempty"`
	ClientCount *uint64            `json:"clientCount,omitempty"`

	packet any // typeBroadcastAck only
	data   any // typeServerSideEmit only
}

// encodeBroadcastRequest is the msgpack request of a broadcast that wants
// acknowledgements: {uid, requestId, type: 7, packet, opts}.
func encodeBroadcastRequest(uid, requestID string, p *parser.Packet, opts *socket.BroadcastOptions) ([]byte, error) {
	b := nodewire.AppendMapLen(nil, 5)
	b = nodewire.AppendString(nodewire.AppendString(b, "uid"), uid)
	b = nodewire.AppendString(nodewire.AppendString(b, "requestId"), requestID)
	b = nodewire.AppendUint(nodewire.AppendString(b, "type"), uint64(typeBroadcast))
	b, err := appendPacket(nodewire.AppendString(b, "packet"), p)
	if err != nil {
		return nil, err
	}
	return appendOpts(nodewire.AppendString(b, "opts"), opts)
}

// encodeBroadcastAck is the msgpack response carrying one client's
// acknowledgement: {type: 9, requestId, packet: <its first argument>}.
func encodeBroadcastAck(requestID string, arg any) ([]byte, error) {
	b := nodewire.AppendMapLen(nil, 3)
	b = nodewire.AppendUint(nodewire.AppendString(b, "type"), uint64(typeBroadcastAck))
	b = nodewire.AppendString(nodewire.AppendString(b, "requestId"), requestID)
	return nodewire.AppendValue(nodewire.AppendString(b, "packet"), arg)
}

// decodeMessage tells JSON from msgpack as the Node adapter does: a
// message starting with "{" is JSON, and is also decoded into jsonDst;
// anything else is msgpack. Either way it returns the message as a map
// whose values are decoded as broadcasts are (objects in order); of a
// JSON message, the map holds only the fields that carry application
// data (data, packet, opts), the others being jsonDst's.
func decodeMessage(raw []byte, jsonDst any, what string) (m map[string]any, isJSON bool, err error) {
	if len(raw) == 0 || raw[0] != '{' {
		v, err := nodewire.DecodeMsgpack(raw)
		if err != nil {
			return nil, false, err
		}
		if m = nodewire.AsMap(v); m == nil {
			return nil, false, fmt.Errorf("%s is not a map", what)
		}
		return m, false, nil
	}
	if err := json.Unmarshal(raw, jsonDst); err != nil {
		return nil, true, err
	}
	var fields struct {
		Data   json.RawMessage `json:"data"`
		Packet json.RawMessage `json:"packet"`
		Opts   json.RawMessage `json:"opts"`
	}
	_ = json.Unmarshal(raw, &fields) // raw is valid JSON: jsonDst was read
	m = map[string]any{}
	for k, v := range map[string]json.RawMessage{"data": fields.Data, "packet": fields.Packet, "opts": fields.Opts} {
		if len(v) == 0 {
			continue
		}
		if m[k], err = nodewire.DecodeJSON(v); err != nil {
			return nil, true, err
		}
	}
	return m, true, nil
}

// decodeRequest reads a request: JSON if it starts with "{" (as the Node
// adapter decides), msgpack otherwise.
func decodeRequest(raw []byte) (*request, error) {
	r := &request{}
	m, isJSON, err := decodeMessage(raw, r, "request")
	if err != nil {
		return nil, err
	}
	if !isJSON {
		r.UID, _ = m["uid"].(string)
		r.RequestID, _ = m["requestId"].(string)
		if t, ok := m["type"].(float64); ok {
			r.Type = requestType(t)
		}
	}
	if data, ok := m["data"].([]any); ok {
		r.Data = data
	}
	if pm := nodewire.AsMap(m["packet"]); pm != nil {
		r.packet = nodewire.PacketOf(pm)
	}
	if om := nodewire.AsMap(m["opts"]); om != nil {
		r.bopts = nodewire.OptsOf(om)
	}
	return r, nil
}

// decodeResponse reads a response, JSON or msgpack like a request.
func decodeResponse(raw []byte) (*response, error) {
	r := &response{}
	m, isJSON, err := decodeMessage(raw, r, "response")
	if err != nil {
		return nil, err
	}
	if !isJSON {
		r.RequestID, _ = m["requestId"].(string)
		if t, ok := m["type"].(float64); ok {
			rt := requestType(t)
			r.Type = &rt
		}
	}
	r.packet, r.data = m["packet"], m["data"]
	return r, nil
}

// optsFromWire makes broadcast options of a request's rooms/except.
func optsFromWire(w *wireOpts) *socket.BroadcastOptions {
	opts := &socket.BroadcastOptions{Rooms: types.NewSet[socket.Room](), Except: types.NewSet[socket.Room](), Flags: &socket.BroadcastFlags{}}
	if w != nil {
		opts.Rooms.Add(nodewire.ToRooms(w.Rooms)...)
		opts.Except.Add(nodewire.ToRooms(w.Except)...)
	}
	return opts
}

// optsToWire is the opts of a request made from broadcast options.
func optsToWire(opts *socket.BroadcastOptions) *wireOpts {
	if opts == nil {
		return &wireOpts{Rooms: nodewire.RoomList{}, Except: nodewire.RoomList{}}
	}
	return &wireOpts{Rooms: nodewire.FromRooms(opts.Rooms), Except: nodewire.FromRooms(opts.Except)}
}
