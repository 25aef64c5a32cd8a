package adminui

import (
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// The UI's actions, as it emits them:
//
//	emit        (nsp, filter, event, ...args)  emit to the namespace, or to room filter
//	join        (nsp, room, filter)            make the sockets (of room filter) join room
//	leave       (nsp, room, filter)            … leave room
//	_disconnect (nsp, close, filter)           disconnect them (close: the connection too)
//
// The UI sets filter to a socket's id to act on one socket. They reach
// every server of a cluster through the namespace's adapter.
//
// The plugin sends no acknowledgement; if an action asks for one (the UI
// never does), it is answered once the action is done, or refused:
// {"error": "read-only"}, {"error": "unknown namespace"}, {"error": "bad arguments"}.
var actionNames = []string{"emit", "join", "leave", "_disconnect"}

// registerActions adds the action handlers to an admin socket. A read-only
// server ignores the actions, as the plugin does (it has no handlers then),
// and logs them.
func (a *Admin) registerActions(s *socket.Socket) {
	for _, name := range actionNames {
		_ = s.On(name, func(args ...any) {
			args, ack := splitAck(args)
			if a.opts.Readonly {
				a.opts.Log.Warn("admin UI action refused: read-only", "action", name, "admin", s.Id())
				answer(ack, map[string]any{"error": "read-only"})
				return
			}
			answer(ack, a.act(name, args))
		})
	}
}

// act runs one action; nil when done, else the refusal.
func (a *Admin) act(name string, args []any) map[string]any {
	bad := map[string]any{"error": "bad arguments"}
	if len(args) < 2 {
		return bad
	}
	nspName, ok := args[0].(string)
	if !ok {
		return bad
	}
	// Only namespaces that exist: the plugin's io.of(nsp) would create one
	// for any name the UI sends.
	nsp := a.namespace(nspName)
	if nsp == nil {
		return map[string]any{"error": "unknown namespace"}
	}
	filter := func(i int) (socket.Room, bool) {
		if i >= len(args) || args[i] == nil {
			return "", true
		}
		f, ok := args[i].(string)
		return socket.Room(f), ok
	}
	target := func(f socket.Room) *socket.BroadcastOperator {
		if f == "" {
			return nsp.Except() // every socket of the namespace
		}
		return nsp.In(f)
	}
	switch name {
	case "emit":
		f, ok1 := filter(1)
		ev, ok2 := at[string](args, 2)
		if !ok1 || !ok2 {
			return bad
		}
		a.opts.Log.Info("admin UI: emit", "nsp", nspName, "room", f, "event", ev)
		_ = target(f).Emit(ev, args[3:]...)
	case "join", "leave":
		room, ok1 := args[1].(string)
		f, ok2 := filter(2)
		if !ok1 || !ok2 {
			return bad
		}
		a.opts.Log.Info("admin UI: "+name, "nsp", nspName, "room", room, "sockets_in", f)
		if name == "join" {
			target(f).SocketsJoin(socket.Room(room))
		} else {
			target(f).SocketsLeave(socket.Room(room))
		}
	case "_disconnect":
		closeConn, ok1 := args[1].(bool)
		f, ok2 := filter(2)
		if !ok1 || !ok2 {
			return bad
		}
		a.opts.Log.Info("admin UI: disconnect", "nsp", nspName, "sockets_in", f, "close", closeConn)
		target(f).DisconnectSockets(closeConn)
	}
	return nil
}

// at is args[i] as a T.
func at[T any](args []any, i int) (T, bool) {
	if i >= len(args) {
		var zero T
		return zero, false
	}
	return first[T](args[i:])
}

// splitAck takes the acknowledgement callback the library appends to an
// event's arguments when the client asked for one.
func splitAck(args []any) ([]any, socket.Ack) {
	if n := len(args); n > 0 {
		switch f := args[n-1].(type) {
		case socket.Ack:
			return args[:n-1], f
		}
	}
	return args, nil
}

// answer acknowledges an action: no argument when it was done, the
// refusal otherwise.
func answer(ack socket.Ack, refusal map[string]any) {
	if ack == nil {
		return
	}
	if refusal == nil {
		ack(nil, nil)
		return
	}
	ack([]any{refusal}, nil)
}
