// Package redisadapter lets several Socket.IO servers (github.com/zishang520/socket.io)
// share their broadcasts and socket management through Redis pub/sub,
// speaking the protocol of Node's @socket.io/redis-adapter 8.x, so Go and
// Node servers can serve one application side by side.
//
// What goes over Redis, per namespace nsp and key prefix key:
//
//   - key#nsp# (or key#nsp#room# when a broadcast names exactly one room):
//     every broadcast, msgpack [uid, {type, data, nsp}, {rooms, except, flags}];
//   - key-request#nsp#: JSON requests (fetchSockets, serverSideEmit,
//     socketsJoin/Leave, disconnectSockets, allRooms, sockets) and msgpack
//     requests for broadcasts that want acknowledgements;
//   - key-response#nsp# and key-response#nsp#uid#: the answers.
//
// Application data read from other servers (broadcast arguments,
// serverSideEmit arguments and answers, acknowledgements, fetchSockets
// data) keeps the sender's key order: objects decode as *nodewire.Object, whose
// JSON is the sender's, so every client of the cluster receives the same
// bytes.
//
// Local delivery stays the library's own (the adapter embeds the
// library's in-memory or session-aware adapter); each broadcast costs one
// PUBLISH. Connection state recovery keeps working for clients that come
// back to the same server, and covers the events other servers sent
// meanwhile; like the Node adapter, sessions are not shared between
// servers.
package redisadapter

import (
	"crypto/rand"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisbase"
)

// Options tune the Cluster Open returns. Key and the Common settings
// RequestsTimeout, CommandTimeout and QueueSize are required (Open
// refuses Options without them); the server's configuration holds Node's
// values for them. Local's default is the library's session-aware
// adapter when the server has connection state recovery on, else its
// plain one.
type Options struct {
	// Key prefixes every channel name, as the Node adapter's `key`
	// option; servers share broadcasts only with the same Key.
	Key string
	// PublishOnSpecificResponseChannel answers requests on the requesting
	// server's own response channel instead of the shared one (Node's
	// option of the same name; every 8.x server listens on both).
	PublishOnSpecificResponseChannel bool
	redisbase.Common
}

// check refuses Options missing a required setting and fills in the
// ones that are not settings (Logger, Observer).
func (o *Options) check() error {
	return o.Common.Check("redisadapter", redisbase.Required("Key", o.Key))
}

// Open joins the cluster through the Redis deployment addr names (see
// redisbase.OpenLink): the Cluster is the adapter constructor to give the
// Socket.IO server (opts.SetAdapter). It refuses Options missing a
// required setting before it touches Redis.
func Open(addr redisbase.Addr, opts Options) (*redisbase.Cluster, error) {
	return redisbase.OpenCluster(addr, &opts.Common, opts.check, func(link *redisbase.Link, nsp socket.Namespace) socket.Adapter {
		return newAdapter(link, opts, nsp)
	})
}

// uidChars are the characters of Node's uid2 ids.
const uidChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// newUID returns a random 6-character id, as the Node adapter's uid2(6).
func newUID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = uidChars[int(b[i])%len(uidChars)]
	}
	return string(b)
}
