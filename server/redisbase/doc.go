// Package redisbase is what the three Redis cluster adapters
// (redisadapter, redisstreams, redissharded) share besides the Node wire
// codec (nodewire): the go-redis client of a deployment (one Redis, a
// Redis Cluster, a Sentinel-watched primary) and the servers' count,
// the publisher that sends their commands without making Socket.IO wait,
// the rate-limited outage log, the observer of their traffic, the owner
// of the application callbacks they run, and the cross-server requests
// (fetchSockets, serverSideEmit with acknowledgements) as both Node
// adapters make them.
package redisbase
