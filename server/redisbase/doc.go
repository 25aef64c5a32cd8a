// Package redisbase is what the three Redis cluster adapters
// (redisadapter, redisstreams, redissharded) share besides the Node wire
// codec (nodewire): their common settings and their link to Redis (the
// go-redis client of a deployment: one Redis, a Redis Cluster, a
// Sentinel-watched primary; the servers' count; the publisher that sends
// their commands without making Socket.IO wait; the rate-limited outage
// log), the observer of their traffic, the owner of the application
// callbacks they run, the cross-server requests (fetchSockets,
// serverSideEmit with acknowledgements) as both Node adapters make them,
// and socket.io-adapter's ClusterAdapter protocol, its messages and their
// handling, which the streams and the sharded adapters speak over their
// own transports.
package redisbase
