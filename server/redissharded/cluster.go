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
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
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

// Options tune a Cluster. All but Logger, Local and Observer are
// required; the server's configuration holds Node's defaults.
type Options struct {
	// ChannelPrefix prefixes every channel (Node's channelPrefix).
	ChannelPrefix string
	// SubscriptionMode is Static, Dynamic or DynamicPrivate (Node's
	// subscriptionMode; its default is Dynamic).
	SubscriptionMode string
	// RequestsTimeout bounds how long fetchSockets and serverSideEmit
	// with an acknowledgement wait for the other servers.
	RequestsTimeout time.Duration
	// CommandTimeout bounds every other Redis command.
	CommandTimeout time.Duration
	// QueueSize is how many publishes may wait for Redis before new ones
	// are dropped.
	QueueSize int
	// Logger receives outage and recovery messages (rate-limited).
	Logger *slog.Logger
	// Local makes the adapter that delivers to this server's own sockets
	// and keeps its rooms, not yet constructed. Default: the library's
	// session-aware adapter with recovery on, else its plain one.
	Local func() socket.Adapter
	// Observer, if not nil, is told of the messages published, dropped
	// and received (the server's metrics).
	Observer redisbase.Observer
}

// logEvery is the longest a recurring Redis problem stays unlogged.
const logEvery = 10 * time.Second

func (o *Options) check() error {
	var errs []error
	if o.ChannelPrefix == "" {
		errs = append(errs, errors.New("ChannelPrefix is required"))
	}
	switch o.SubscriptionMode {
	case Static, Dynamic, DynamicPrivate:
	default:
		errs = append(errs, fmt.Errorf("SubscriptionMode: want %s, %s or %s, got %q", Static, Dynamic, DynamicPrivate, o.SubscriptionMode))
	}
	if o.RequestsTimeout <= 0 || o.CommandTimeout <= 0 || o.QueueSize <= 0 {
		errs = append(errs, errors.New("RequestsTimeout, CommandTimeout and QueueSize must be positive"))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = redisbase.NopObserver{}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("redissharded: %w", err)
	}
	return nil
}

// Cluster is one server's link to the others: the
// socket.AdapterConstructor to give the Socket.IO server, and the Pinger
// of its readiness probe. One per process; it makes one adapter per
// namespace.
type Cluster struct {
	rdb     redis.UniversalClient
	ownsRDB bool
	opts    Options
	rlog    *redisbase.RateLog
	pub     *redisbase.Publisher
}

var _ socket.AdapterConstructor = (*Cluster)(nil)

// Open connects to the Redis deployment addr names (a Redis Cluster, or
// one Redis 7, or a Sentinel-watched primary; see redisbase.Addr). It
// does not wait for Redis: the server serves its own sockets while Redis
// is down, and go-redis subscribes again once it is back.
func Open(addr redisbase.Addr, opts Options) (*Cluster, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	rdb, err := redisbase.NewClient(addr, opts.CommandTimeout)
	if err != nil {
		return nil, err
	}
	c := newCluster(rdb, opts)
	c.ownsRDB = true
	redisbase.RouteClientLog(c.rlog)
	return c, nil
}

// New builds a Cluster on an existing client; Close leaves it open.
func New(rdb redis.UniversalClient, opts Options) (*Cluster, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	return newCluster(rdb, opts), nil
}

func newCluster(rdb redis.UniversalClient, opts Options) *Cluster {
	rlog := redisbase.NewRateLog(opts.Logger, logEvery)
	return &Cluster{
		rdb: rdb, opts: opts, rlog: rlog,
		pub: redisbase.NewPublisher(rdb, opts.QueueSize, opts.CommandTimeout, rlog, opts.Observer),
	}
}

// New makes the adapter of one namespace; the Socket.IO server calls it.
func (c *Cluster) New(nsp socket.Namespace) socket.Adapter {
	return newAdapter(c, nsp)
}

// Ping reports whether Redis answers, for the readiness probe.
func (c *Cluster) Ping(ctx context.Context) error {
	return redisbase.PingWithin(ctx, c.rdb, c.opts.CommandTimeout)
}

// Dropped is how many messages this server has given up on since it
// started (queue full, or Redis failed).
func (c *Cluster) Dropped() uint64 { return c.pub.Dropped() }

// Close sends the publishes still queued (within CommandTimeout) and
// closes the client if Open made it. Close the Socket.IO server first.
func (c *Cluster) Close() error {
	c.pub.Close()
	if c.ownsRDB {
		if err := c.rdb.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			return err
		}
	}
	return nil
}

// commandContext bounds one Redis command.
func (c *Cluster) commandContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.opts.CommandTimeout)
}
