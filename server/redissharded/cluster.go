// Package redissharded lets several Socket.IO servers (the library
// github.com/zishang520/socket.io) share broadcasts and socket
// management through Redis 7's sharded Pub/Sub (SPUBLISH, SSUBSCRIBE),
// speaking the protocol of createShardedAdapter in Node's
// @socket.io/redis-adapter 8.3, so Go and Node servers can serve one
// application side by side on a Redis Cluster, where a sharded channel
// lives on one shard instead of being copied to every node.
//
// What goes over Redis, per namespace nsp and channel prefix P (Node's
// channelPrefix), as socket.io-adapter's ClusterAdapter messages
// {type, data, uid, nsp}, JSON, or msgpack when the data holds binary:
//
//   - P#nsp#: every message but the answers; in the dynamic modes, a
//     broadcast to exactly one room (not a socket id, unless the mode is
//     dynamic-private) goes to P#nsp#room#, which only the servers with a
//     socket in that room subscribe to;
//   - P#nsp#uid#: the answers to the server uid's requests.
//
// The servers are counted with PUBSUB SHARDNUMSUB of P#nsp#. Local
// delivery stays the local adapter's (Options.Local), so connection state
// recovery is per process, as with the classic adapter.
package redissharded

import (
	"fmt"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisbase"
)

// The subscription modes of Node's createShardedAdapter.
const (
	// Static: one channel per namespace, every broadcast on it.
	Static = "static"
	// Dynamic: also a channel per public room (not a socket's own room),
	// which only the servers holding that room subscribe to.
	Dynamic = "dynamic"
	// DynamicPrivate: a channel per room, the sockets' own rooms too.
	DynamicPrivate = "dynamic-private"
)

// Options tune the Cluster Open returns. All but the Common settings
// Logger, Local and Observer are required; the server's configuration
// holds Node's defaults. Local's default is the library's session-aware
// adapter when the server has connection state recovery on, else its
// plain one.
type Options struct {
	// ChannelPrefix prefixes every channel (Node's channelPrefix).
	ChannelPrefix string
	// SubscriptionMode is Static, Dynamic or DynamicPrivate (Node's
	// subscriptionMode; its default is Dynamic).
	SubscriptionMode string
	redisbase.Common
}

// check refuses Options missing a required setting or with an unknown
// SubscriptionMode, and fills in the ones that are not settings.
func (o *Options) check() error {
	var mode error
	switch o.SubscriptionMode {
	case Static, Dynamic, DynamicPrivate:
	default:
		mode = fmt.Errorf("SubscriptionMode: want %s, %s or %s, got %q", Static, Dynamic, DynamicPrivate, o.SubscriptionMode)
	}
	return o.Common.Check("redissharded", redisbase.Required("ChannelPrefix", o.ChannelPrefix), mode)
}

// Open joins the cluster through the Redis deployment addr names (a
// Redis Cluster, or one Redis 7, or a Sentinel-watched primary; see
// redisbase.OpenLink): the Cluster is the adapter constructor to give the
// Socket.IO server. It refuses Options missing a required setting before
// it touches Redis.
func Open(addr redisbase.Addr, opts Options) (*redisbase.Cluster, error) {
	return redisbase.OpenCluster(addr, &opts.Common, opts.check, func(link *redisbase.Link, nsp socket.Namespace) socket.Adapter {
		return newAdapter(link, opts, nsp)
	})
}
