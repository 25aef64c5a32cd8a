package redisbase

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr names the Redis deployment a cluster of Socket.IO servers meets
// on: exactly one of its URLs is set.
type Addr struct {
	// URL is one Redis: redis://[user:password@]host:port[/db],
	// rediss://... or unix://...
	URL string
	// ClusterURL is a Redis Cluster, in go-redis's cluster form: one seed
	// node in the URL, more as addr parameters,
	// redis://[user:password@]host:port?addr=host2:port2&addr=...
	// (rediss:// for TLS). The other nodes are discovered from the seeds.
	ClusterURL string
	// SentinelURL is the primary a group of Sentinels watches, in
	// go-redis's failover form: one Sentinel in the URL, more as addr
	// parameters, the primary's name as master_name and its password as
	// password: redis://[sentinel-user:sentinel-password@]host:port[/db]?master_name=mymaster&addr=...
	// The client asks the Sentinels for the primary and follows a
	// failover.
	SentinelURL string
}

// NewClient is the go-redis client of addr: a Client, a ClusterClient or
// a failover (Sentinel) Client. Timeouts its URL does not set are kept
// short (timeout), so a Redis that is gone fails fast.
func NewClient(addr Addr, timeout time.Duration) (redis.UniversalClient, error) {
	set := 0
	for _, u := range []string{addr.URL, addr.ClusterURL, addr.SentinelURL} {
		if u != "" {
			set++
		}
	}
	if set != 1 {
		return nil, errors.New("redis: set exactly one of URL, ClusterURL and SentinelURL")
	}
	switch {
	case addr.ClusterURL != "":
		o, err := redis.ParseClusterURL(addr.ClusterURL)
		if err != nil {
			return nil, fmt.Errorf("redis cluster url: %w", err)
		}
		failFast(timeout, &o.MaxRetries, &o.DialerRetries, &o.DialerRetryTimeout, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
		o.ContextTimeoutEnabled, o.DisableIdentity = true, true
		return redis.NewClusterClient(o), nil
	case addr.SentinelURL != "":
		o, err := redis.ParseFailoverURL(addr.SentinelURL)
		if err != nil {
			return nil, fmt.Errorf("redis sentinel url: %w", err)
		}
		if o.MasterName == "" {
			return nil, errors.New("redis sentinel url: master_name is required")
		}
		failFast(timeout, &o.MaxRetries, &o.DialerRetries, &o.DialerRetryTimeout, &o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
		o.ContextTimeoutEnabled, o.DisableIdentity = true, true
		return redis.NewFailoverClient(o), nil
	default:
		o, err := ClientOptions(addr.URL, timeout)
		if err != nil {
			return nil, err
		}
		return redis.NewClient(o), nil
	}
}

// failFast sets the connection settings a URL left unset (zero) so that
// a Redis that is gone fails fast: timeouts of timeout, one retry, two
// dials 50 ms apart (go-redis dials 5 times, 100 ms apart, by default).
// Its callers also set ContextTimeoutEnabled, and DisableIdentity (CLIENT
// SETINFO: older servers log an error for it).
func failFast(timeout time.Duration, maxRetries, dialerRetries *int, dialerRetryTimeout *time.Duration, timeouts ...*time.Duration) {
	for _, d := range timeouts {
		if *d == 0 {
			*d = timeout
		}
	}
	if *maxRetries == 0 {
		*maxRetries = 1
	}
	if *dialerRetries == 0 {
		*dialerRetries, *dialerRetryTimeout = 2, 50*time.Millisecond
	}
}

// ClientOptions are the go-redis options of the Redis at url
// (redis://[user:pass@]host:port/db or rediss://...). Connection timeouts
// not set in the URL are kept short (timeout), so a Redis that is gone
// fails fast instead of queueing work.
func ClientOptions(url string, timeout time.Duration) (*redis.Options, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	failFast(timeout, &ro.MaxRetries, &ro.DialerRetries, &ro.DialerRetryTimeout, &ro.DialTimeout, &ro.ReadTimeout, &ro.WriteTimeout, &ro.PoolTimeout)
	ro.ContextTimeoutEnabled, ro.DisableIdentity = true, true
	return ro, nil
}

// PingWithin pings rdb, waiting at most timeout for the answer. On a
// Redis Cluster every master is pinged, and all must answer: a ping
// goes to a node of go-redis's choosing, so one dead master would make
// the answer come and go with the node picked.
func PingWithin(ctx context.Context, rdb redis.UniversalClient, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			if err := node.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("%s: %w", node.Options().Addr, err)
			}
			return nil
		})
	} else {
		err = rdb.Ping(ctx).Err()
	}
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// Subscribers is the number of subscribers of channel (PUBSUB NUMSUB),
// asked within timeout: how the Node adapters count the servers. On a
// Redis Cluster each node counts only the subscriptions made on it, so
// the counts of every node are summed, as the Node adapter does.
func Subscribers(rdb redis.UniversalClient, channel string, timeout time.Duration) (int64, error) {
	return numSub(rdb, channel, timeout, func(ctx context.Context, c redis.UniversalClient) (map[string]int64, error) {
		return c.PubSubNumSub(ctx, channel).Result()
	})
}

// ShardSubscribers is the number of subscribers of the sharded channel
// (PUBSUB SHARDNUMSUB), summed over the nodes of a Redis Cluster as the
// Node sharded adapter does.
func ShardSubscribers(rdb redis.UniversalClient, channel string, timeout time.Duration) (int64, error) {
	return numSub(rdb, channel, timeout, func(ctx context.Context, c redis.UniversalClient) (map[string]int64, error) {
		return c.PubSubShardNumSub(ctx, channel).Result()
	})
}

// numSub asks ask of rdb, or of every node of a cluster and sums.
func numSub(rdb redis.UniversalClient, channel string, timeout time.Duration, ask func(context.Context, redis.UniversalClient) (map[string]int64, error)) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		res, err := ask(ctx, rdb)
		if err != nil {
			return 0, err
		}
		return res[channel], nil
	}
	var mu sync.Mutex
	var n int64
	err := cc.ForEachShard(ctx, func(ctx context.Context, node *redis.Client) error {
		res, err := ask(ctx, node)
		if err != nil {
			return err
		}
		mu.Lock()
		n += res[channel]
		mu.Unlock()
		return nil
	})
	return n, err
}

// RouteClientLog sends go-redis's own lines (one per failed dial, for
// one), which it writes to stderr through a process-wide logger, to r;
// only the first call in a process has an effect.
func RouteClientLog(r *RateLog) {
	clientLogOnce.Do(func() { redis.SetLogger(clientLog{r}) })
}

var clientLogOnce sync.Once

// clientLog is go-redis's logger interface on a rateLog.
type clientLog struct{ r *RateLog }

// Printf logs one go-redis line, at most one per logEvery.
func (l clientLog) Printf(_ context.Context, format string, v ...any) {
	l.r.Warn("go-redis", "redis client: "+fmt.Sprintf(format, v...))
}
