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
//     its msgpack. The entry id is the broadcast's recovery offset. A
//     broadcast of this package has one more field, seq <number>, which
//     Node's adapter does not read (see own.go).
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/redisbase"
)

// Options tune a Cluster. Node's defaults live in the server's config;
// every field but Ticker and the Common settings Logger, Local and
// Observer is required. When Local makes an adapter with
// BroadcastWithOffset (realtime's ClusterLocalAdapter), a broadcast read
// from the stream is delivered by it with its entry id as offset; its
// default is the library's in-memory adapter.
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
	// Ticker, if not nil, makes the ticks of the session refresh and the
	// function that stops them (tests tick by hand). Default: a
	// time.Ticker.
	Ticker func(d time.Duration) (ticks <-chan time.Time, stop func())
	redisbase.Common
}

// Backoff of the stream reader after a failed read.
const (
	retryMin = 50 * time.Millisecond
	retryMax = 2 * time.Second
)

// check refuses Options missing a required setting, and fills in the
// ones that are not settings.
func (o *Options) check() error {
	if o.Ticker == nil {
		o.Ticker = realTicker
	}
	return o.Common.Check("redisstreams",
		redisbase.Required("StreamName", o.StreamName),
		redisbase.Required("SessionKeyPrefix", o.SessionKeyPrefix),
		redisbase.Required("ChannelPrefix", o.ChannelPrefix),
		redisbase.Positive("MaxLen", o.MaxLen),
		redisbase.Positive("ReadCount", o.ReadCount),
		redisbase.Positive("BlockTime", o.BlockTime),
		redisbase.Positive("SessionRefresh", o.SessionRefresh))
}

// Cluster is one server's link to the others: the
// socket.AdapterConstructor to give the Socket.IO server, and the Pinger
// of its readiness probe. One per process; it makes one adapter per
// namespace and reads the stream for all of them.
type Cluster struct {
	*redisbase.Link
	// reader is the stream reader's own client, a duplicate of RDB as
	// Node's adapter makes: its XREAD blocks a connection, and closing
	// it is what interrupts that read at Close.
	reader redis.UniversalClient
	opts   Options

	mu       sync.Mutex
	adapters map[string]*Adapter // by namespace name

	stop      context.CancelFunc
	done      chan struct{}  // closed when the reader has returned
	refresher sync.WaitGroup // the session refresh
	lastID    string         // the reader's: the last entry handled
	once      sync.Once

	// reading: the reader has found where it starts (lastID is set), so
	// what is added to the stream from now on is read back.
	reading atomic.Bool
	maxLen  any // opts.MaxLen, an XADD argument boxed once

	sessionDrops atomic.Uint64 // session writes dropped beyond the publisher's count
}

var _ socket.AdapterConstructor = (*Cluster)(nil)

// Open connects to the Redis deployment addr names (see
// redisbase.OpenLink) and starts reading the stream.
func Open(addr redisbase.Addr, opts Options) (*Cluster, error) {
	link, err := redisbase.OpenLink(addr, &opts.Common, opts.check)
	if err != nil {
		return nil, err
	}
	// The reader's own client, of the same deployment (a copy of a
	// failover client's options would share its Sentinel watcher).
	reader, err := redisbase.NewClient(addr, opts.CommandTimeout)
	if err != nil {
		_ = link.Close()
		return nil, err
	}
	return newCluster(link, reader, opts), nil
}

// newCluster starts the Cluster on link, its stream read by reader, with
// checked opts.
func newCluster(link *redisbase.Link, reader redis.UniversalClient, opts Options) *Cluster {
	ctx, stop := context.WithCancel(context.Background())
	c := &Cluster{
		Link: link, reader: reader, opts: opts,
		adapters: map[string]*Adapter{},
		stop:     stop,
		done:     make(chan struct{}),
		maxLen:   opts.MaxLen,
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

// Dropped is how many commands this server has given up on since it
// started (queue full, or Redis failed).
func (c *Cluster) Dropped() uint64 { return c.Link.Dropped() + c.sessionDrops.Load() }

// Close stops the stream reader, sends the commands still queued (within
// CommandTimeout) and closes the client if Open made it. Close the
// Socket.IO server first.
func (c *Cluster) Close() error {
	var err error
	c.once.Do(func() {
		c.stop()
		_ = c.reader.Close()
		<-c.done
		c.refresher.Wait()
		err = c.Link.Close()
	})
	return err
}
