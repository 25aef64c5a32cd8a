package adminui

import (
	"sort"
	"time"
)

// The stats every UI receives from every server, every StatsInterval:
//
//	server_stats {serverId, hostname, pid, uptime, clientsCount,
//	              pollingClientsCount, aggregatedEvents, namespaces}
//
// aggregatedEvents counts what happened since the last stats, per second:
// here "rawConnection" and "rawDisconnection" (subType: the reason),
// which feed the UI's connections chart. The plugin counts Engine.IO
// connections; this package sees the Socket.IO layer only, so it counts a
// connection when its first socket connects and a disconnection when its
// last socket leaves (a connection that never opens a namespace is not
// counted). The plugin's packetsIn/Out and bytesIn/Out (the bytes chart)
// need every Engine.IO packet and are not sent.

// runStats sends the stats at once and then every StatsInterval until
// Close.
func (a *Admin) runStats() {
	defer close(a.done)
	t := time.NewTicker(a.opts.StatsInterval)
	defer t.Stop()
	a.sendStats()
	for {
		select {
		case <-t.C:
			a.sendStats()
		case <-a.stop:
			return
		}
	}
}

// sendStats sends this process's stats to the UIs of every server.
func (a *Admin) sendStats() {
	now := a.opts.Now()
	var clients uint64
	if e := a.io.Engine(); e != nil {
		clients = e.ClientsCount()
	}
	namespaces := []any{}
	polling := map[string]struct{}{}
	for _, nsp := range a.namespaces() {
		namespaces = append(namespaces, map[string]any{"name": nsp.Name(), "socketsCount": nsp.Sockets().Len()})
		for _, s := range nsp.Sockets().Values() {
			if conn := s.Conn(); conn.Transport().Name() == "polling" {
				polling[conn.Id()] = struct{}{}
			}
		}
	}
	a.mu.Lock()
	events := a.buffer.drain()
	a.mu.Unlock()
	a.toUI("server_stats", map[string]any{
		"serverId":            a.opts.ServerID,
		"hostname":            a.hostname,
		"pid":                 a.pid,
		"uptime":              now.Sub(a.started).Seconds(),
		"clientsCount":        clients,
		"pollingClientsCount": len(polling),
		"aggregatedEvents":    events,
		"namespaces":          namespaces,
	})
}

// eventKey is one counter of the aggregated events: a type in a second.
type eventKey struct {
	second        int64 // Unix milliseconds, truncated to the second
	kind, subType string
}

// eventBuffer counts the aggregated events between two stats (the
// plugin's EventBuffer). Admin.mu guards it.
type eventBuffer struct {
	counts map[eventKey]int
}

func (b *eventBuffer) push(now time.Time, kind, subType string, n int) {
	b.counts[eventKey{now.Truncate(time.Second).UnixMilli(), kind, subType}] += n
}

// drain returns the counts as the UI reads them and starts afresh.
func (b *eventBuffer) drain() []any {
	keys := make([]eventKey, 0, len(b.counts))
	for k := range b.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].second != keys[j].second {
			return keys[i].second < keys[j].second
		}
		return keys[i].kind+keys[i].subType < keys[j].kind+keys[j].subType
	})
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		ev := map[string]any{"timestamp": k.second, "type": k.kind, "count": b.counts[k]}
		if k.subType != "" {
			ev["subType"] = k.subType
		}
		out = append(out, ev)
	}
	clear(b.counts)
	return out
}
