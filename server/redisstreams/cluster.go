// Package redisstreams lets several Socket.IO servers (the library
// github.com/zishang520/socket.io) share broadcasts, socket management
// and connection state recovery through a Redis stream, speaking the
// protocol of Node's @socket.io/redis-streams-adapter 0.3.x, so Go and
// Node servers can serve one application side by side and restore each
// other's sessions.
//
// What goes over Redis (stream S, channel prefix P, namespace nsp):
//
//   - XADD S MAXLEN ~ n * uid <uid> nsp <nsp> type <number> data <data>:
//     broadcasts without acknowledgement (type 3), socketsJoin (4),
//     socketsLeave (5) and disconnectSockets (6). data is the message's
//     payload as JSON, or, when a broadcast holds binary, as base64 of
//     its msgpack. The entry id is the broadcast's recovery offset.
//   - PUBLISH P#nsp#: msgpack {type, data, uid, nsp} of the messages not
//     worth keeping: broadcasts with acknowledgements, serverSideEmit,
//     fetchSockets; answers go to the requester's P#nsp#uid#.
//   - SET <sessionKeyPrefix><pid> PX <recovery window>: base64 of the
//     msgpack {sid, pid, rooms, data} of a disconnected socket, read back
//     with GET+DEL when it reconnects, anywhere in the cluster. Beyond
//     Node's adapter, a connected socket's session is kept there too
//     (live.go), so it survives a process killed without a goodbye.
//
// One goroutine per process reads the stream (XREAD BLOCK) for every
// namespace, and resumes from the last entry it handled after an outage.
package redisstreams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisbase"
)

// Options tune a Cluster. Node's defaults live in the server's config;
// every field but Logger, Local, Observer and Ticker is required.
type Options struct {
	// StreamName is the stream every server of the cluster shares
	// (Node's streamName).
	StreamName string
	// MaxLen caps the stream, approximately (XADD MAXLEN ~, Node's maxLen).
	MaxLen int64
	// ReadCount is how many entries one XREAD takes (Node's readCount).
	ReadCount int64
	// BlockTime is how long one XREAD waits for entries (Node's
	// blockTimeInMs).
	BlockTime time.Duration
	// SessionKeyPrefix prefixes the keys of persisted sessions (Node's
	// sessionKeyPrefix).
	SessionKeyPrefix string
	// ChannelPrefix prefixes the pub/sub channels of requests and
	// answers (Node's channelPrefix).
	ChannelPrefix string
	// SessionRefresh is how often the sessions of the connected sockets
	// are rewritten in Redis, where they live for the recovery window:
	// it must be shorter than that window, and a session outlives a
	// killed process by between window - SessionRefresh and the window.
	SessionRefresh time.Duration
	// RequestsTimeout bounds how long fetchSockets and serverSideEmit
	// with an acknowledgement wait for the other servers (Node's 5 s).
	RequestsTimeout time.Duration
	// CommandTimeout bounds every Redis command but the blocking read.
	CommandTimeout time.Duration
	// QueueSize is how many commands may wait for Redis before new ones
	// are dropped.
	QueueSize int
	// Logger receives outage and recovery messages (rate-limited).
	Logger *slog.Logger
	// Local makes the adapter that delivers to this server's own sockets
	// and keeps its rooms, not yet constructed; when it has
	// BroadcastWithOffset (realtime's ClusterLocalAdapter) a broadcast
	// read from the stream is delivered by it with its entry id as
	// offset. Default: the library's in-memory adapter.
	Local func() socket.Adapter
	// Observer, if not nil, is told of the commands sent, dropped and
	// the messages received (the server's metrics).
	Observer redisbase.Observer
	// Ticker, if not nil, makes the ticks of the session refresh and the
	// function that stops them (tests tick by hand). Default: a
	// time.Ticker.
	Ticker func(d time.Duration) (ticks <-chan time.Time, stop func())
}

// logEvery is the longest a recurring Redis problem stays unlogged.
const logEvery = 10 * time.Second

// Backoff of the stream reader after a failed read.
const (
	retryMin = 50 * time.Millisecond
	retryMax = 2 * time.Second
)

func (o *Options) check() error {
	var errs []error
	if o.StreamName == "" {
		errs = append(errs, errors.New("StreamName is required"))
	}
	if o.SessionKeyPrefix == "" {
		errs = append(errs, errors.New("SessionKeyPrefix is required"))
	}
	if o.ChannelPrefix == "" {
		errs = append(errs, errors.New("ChannelPrefix is required"))
	}
	if o.MaxLen <= 0 || o.ReadCount <= 0 || o.QueueSize <= 0 {
		errs = append(errs, errors.New("MaxLen, ReadCount and QueueSize must be positive"))
	}
	if o.BlockTime <= 0 || o.RequestsTimeout <= 0 || o.CommandTimeout <= 0 || o.SessionRefresh <= 0 {
		errs = append(errs, errors.New("BlockTime, RequestsTimeout, CommandTimeout and SessionRefresh must be positive"))
	}
	if o.Ticker == nil {
		o.Ticker = realTicker
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = redisbase.NopObserver{}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("redisstreams: %w", err)
	}
	return nil
}

