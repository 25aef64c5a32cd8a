package redisadapter

import (
	"fmt"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
)

// onRequest serves another server's request, as the Node adapter does.
// Requests of ours come back on the channel too: join, leave and
// disconnect were applied locally when made, the others are recognised
// by their pending request id or our uid.
func (a *Adapter) onRequest(raw []byte) {
	req, err := decodeRequest(raw)
	if err != nil {
		a.link.Log.Warn("decode", "malformed cluster request ignored", "err", err)
		return
	}
	switch req.Type {
	case typeSockets:
		if req.UID == a.uid || a.isOurs(req.RequestID) {
			return
		}
		var rooms []socket.Room
		if req.Rooms != nil {
			rooms = nodewire.ToRooms(*req.Rooms)
		}
		ids := a.Adapter.Sockets(types.NewSet(rooms...)).Keys()
		if ids == nil {
			ids = []socket.SocketId{}
		}
		a.respondJSON(req, map[string]any{"requestId": req.RequestID, "sockets": ids})

	case typeAllRooms:
		if req.UID == a.uid || a.isOurs(req.RequestID) {
			return
		}
		a.respondJSON(req, &response{RequestID: req.RequestID, Rooms: ptr(nodewire.FromRooms(types.NewSet(a.Rooms().Keys()...)))})

	case typeRemoteJoin, typeRemoteLeave, typeRemoteDisconnect:
		if req.Opts == nil {
			a.onSocketRequest(req)
			return
		}
		if req.UID == a.uid {
			return
		}
		opts := optsFromWire(req.Opts)
		var rooms []socket.Room
		if req.Rooms != nil {
			rooms = nodewire.ToRooms(*req.Rooms)
		}
		switch req.Type {
		case typeRemoteJoin:
			a.Adapter.AddSockets(opts, rooms)
		case typeRemoteLeave:
			a.Adapter.DelSockets(opts, rooms)
		default:
			a.Adapter.DisconnectSockets(opts, req.Close != nil && *req.Close)
		}

	case typeRemoteFetch:
		if req.UID == a.uid || a.isOurs(req.RequestID) {
			return
		}
		a.Adapter.FetchSockets(optsFromWire(req.Opts))(func(sockets []socket.SocketDetails, _ error) {
			out := make([]nodewire.Socket, 0, len(sockets))
			for _, s := range sockets {
				out = append(out, nodewire.SocketOf(s))
			}
			a.respondJSON(req, map[string]any{"requestId": req.RequestID, "sockets": out})
		})

	case typeServerSideEmit:
		if req.UID == a.uid || len(req.Data) == 0 {
			return
		}
		if req.RequestID == "" {
			a.nsp.OnServerSideEmit(req.Data)
			return
		}
		a.nsp.OnServerSideEmit(append(req.Data, a.ackOnce(req.RequestID)))

	case typeBroadcast:
		if req.packet == nil || req.bopts == nil || req.UID == a.uid || a.isOurs(req.RequestID) {
			return
		}
		req.packet.Data = a.deliverable(req.packet.Data)
		a.Adapter.BroadcastWithAck(req.packet, req.bopts, func(n uint64) {
			t := typeBroadcastClientCount
			a.respondJSON(req, &response{Type: &t, RequestID: req.RequestID, ClientCount: &n})
		}, func(args []any, _ error) {
			var arg any
			if len(args) > 0 {
				arg = args[0]
			}
			raw, err := encodeBroadcastAck(req.RequestID, arg)
			if err != nil {
				a.link.Log.Warn("encode", "broadcast acknowledgement not sent", "err", err)
				return
			}
			a.link.Pub.Publish(a.responseChannelFor(req), raw)
		})
	}
}

// onSocketRequest serves the per-socket join, leave and disconnect that
// adapters before 7.x sent ({sid, room} or {sid, close}).
func (a *Adapter) onSocketRequest(req *request) {
	s, ok := a.nsp.Sockets().Load(socket.SocketId(req.Sid))
	if !ok {
		return
	}
	room := socket.Room(fmt.Sprint(req.Room))
	switch req.Type {
	case typeRemoteJoin:
		s.Join(room)
	case typeRemoteLeave:
		s.Leave(room)
	default:
		s.Disconnect(req.Close != nil && *req.Close)
	}
	a.respondJSON(req, &response{RequestID: req.RequestID})
}

// responseChannelFor is where the answer to req goes: the shared response
// channel, or the requester's own with PublishOnSpecificResponseChannel.
func (a *Adapter) responseChannelFor(req *request) string {
	if a.opts.PublishOnSpecificResponseChannel {
		return a.responseChannel + req.UID + "#"
	}
	return a.responseChannel
}

func (a *Adapter) respondJSON(req *request, v any) {
	raw, err := nodewire.MarshalJSON(v)
	if err != nil {
		a.link.Log.Warn("encode", "cluster response not sent", "type", req.Type, "err", err)
		return
	}
	a.link.Pub.Publish(a.responseChannelFor(req), raw)
}

func ptr[T any](v T) *T { return &v }
