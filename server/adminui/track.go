package adminui

import (
	"fmt"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// track follows a namespace: its connections count for the stats, and in
// development mode its sockets, rooms and events go to the UI as they
// happen (the plugin's registerVerboseListeners).
func (a *Admin) track(nsp socket.Namespace) {
	a.mu.Lock()
	for _, n := range a.nsps {
		if n.Name() == nsp.Name() {
			a.mu.Unlock()
			return
		}
	}
	a.nsps = append(a.nsps, nsp)
	a.mu.Unlock()

	name := nsp.Name()
	_ = nsp.On("connection", func(args ...any) {
		if s, ok := first[*socket.Socket](args); ok {
			a.onSocket(name, s)
		}
	})
	if !a.opts.Development {
		return
	}
	room := func(event string) func(args ...any) {
		return func(args ...any) {
			if len(args) == 2 {
				a.toUI(event, name, fmt.Sprint(args[0]), fmt.Sprint(args[1]), timestamp(a.opts.Now()))
			}
		}
	}
	_ = nsp.Adapter().On("join-room", room("room_joined"))
	_ = nsp.Adapter().On("leave-room", room("room_left"))
}

// namespace is the tracked namespace of that name, nil if there is none.
func (a *Admin) namespace(name string) socket.Namespace {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range a.nsps {
		if n.Name() == name {
			return n
		}
	}
	return nil
}

// namespaces lists the tracked namespaces.
func (a *Admin) namespaces() []socket.Namespace {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]socket.Namespace(nil), a.nsps...)
}

// toUI sends an event to every admin UI (of every server of a cluster).
func (a *Admin) toUI(event string, args ...any) { _ = a.nsp.Emit(event, args...) }

// onSocket follows a socket of a tracked namespace from its connection
// to its disconnection.
func (a *Admin) onSocket(nsp string, s *socket.Socket) {
	conn := s.Conn()
	connID := conn.Id()
	a.mu.Lock()
	a.conns[connID]++
	if a.conns[connID] == 1 {
		// The plugin counts Engine.IO connections; the first socket of a
		// connection stands for it here (see stats.go).
		a.buffer.push(a.opts.Now(), "rawConnection", "", 1)
	}
	a.mu.Unlock()
	_ = s.On("disconnect", func(args ...any) {
		reason, _ := first[string](args)
		a.mu.Lock()
		if a.conns[connID]--; a.conns[connID] <= 0 {
			delete(a.conns, connID)
			a.buffer.push(a.opts.Now(), "rawDisconnection", reason, 1)
		}
		a.mu.Unlock()
		if a.opts.Development {
			a.toUI("socket_disconnected", nsp, string(s.Id()), reason, timestamp(a.opts.Now()))
		}
	})
	if !a.opts.Development {
		return
	}

	// Like the plugin, keep the client id and transport in the socket's
	// data under _admin, where fetchSockets carries them to the UIs of the
	// other servers of a cluster (Node's plugin reads them there too).
	setAdminData(s, clientID(connID), conn.Transport().Name())
	a.toUI("socket_connected", a.serializeLocal(nsp, s), timestamp(a.opts.Now()))
	conn.Once("upgrade", func(...any) {
		transport := s.Conn().Transport().Name()
		setAdminData(s, clientID(connID), transport)
		a.toUI("socket_updated", map[string]any{"id": string(s.Id()), "nsp": nsp, "transport": transport})
	})
	if nsp == a.nsp.Name() {
		return // the UIs' own traffic is not shown to them
	}
	s.OnAny(func(args ...any) {
		args, _ = splitAck(args)
		a.toUI("event_received", nsp, string(s.Id()), args, timestamp(a.opts.Now()))
	})
	s.OnAnyOutgoing(func(args ...any) {
		a.toUI("event_sent", nsp, string(s.Id()), args, timestamp(a.opts.Now()))
	})
}

// clientID is what the UI shows as a socket's client: the start of its
// Engine.IO connection's id, as the plugin cuts it.
func clientID(connID string) string {
	if len(connID) > 12 {
		return connID[:12]
	}
	return connID
}

// setAdminData sets data._admin, keeping what else the socket's data
// holds when it is an object. The data is replaced, never changed in
// place: fetchSockets may be reading the old one.
func setAdminData(s *socket.Socket, clientID, transport string) {
	admin := map[string]any{"clientId": clientID, "transport": transport}
	switch d := s.Data().(type) {
	case nil:
		s.SetData(map[string]any{"_admin": admin})
	case map[string]any:
		next := make(map[string]any, len(d)+1)
		for k, v := range d {
			next[k] = v
		}
		next["_admin"] = admin
		s.SetData(next)
	}
	// Other data (not an object) is left alone: the local UI reads the
	// transport from the connection anyway.
}
