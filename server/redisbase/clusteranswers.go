package redisbase

import (
	"sync"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/nodewire"
)

// Handle handles another server's message m, if it is of this namespace
// (the adapter has skipped this server's own): a broadcast without
// acknowledgements goes to broadcast, its data made fit for this server's
// encoder; a broadcast that wants them, room joins and leaves,
// disconnects, requests and answers are served here.
func (r *ClusterRequests) Handle(m *Message, broadcast func(*parser.Packet, *socket.BroadcastOptions)) {
	if m.Nsp != r.nsp.Name() {
		return
	}
	switch m.Type {
	case TypeBroadcast:
		p := m.Packet()
		if p == nil {
			return
		}
		p.Data = nodewire.Deliverable(p.Data, r.Objects)
		if id := m.RequestID(); id != "" {
			r.broadcastForAck(m.UID, id, p, m.Opts())
			return
		}
		broadcast(p, m.Opts())
	case TypeSocketsJoin:
		r.Adapter.AddSockets(m.Opts(), m.Rooms())
	case TypeSocketsLeave:
		r.Adapter.DelSockets(m.Opts(), m.Rooms())
	case TypeDisconnectSockets:
		c, _ := m.Data["close"].(bool)
		r.Adapter.DisconnectSockets(m.Opts(), c)
	case TypeFetchSockets:
		r.answerFetch(m.UID, m.RequestID(), m.Opts())
	case TypeServerSideEmit:
		r.onServerSideEmit(m.UID, m.RequestID(), m.Data)
	case TypeFetchSocketsResponse, TypeServerSideEmitResponse, TypeBroadcastClientCount, TypeBroadcastAck:
		r.OnResponse(m.Type, m.Data)
	}
}

// broadcastForAck delivers another server's (from) broadcast id that
// wants acknowledgements, and sends them back.
func (r *ClusterRequests) broadcastForAck(from, id string, p *parser.Packet, opts *socket.BroadcastOptions) {
	r.Adapter.BroadcastWithAck(p, opts, func(n uint64) {
		r.t.Respond(from, TypeBroadcastClientCount, nodewire.Obj("requestId", id, "clientCount", n))
	}, func(args []any, _ error) {
		var arg any
		if len(args) > 0 {
			arg = args[0]
		}
		r.t.Respond(from, TypeBroadcastAck, nodewire.Obj("requestId", id, "packet", arg))
	})
}

// answerFetch answers another server's (from) fetchSockets request id
// with the local sockets opts matches.
func (r *ClusterRequests) answerFetch(from, id string, opts *socket.BroadcastOptions) {
	r.Adapter.FetchSockets(opts)(func(sockets []socket.SocketDetails, _ error) {
		out := make([]any, 0, len(sockets))
		for _, s := range sockets {
			out = append(out, nodewire.SocketOf(s))
		}
		r.t.Respond(from, TypeFetchSocketsResponse, nodewire.Obj("requestId", id, "sockets", out))
	})
}

// onServerSideEmit hands another server's (from) serverSideEmit, data
// holding its packet, to the namespace's listeners, with an
// acknowledgement that answers once when the sender wants one (id set).
func (r *ClusterRequests) onServerSideEmit(from, id string, data map[string]any) {
	args, _ := data["packet"].([]any)
	if len(args) == 0 {
		return
	}
	if id == "" {
		r.nsp.OnServerSideEmit(args)
		return
	}
	var once sync.Once
	ack := socket.Ack(func(res []any, _ error) {
		once.Do(func() {
			var arg any
			if len(res) > 0 {
				arg = res[0]
			}
			r.t.Respond(from, TypeServerSideEmitResponse, nodewire.Obj("requestId", id, "packet", arg))
		})
	})
	r.nsp.OnServerSideEmit(append(args, ack))
}

// OnResponse files an answer of type typ to one of our requests or
// broadcasts. Callbacks into application code run on their own goroutine
// (the callbacks the adapter's Close waits for).
func (r *ClusterRequests) OnResponse(typ MessageType, data map[string]any) {
	id, _ := data["requestId"].(string)
	if id == "" {
		return
	}
	if v, ok := r.acks.Load(id); ok {
		ar := v.(*ackRequest)
		switch typ {
		case TypeBroadcastClientCount:
			if n, ok := data["clientCount"].(float64); ok && n >= 0 {
				r.callbacks.Go(func() { ar.clientCount(uint64(n)) })
			}
		case TypeBroadcastAck:
			r.callbacks.Go(func() { ar.ack([]any{data["packet"]}, nil) })
		}
		return
	}
	v, ok := r.requests.Load(id)
	if !ok {
		return
	}
	p := v.(*pendingRequest)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch typ {
	case TypeFetchSocketsResponse:
		items, _ := data["sockets"].([]any)
		for _, it := range items {
			raw, err := nodewire.MarshalJSON(it)
			if err != nil {
				continue
			}
			if s := nodewire.RemoteSocket(raw); s != nil {
				p.sockets = append(p.sockets, s)
			}
		}
	case TypeServerSideEmitResponse:
		p.responses = append(p.responses, data["packet"])
	default:
		return
	}
	if p.answered() {
		p.finish()
	}
}