// Cluster is one server's link to the others: the
// socket.AdapterConstructor to give the Socket.IO server, and the Pinger
// of its readiness probe. One per process; it makes one adapter per
// namespace and reads the stream for all of them.
type Cluster struct {
	rdb     redis.UniversalClient
	ownsRDB bool
	// reader is the stream reader's own client, a duplicate of rdb as
	// Node's adapter makes: its XREAD blocks a connection, and closing
	// it is what interrupts that read at Close.
	reader redis.UniversalClient
	opts   Options
	rlog   *redisbase.RateLog
	pub    *redisbase.Publisher

	mu       sync.Mutex
	adapters map[string]*Adapter // by namespace name

	stop      context.CancelFunc
	done      chan struct{}  // closed when the reader has returned
	refresher sync.WaitGroup // the session refresh
	lastID    string         // the reader's: the last entry handled
	once      sync.Once

	sessionDrops atomic.Uint64 // session writes dropped beyond the publisher's count
}

var _ socket.AdapterConstructor = (*Cluster)(nil)

// Open connects to the Redis deployment addr names (one Redis, a Redis
// Cluster or a Sentinel-watched primary, see redisbase.Addr) and
// starts reading the stream. It does not wait for Redis: the server
// serves its own sockets while Redis is down.
func Open(addr redisbase.Addr, opts Options) (*Cluster, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	rdb, err := redisbase.NewClient(addr, opts.CommandTimeout)
	if err != nil {
		return nil, err
	}
	// The reader's own client, of the same deployment (a copy of a
	// failover client's options would share its Sentinel watcher).
	reader, err := redisbase.NewClient(addr, opts.CommandTimeout)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	c := newCluster(rdb, reader, opts)
	c.ownsRDB = true
	redisbase.RouteClientLog(c.rlog)
	return c, nil
}

// New builds a Cluster on an existing client and starts reading the
// stream; Close leaves that client open.
func New(rdb redis.UniversalClient, opts Options) (*Cluster, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	return newCluster(rdb, duplicate(rdb), opts), nil
}

// newCluster starts the Cluster on rdb, its stream read by reader, with
// checked opts.
func newCluster(rdb, reader redis.UniversalClient, opts Options) *Cluster {
	rlog := redisbase.NewRateLog(opts.Logger, logEvery)
	ctx, stop := context.WithCancel(context.Background())
	c := &Cluster{
		rdb: rdb, reader: reader, opts: opts, rlog: rlog,
		pub:      redisbase.NewPublisher(rdb, opts.QueueSize, opts.CommandTimeout, rlog, opts.Observer),
		adapters: map[string]*Adapter{},
		stop:     stop,
		done:     make(chan struct{}),
	}
	go c.read(ctx)
	c.refresher.Go(func() { c.refreshSessions(ctx) })
	return c
}

// New makes the adapter of one namespace; the Socket.IO server calls it.
func (c *Cluster) New(nsp socket.Namespace) socket.Adapter {
	a := newAdapter(c, nsp)
	c.mu.Lock()
	c.adapters[nsp.Name()] = a
	c.mu.Unlock()
	return a
}

// adapter is the adapter of the namespace named nsp, or nil.
func (c *Cluster) adapter(nsp string) *Adapter {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.adapters[nsp]
}

// forget unregisters a closed adapter.
func (c *Cluster) forget(a *Adapter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.adapters[a.nsp.Name()] == a {
		delete(c.adapters, a.nsp.Name())
	}
}

// Ping reports whether Redis answers, for the readiness probe.
func (c *Cluster) Ping(ctx context.Context) error {
	return redisbase.PingWithin(ctx, c.rdb, c.opts.CommandTimeout)
}

// Dropped is how many commands this server has given up on since it
// started (queue full, or Redis failed).
func (c *Cluster) Dropped() uint64 { return c.pub.Dropped() + c.sessionDrops.Load() }

// Close stops the stream reader, sends the commands still queued (within
// CommandTimeout) and closes the client if Open made it. Close the
// Socket.IO server first.
func (c *Cluster) Close() error {
	var err error
	c.once.Do(func() {
		c.stop()
		if c.reader != c.rdb {
			_ = c.reader.Close()
		}
		<-c.done
		c.refresher.Wait()
		c.pub.Close()
		if c.ownsRDB {
			if e := c.rdb.Close(); e != nil && !errors.Is(e, redis.ErrClosed) {
				err = e
			}
		}
	})
	return err
}

// duplicate is a new client with rdb's options, or rdb itself if it is
// of a kind this does not know (then Close may wait up to BlockTime for
// the read in progress).
func duplicate(rdb redis.UniversalClient) redis.UniversalClient {
	switch c := rdb.(type) {
	case *redis.Client:
		o := *c.Options()
		// The read connection needs no maintenance notifications (and
		// the original's handler cannot be registered twice).
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		return redis.NewClient(&o)
	case *redis.ClusterClient:
		return redis.NewClusterClient(c.Options())
	default:
		return rdb
	}
}

// commandContext bounds one Redis command.
func (c *Cluster) commandContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.opts.CommandTimeout)
}
