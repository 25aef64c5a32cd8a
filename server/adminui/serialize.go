package adminui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// fetchTimeout bounds the wait for one namespace's fetchSockets (the other
// servers of a cluster answer within the adapter's own timeout).
const fetchTimeout = 10 * time.Second

// allSockets is every socket of every tracked namespace, in this process
// and (through the adapter) the other servers of a cluster, as the UI's
// all_sockets event lists them.
func (a *Admin) allSockets() []any {
	out := []any{}
	for _, nsp := range a.namespaces() {
		got := make(chan []*socket.RemoteSocket, 1)
		nsp.FetchSockets()(func(ss []*socket.RemoteSocket, err error) {
			if err != nil {
				a.opts.Log.Warn("admin UI: fetchSockets", "nsp", nsp.Name(), "err", err)
			}
			got <- ss
		})
		var sockets []*socket.RemoteSocket
		select {
		case sockets = <-got:
		case <-time.After(fetchTimeout):
			a.opts.Log.Warn("admin UI: fetchSockets timed out", "nsp", nsp.Name())
		case <-a.stop:
			return out
		}
		for _, rs := range sockets {
			// A socket of this process: its transport is read live.
			if s, ok := nsp.Sockets().Load(rs.Id()); ok {
				out = append(out, a.serializeLocal(nsp.Name(), s))
				continue
			}
			rest, admin := splitData(rs.Data())
			out = append(out, serialize(nsp.Name(), rs.Id(), admin.ClientID, admin.Transport, rest, rs.Handshake(), rs.Rooms()))
		}
	}
	return out
}

// serializeLocal describes a socket of this process.
func (a *Admin) serializeLocal(nsp string, s *socket.Socket) map[string]any {
	conn := s.Conn()
	rest, _ := splitData(s.Data())
	out := serialize(nsp, s.Id(), clientID(conn.Id()), conn.Transport().Name(), rest, s.Handshake(), s.Rooms())
	// Go's net/http keeps the Host header out of the header map; Node's
	// handshake has it.
	if headers, ok := out["handshake"].(map[string]any)["headers"].(map[string]any); ok && headers["host"] == nil {
		if host := conn.Request().Host(); host != "" {
			headers["host"] = host
		}
	}
	return out
}

// serialize is a socket as the UI reads it (the plugin's serialize).
func serialize(nsp string, id socket.SocketId, clientID, transport string, data any, h *socket.Handshake, rooms *types.Set[socket.Room]) map[string]any {
	roomList := []string{}
	if rooms != nil {
		for _, r := range rooms.Keys() {
			roomList = append(roomList, string(r))
		}
	}
	sort.Strings(roomList)
	return map[string]any{
		"id":        string(id),
		"clientId":  clientID,
		"transport": transport,
		"nsp":       nsp,
		"data":      data,
		"handshake": serializeHandshake(h),
		"rooms":     roomList,
	}
}

// serializeHandshake writes the handshake as Node's socket.handshake
// reads: header names in lower case with their values joined, a query
// parameter given once as a string. The address is the proxy headers'
// when present, as the plugin shows it; the auth (the UI's password!) is
// left out.
func serializeHandshake(h *socket.Handshake) map[string]any {
	if h == nil {
		return map[string]any{}
	}
	headers := map[string]any{}
	for k, v := range h.Headers {
		headers[strings.ToLower(k)] = joinValues(v, ", ")
	}
	query := map[string]any{}
	for k, v := range h.Query {
		if vs, ok := v.([]string); ok && len(vs) == 1 {
			query[k] = vs[0]
		} else {
			query[k] = v
		}
	}
	address := h.Address
	for _, name := range []string{"cf-connecting-ip", "x-forwarded-for"} {
		if v, ok := headers[name].(string); ok && v != "" {
			address = v
			break
		}
	}
	return map[string]any{
		"address": address,
		"headers": headers,
		"query":   query,
		"issued":  h.Issued,
		"secure":  h.Secure,
		"time":    h.Time,
		"url":     h.Url,
		"xdomain": h.Xdomain,
	}
}

// joinValues joins a header's values, as Node does for repeated headers.
func joinValues(v any, sep string) any {
	switch vs := v.(type) {
	case []string:
		return strings.Join(vs, sep)
	case []any:
		parts := make([]string, len(vs))
		for i, p := range vs {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, sep)
	}
	return v
}

// adminData is what the plugins (this one and Node's) keep in a socket's
// data under _admin.
type adminData struct {
	ClientID  string `json:"clientId"`
	Transport string `json:"transport"`
}

// splitData separates data._admin from the rest of a socket's data, which
// the UI shows. The data of another server's socket may be of any type
// that marshals to JSON (a *nodewire.Object, keys in order); it goes
// through JSON here, so its keys come out sorted.
func splitData(data any) (any, adminData) {
	var admin adminData
	switch d := data.(type) {
	case nil:
		return map[string]any{}, admin
	case map[string]any:
		rest := make(map[string]any, len(d))
		for k, v := range d {
			if k == "_admin" {
				if m, ok := v.(map[string]any); ok {
					admin.ClientID, _ = m["clientId"].(string)
					admin.Transport, _ = m["transport"].(string)
				}
				continue
			}
			rest[k] = v
		}
		return rest, admin
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return data, admin
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return data, admin // not an object
	}
	if a, ok := obj["_admin"]; ok {
		_ = json.Unmarshal(a, &admin)
		delete(obj, "_admin")
	}
	var rest map[string]any
	_ = json.Unmarshal(mustJSON(obj), &rest)
	return rest, admin
}

// mustJSON marshals what came from JSON.
func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
