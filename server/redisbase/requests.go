package redisbase

import (
	"fmt"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// FetchAcross is fetchSockets across a cluster, as both Node adapters
// do it: the matching sockets of local, then, unless opts has the Local
// flag or count (the servers, this one included) says this server is
// alone, those remote gets from the n servers.
func FetchAcross(local socket.Adapter, opts *socket.BroadcastOptions, count func() (int64, error), remote func(n int64) ([]socket.SocketDetails, error)) func(func([]socket.SocketDetails, error)) {
	return func(cb func([]socket.SocketDetails, error)) {
		local.FetchSockets(opts)(func(mine []socket.SocketDetails, err error) {
			if err != nil || IsLocal(opts) {
				cb(mine, err)
				return
			}
			n, err := count()
			if err != nil || n <= 1 {
				cb(mine, err)
				return
			}
			others, err := remote(n)
			cb(append(mine, others...), err)
		})
	}
}

// SplitAck splits a serverSideEmit packet whose last element is an
// acknowledgement into the arguments and it.
func SplitAck(packet []any) ([]any, socket.Ack, bool) {
	if n := len(packet); n > 0 {
		if ack, ok := packet[n-1].(func([]any, error)); ok {
			return packet[:n-1], ack, true
		}
	}
	return packet, nil, false
}

// EmitAcross is serverSideEmit with an acknowledgement across a cluster,
// as both Node adapters do it: ack gets no answers at once when count
// (the servers, this one included) says this server is alone, else what
// ask collects from the n-1 others.
func EmitAcross(count func() (int64, error), ask func(n int64) ([]any, error), ack socket.Ack) {
	n, err := count()
	if err != nil {
		ack(nil, fmt.Errorf("serverSideEmit: %w", err))
		return
	}
	if n <= 1 {
		ack([]any{}, nil)
		return
	}
	ack(ask(n))
}
