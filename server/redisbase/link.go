package redisbase

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Common are the settings every adapter takes; each adapter's Options
// embeds them beside its own. RequestsTimeout, CommandTimeout and
// QueueSize are required (Check refuses them missing); the server's
// configuration holds Node's values for them.
type Common struct {
	// RequestsTimeout bounds how long fetchSockets, serverSideEmit with an
	// acknowledgement and the like wait for the other servers (the Node
	// adapters' requestsTimeout).
	RequestsTimeout time.Duration
	// CommandTimeout bounds every Redis command the adapter issues (but
	// the streams adapter's blocking read), so a dead Redis cannot stall a
	// broadcast for long.
	CommandTimeout time.Duration
	// QueueSize is how many commands may wait for Redis before new ones
	// are dropped.
	QueueSize int
	// Logger receives outage and recovery messages (rate-limited); nil
	// discards them.
	Logger *slog.Logger
	// Local makes the adapter that delivers to this server's own sockets
	// and keeps its rooms, not yet constructed (the cluster adapter embeds
	// it and constructs it). If nil, the adapter's default, which its
	// Options name.
	Local func() socket.Adapter
	// Observer, if not nil, is told of the commands sent and dropped, the
	// messages received and the requests' answers (the server's metrics).
	Observer Observer
}

// Check refuses settings that are missing, the adapter's own (problems,
// nil where none) and these, in an error that names the adapter's
// package, and fills in what is not a setting (Logger, Observer).
func (c *Common) Check(pkg string, problems ...error) error {
	problems = append(problems,
		Positive("RequestsTimeout", c.RequestsTimeout),
		Positive("CommandTimeout", c.CommandTimeout),
		Positive("QueueSize", c.QueueSize))
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = NopObserver{}
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	return nil
}

// Required is the problem of a setting name left empty, nil if set.
func Required(name, value string) error {
	if value == "" {
		return fmt.Errorf("%s is required", name)
	}
	return nil
}

// Positive is the problem of a setting name that is not positive, nil if
// it is.
func Positive[N int | int64 | time.Duration](name string, value N) error {
	if value <= 0 {
		return fmt.Errorf("%s must be positive", name)
	}
	return nil
}

// LocalAdapter makes the local part of an adapter of nsp: Local's, else
// the library's session-aware adapter when the server has connection
// state recovery on, else its plain one (the default of the pub/sub and
// the sharded adapters, whose sessions stay per process).
func (c *Common) LocalAdapter(nsp socket.Namespace) socket.Adapter {
	switch {
	case c.Local != nil:
		return c.Local()
	case nsp.Server().Opts().ConnectionStateRecovery() != nil:
		return socket.MakeSessionAwareAdapter()
	default:
		return socket.MakeAdapter()
	}
}

// logEvery is the longest a recurring Redis problem stays unlogged.
const logEvery = 10 * time.Second

// Link is an adapter's hold on Redis: the client, the publisher of its
// commands and the rate-limited log of what goes wrong.
type Link struct {
	RDB redis.UniversalClient
	Pub *Publisher
	Log *RateLog

	timeout time.Duration // CommandTimeout
}

// OpenLink checks an adapter's settings (check, the adapter's own check,
// which checks their Common part c too, with Common.Check), then connects
// to the Redis deployment addr names (one Redis, a Redis Cluster or a
// Sentinel-watched primary; see Addr). Connection timeouts not set in its
// URL are kept short (CommandTimeout), so a Redis that is gone fails fast
// instead of queueing work. It does not wait for Redis: the server serves
// its own sockets while Redis is down, and go-redis reconnects (and
// follows a failover, and subscribes again) by itself.
func OpenLink(addr Addr, c *Common, check func() error) (*Link, error) {
	if err := check(); err != nil {
		return nil, err
	}
	rdb, err := NewClient(addr, c.CommandTimeout)
	if err != nil {
		return nil, err
	}
	log := NewRateLog(c.Logger, logEvery)
	RouteClientLog(log)
	pub := NewPublisher(rdb, c.QueueSize, c.CommandTimeout, log, c.Observer)
	return &Link{RDB: rdb, Pub: pub, Log: log, timeout: c.CommandTimeout}, nil
}

// Ping reports whether Redis answers, for the readiness probe.
func (l *Link) Ping(ctx context.Context) error {
	return PingWithin(ctx, l.RDB, l.timeout)
}

// Dropped is how many cluster messages this server has given up on since
// it started: not queued because the queue was full, or not sent because
// Redis failed. Each is given up on within CommandTimeout.
func (l *Link) Dropped() uint64 { return l.Pub.Dropped() }

// Close sends the commands still queued (within CommandTimeout) and
// closes the client. Close the Socket.IO server first: its adapters
// unsubscribe as it closes.
func (l *Link) Close() error {
	l.Pub.Close()
	if err := l.RDB.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return err
	}
	return nil
}

// CommandContext bounds one Redis command (CommandTimeout).
func (l *Link) CommandContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), l.timeout)
}

// Subscribe opens a PubSub of its own on patterns (PSUBSCRIBE) and
// channels, within CommandTimeout, and returns it with what it receives,
// health-checked every second, until it is closed. If Redis is down it
// logs that, and go-redis subscribes once Redis is back.
func (l *Link) Subscribe(patterns []string, channels ...string) (*redis.PubSub, <-chan *redis.Message) {
	ctx, cancel := l.CommandContext()
	defer cancel()
	ps := l.RDB.Subscribe(ctx)
	var err error
	if len(patterns) > 0 {
		err = ps.PSubscribe(ctx, patterns...)
	}
	if err == nil {
		err = ps.Subscribe(ctx, channels...)
	}
	if err != nil {
		l.Log.Warn("subscribe", "Redis unavailable: serving local sockets only until it is back", "channels", append(patterns, channels...), "err", err)
	}
	return ps, ps.Channel(redis.WithChannelSize(1024), redis.WithChannelHealthCheckInterval(time.Second))
}

// Cluster is one server's link to the others through the pub/sub or the
// sharded adapter: the socket.AdapterConstructor to give the Socket.IO
// server (opts.SetAdapter), and with its Link the Pinger of the
// readiness probe. One per process; it makes one adapter per namespace.
// (The streams adapter has a Cluster of its own, which reads the stream
// for all its adapters.)
type Cluster struct {
	*Link
	newAdapter func(*Link, socket.Namespace) socket.Adapter
}

var _ socket.AdapterConstructor = (*Cluster)(nil)

// OpenCluster opens the Link (see OpenLink) of a Cluster whose adapters
// newAdapter makes.
func OpenCluster(addr Addr, c *Common, check func() error, newAdapter func(*Link, socket.Namespace) socket.Adapter) (*Cluster, error) {
	l, err := OpenLink(addr, c, check)
	if err != nil {
		return nil, err
	}
	return &Cluster{Link: l, newAdapter: newAdapter}, nil
}

// New makes the adapter of one namespace; the Socket.IO server calls it.
func (c *Cluster) New(nsp socket.Namespace) socket.Adapter { return c.newAdapter(c.Link, nsp) }
