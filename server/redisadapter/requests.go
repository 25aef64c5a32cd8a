package redisadapter

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/nodewire"
	"feedrt/server/redisbase"
)

// errClosed answers requests still waiting when the adapter closes.
var errClosed = errors.New("redis adapter closed")

// pending is a request of ours waiting for the other servers' answers.
// Like the Node adapter, it waits for as many answers as PUBSUB NUMSUB
// counted subscribers, or until RequestsTimeout.
type pending struct {
	typ    requestType
	want   int64 // answers that complete it
	got    int64
	done   chan struct{}
	closed bool

	sockets   []socket.SocketDetails // typeRemoteFetch
	ids       []socket.SocketId      // typeSockets
	rooms     []string               // typeAllRooms
	responses []any                  // typeServerSideEmit
}

// ackRequest is a broadcast of ours whose remote acks are forwarded.
type ackRequest struct {
	clientCount func(uint64)
	ack         socket.Ack
}

// ask publishes req and waits for its answers; it returns the pending
// request whatever happened, with an error if not all answers came.
func (a *Adapter) ask(req *request, p *pending, what string) (*pending, error) {
	raw, err := nodewire.MarshalJSON(req)
	if err != nil {
		return p, err
	}
	p.done = make(chan struct{})
	own := p.got // this server's part, counted before any answer
	a.mu.Lock()
	a.requests[req.RequestID] = p
	a.mu.Unlock()
	if !a.link.Pub.Publish(a.requestChannel, raw) {
		a.forget(req.RequestID)
		return p, fmt.Errorf("%s: request not published", what)
	}
	t := time.NewTimer(a.opts.RequestsTimeout)
	defer t.Stop()
	select {
	case <-p.done:
		a.requestDone(p, own, false)
		return p, nil
	case <-t.C:
		a.forget(req.RequestID)
		got, want := a.requestDone(p, own, true)
		return p, fmt.Errorf("timeout reached while waiting for %s response (%d of %d)", what, got, want)
	case <-a.closed:
		return p, errClosed
	}
}

// requestDone tells the Observer how many other servers answered p, and
// returns its answer count and the count it waited for.
func (a *Adapter) requestDone(p *pending, own int64, timedOut bool) (got, want int64) {
	a.mu.Lock()
	got, want = p.got, p.want
	a.mu.Unlock()
	a.opts.Observer.RequestDone(int(got-own), int(want-own), timedOut)
	return got, want
}

func (a *Adapter) forget(id string) {
	a.mu.Lock()
	delete(a.requests, id)
	a.mu.Unlock()
}

// failPending releases every waiter at close.
func (a *Adapter) failPending() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, p := range a.requests {
		delete(a.requests, id)
		if !p.closed {
			p.closed = true
			close(p.done)
		}
	}
}

// ServerCount is the number of servers subscribed to the namespace's
// request channel, this one included; 1 if Redis does not answer.
func (a *Adapter) ServerCount() int64 {
	n, err := a.serverCount()
	if err != nil {
		return 1
	}
	return n
}

func (a *Adapter) serverCount() (int64, error) {
	return redisbase.Subscribers(a.link.RDB, a.requestChannel, a.opts.CommandTimeout)
}

// FetchSockets returns the matching sockets of every server: the local
// ones, then those the others send within RequestsTimeout. On a timeout
// or with Redis down the callback gets what arrived and an error.
func (a *Adapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return redisbase.FetchAcross(a.Adapter, opts, a.serverCount, func(n int64) ([]socket.SocketDetails, error) {
		req := &request{UID: a.uid, RequestID: newUID(), Type: typeRemoteFetch, Opts: optsToWire(opts)}
		p, err := a.ask(req, &pending{typ: typeRemoteFetch, want: n, got: 1}, "fetchSockets")
		a.mu.Lock()
		defer a.mu.Unlock()
		return p.sockets, err
	})
}

// AllSockets returns the ids of the matching sockets of every server (no
// rooms: all of the namespace's).
func (a *Adapter) AllSockets(rooms ...socket.Room) (*types.Set[socket.SocketId], error) {
	ids := a.Adapter.Sockets(types.NewSet(rooms...))
	n, err := a.serverCount()
	if err != nil || n <= 1 {
		return ids, err
	}
	rl := nodewire.FromRooms(types.NewSet(rooms...))
	req := &request{UID: a.uid, RequestID: newUID(), Type: typeSockets, Rooms: &rl}
	p, err := a.ask(req, &pending{typ: typeSockets, want: n, got: 1}, "allSockets")
	a.mu.Lock()
	ids.Add(p.ids...)
	a.mu.Unlock()
	return ids, err
}

// AllRooms returns the rooms of every server.
func (a *Adapter) AllRooms() (*types.Set[socket.Room], error) {
	rooms := types.NewSet(a.Rooms().Keys()...)
	n, err := a.serverCount()
	if err != nil || n <= 1 {
		return rooms, err
	}
	req := &request{UID: a.uid, RequestID: newUID(), Type: typeAllRooms}
	p, err := a.ask(req, &pending{typ: typeAllRooms, want: n, got: 1}, "allRooms")
	a.mu.Lock()
	rooms.Add(nodewire.ToRooms(p.rooms)...)
	a.mu.Unlock()
	return rooms, err
}

// AddSockets makes the matching sockets of every server join rooms: the
// local ones now, the others when they read the request.
func (a *Adapter) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	a.Adapter.AddSockets(opts, rooms)
	if !isLocal(opts) {
		rl := nodewire.FromRooms(types.NewSet(rooms...))
		a.tell(&request{UID: a.uid, Type: typeRemoteJoin, Opts: optsToWire(opts), Rooms: &rl})
	}
}

