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
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisbase"
)

// Options tune a Cluster. Key, RequestsTimeout, CommandTimeout and
// QueueSize are required (Open and New refuse a Cluster without them);
// the server's configuration holds Node's values for them.
type Options struct {
	// Key prefixes every channel name, as the Node adapter's `key`
	// option; servers share broadcasts only with the same Key.
	Key string
	// RequestsTimeout bounds how long fetchSockets, serverSideEmit with an
	// acknowledgement and the like wait for the other servers.
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel answers requests on the requesting
	// server's own response channel instead of the shared one (Node's
	// option of the same name; every 8.x server listens on both).
	PublishOnSpecificResponseChannel bool
	// CommandTimeout bounds every Redis command this package issues, so a
	// dead Redis cannot stall a broadcast for long.
	CommandTimeout time.Duration
	// QueueSize is how many publishes may wait for Redis before new ones
	// are dropped.
	QueueSize int
	// Logger receives outage and recovery messages (rate-limited); nil
	// discards them.
	Logger *slog.Logger
	// Local makes the adapter that delivers to this server's own sockets
	// and keeps its rooms, not yet constructed (the cluster adapter embeds
	// it and constructs it). If nil: the library's session-aware adapter
	// when the server has connection state recovery on, else its plain one.
	Local func() socket.Adapter
	// Observer, if not nil, is told of the messages published, dropped
	// and received and of the requests' answers (the server's metrics).
	Observer redisbase.Observer
}

// logEvery is the longest a recurring Redis problem stays unlogged.
const logEvery = 10 * time.Second

// check refuses Options missing a required setting and fills in the
// ones that are not settings (Logger, Observer).
func (o *Options) check() error {
	var errs []error
	if o.Key == "" {
		errs = append(errs, errors.New("Key is required"))
	}
	if o.RequestsTimeout <= 0 {
		errs = append(errs, errors.New("RequestsTimeout must be positive"))
	}
	if o.CommandTimeout <= 0 {
		errs = append(errs, errors.New("CommandTimeout must be positive"))
	}
	if o.QueueSize <= 0 {
		errs = append(errs, errors.New("QueueSize must be positive"))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = redisbase.NopObserver{}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("redisadapter: %w", err)
	}
	return nil
}

// Cluster is one server's link to the others: the socket.AdapterConstructor
// to give the Socket.IO server (opts.SetAdapter), and the Pinger for its
// readiness probe. One per process; it makes one adapter per namespace.
type Cluster struct {
	rdb     redis.UniversalClient
	ownsRDB bool
	opts    Options
	log     *slog.Logger
	rlog    *redisbase.RateLog
	pub     *redisbase.Publisher
}

var _ socket.AdapterConstructor = (*Cluster)(nil)

// Open connects to the Redis deployment addr names (one Redis, a Redis
// Cluster or a Sentinel-watched primary; see Addr). Connection timeouts
// not set in its URL are kept short (CommandTimeout), so a Redis that is
// gone fails fast instead of queueing work. It does not wait for Redis:
// the server starts and serves its own sockets while Redis is down, and
// go-redis reconnects (and follows a failover) by itself.
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

// New builds a Cluster on an existing client; Close leaves that client
// open.
func New(rdb redis.UniversalClient, opts Options) (*Cluster, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	return newCluster(rdb, opts), nil
}

// newCluster builds a Cluster on rdb with checked opts.
func newCluster(rdb redis.UniversalClient, opts Options) *Cluster {
	c := &Cluster{rdb: rdb, opts: opts, log: opts.Logger, rlog: redisbase.NewRateLog(opts.Logger, logEvery)}
	c.pub = redisbase.NewPublisher(rdb, opts.QueueSize, opts.CommandTimeout, c.rlog, opts.Observer)
	return c
}

// New makes the adapter of one namespace; the Socket.IO server calls it.
func (c *Cluster) New(nsp socket.Namespace) socket.Adapter {
	return newAdapter(c, nsp)
}

// Key is the channel prefix in use.
func (c *Cluster) Key() string { return c.opts.Key }

// Ping reports whether Redis answers, for the readiness probe.
func (c *Cluster) Ping(ctx context.Context) error {
	return redisbase.PingWithin(ctx, c.rdb, c.opts.CommandTimeout)
}

// Dropped is how many cluster messages this server has given up on since
// it started: not queued because the queue was full, or not published
// because Redis failed. Each publish is given up on within CommandTimeout.
func (c *Cluster) Dropped() uint64 { return c.pub.Dropped() }

// Close sends the publishes still queued (within CommandTimeout) and
// closes the client if Open made it. Close the Socket.IO server first:
// its adapters unsubscribe as it closes.
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