// DelSockets makes the matching sockets of every server leave rooms.
func (a *Adapter) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	a.Adapter.DelSockets(opts, rooms)
	if !isLocal(opts) {
		rl := nodewire.FromRooms(types.NewSet(rooms...))
		a.tell(&request{UID: a.uid, Type: typeRemoteLeave, Opts: optsToWire(opts), Rooms: &rl})
	}
}

// DisconnectSockets disconnects the matching sockets of every server.
func (a *Adapter) DisconnectSockets(opts *socket.BroadcastOptions, closeConn bool) {
	a.Adapter.DisconnectSockets(opts, closeConn)
	if !isLocal(opts) {
		a.tell(&request{UID: a.uid, Type: typeRemoteDisconnect, Opts: optsToWire(opts), Close: &closeConn})
	}
}

// tell publishes a request that gets no answer.
func (a *Adapter) tell(req *request) {
	raw, err := nodewire.MarshalJSON(req)
	if err != nil {
		a.link.Log.Warn("encode", "cluster request not published", "type", req.Type, "err", err)
		return
	}
	a.link.Pub.Publish(a.requestChannel, raw)
}

// ServerSideEmit sends [event, args...] to the other servers' namespace
// listeners. With a socket.Ack as last element, it returns at once and
// calls the ack with one answer per other server (an error if some did
// not answer within RequestsTimeout). Arguments travel as JSON.
func (a *Adapter) ServerSideEmit(packet []any) error {
	if args, ack, ok := redisbase.SplitAck(packet); ok {
		ask := func(n int64) ([]any, error) {
			req := &request{UID: a.uid, RequestID: newUID(), Type: typeServerSideEmit, Data: args}
			p, err := a.ask(req, &pending{typ: typeServerSideEmit, want: n - 1}, "serverSideEmit")
			a.mu.Lock()
			defer a.mu.Unlock()
			return append([]any{}, p.responses...), err
		}
		a.callbacks.Go(func() { redisbase.EmitAcross(a.serverCount, ask, ack) })
		return nil
	}
	raw, err := nodewire.MarshalJSON(&request{UID: a.uid, Type: typeServerSideEmit, Data: packet})
	if err != nil {
		return fmt.Errorf("serverSideEmit: %w", err)
	}
	if !a.link.Pub.Publish(a.requestChannel, raw) {
		return errors.New("serverSideEmit: not published (Redis unavailable)")
	}
	return nil
}

// onResponse files an answer to one of our requests. It runs on the
// routing goroutine, so callbacks into application code run elsewhere
// (a.callbacks).
func (a *Adapter) onResponse(raw []byte) {
	res, err := decodeResponse(raw)
	if err != nil || res.RequestID == "" {
		return
	}
	a.mu.Lock()
	if ar, ok := a.acks[res.RequestID]; ok {
		a.mu.Unlock()
		switch {
		case res.Type != nil && *res.Type == typeBroadcastClientCount && res.ClientCount != nil:
			a.callbacks.Go(func() { ar.clientCount(*res.ClientCount) })
		case res.Type != nil && *res.Type == typeBroadcastAck:
			a.callbacks.Go(func() { ar.ack([]any{res.packet}, nil) })
		}
		return
	}
	defer a.mu.Unlock()
	p, ok := a.requests[res.RequestID]
	if !ok || p.closed {
		return
	}
	switch p.typ {
	case typeRemoteFetch:
		var sockets []json.RawMessage
		if len(res.Sockets) == 0 || json.Unmarshal(res.Sockets, &sockets) != nil {
			return
		}
		for _, raw := range sockets {
			if rs := nodewire.RemoteSocket(raw); rs != nil {
				p.sockets = append(p.sockets, rs)
			}
		}
	case typeSockets:
		var ids []socket.SocketId
		if len(res.Sockets) == 0 || json.Unmarshal(res.Sockets, &ids) != nil {
			return
		}
		p.ids = append(p.ids, ids...)
	case typeAllRooms:
		if res.Rooms == nil {
			return
		}
		p.rooms = append(p.rooms, *res.Rooms...)
	case typeServerSideEmit:
		p.responses = append(p.responses, res.data)
	default:
		return
	}
	p.got++
	if p.got >= p.want {
		delete(a.requests, res.RequestID)
		p.closed = true
		close(p.done)
	}
}

// isOurs reports whether a request on the request channel is one of ours
// still waiting (the request channel echoes our own requests).
func (a *Adapter) isOurs(requestID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.requests[requestID]
	if !ok {
		_, ok = a.acks[requestID]
	}
	return ok
}

// ackOnce makes the acknowledgement handed to a serverSideEmit listener:
// the first call answers with its first argument, later calls do nothing.
func (a *Adapter) ackOnce(requestID string) socket.Ack {
	var once sync.Once
	return func(args []any, _ error) {
		once.Do(func() {
			var data any
			if len(args) > 0 {
				data = args[0]
			}
			raw, err := nodewire.MarshalJSON(&ackResponse{Type: typeServerSideEmit, RequestID: requestID, Data: data})
			if err != nil {
				a.link.Log.Warn("encode", "serverSideEmit acknowledgement not sent", "err", err)
				return
			}
			// Node answers these on the shared channel whatever its options.
			a.link.Pub.Publish(a.responseChannel, raw)
		})
	}
}

// ackResponse is the answer to a serverSideEmit with acknowledgement.
type ackResponse struct {
	Type      requestType `json:"type"`
	RequestID string      `json:"requestId"`
	Data      any         `json:"data"`
}
