package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/handlers"
	"feedrt/server/metrics"
	"feedrt/server/realtime"
	"feedrt/server/redisadapter"
	"feedrt/server/redisbase"
	"feedrt/server/redissharded"
	"feedrt/server/redisstreams"
)

// clusterAdapter is the Redis cluster, either protocol: the Socket.IO
// server's adapter constructor, the readiness probe's Pinger, and what
// shutdown closes.
type clusterAdapter interface {
	socket.AdapterConstructor
	Ping(ctx context.Context) error
	Close() error
	// Dropped counts the cluster messages given up on (queue full, or
	// Redis failed).
	Dropped() uint64
}

// openCluster joins the Socket.IO cluster on the Redis that REDIS_URL,
// REDIS_CLUSTER_URL or REDIS_SENTINEL_URL names, with the adapter
// REDIS_ADAPTER picks; nil without any of them. An unreachable Redis is not
// fatal: the server serves its own sockets, /readyz answers 503 until
// Redis answers, and the client reconnects. rt's local adapters are the
// cluster adapter's local part.
func openCluster(cfg Config, rt realtime.Options, m *metrics.Metrics, log *slog.Logger) (clusterAdapter, error) {
	addr := cfg.Redis.Addr()
	if addr == (redisbase.Addr{}) {
		return nil, nil
	}
	var obs redisbase.Observer
	if m != nil {
		obs = m.Redis()
	}
	common := func(component string, local func() socket.Adapter) redisbase.Common {
		return redisbase.Common{
			RequestsTimeout: cfg.Redis.RequestsTimeout,
			CommandTimeout:  cfg.Redis.CommandTimeout,
			QueueSize:       cfg.Redis.QueueSize,
			Logger:          log.With("component", component),
			Local:           local,
			Observer:        obs,
		}
	}
	var c clusterAdapter
	var err error
	switch cfg.Redis.Adapter {
	case RedisSharded:
		c, err = redissharded.Open(addr, redissharded.Options{
			ChannelPrefix:    cfg.Redis.KeyPrefix,
			SubscriptionMode: cfg.Redis.SubscriptionMode,
			Common:           common("redis-sharded-adapter", rt.LocalAdapter()),
		})
	case RedisStreams:
		c, err = redisstreams.Open(addr, redisstreams.Options{
			StreamName:       cfg.Redis.StreamName,
			MaxLen:           cfg.Redis.StreamMaxLen,
			ReadCount:        cfg.Redis.StreamReadCount,
			BlockTime:        cfg.Redis.StreamBlockTime,
			SessionKeyPrefix: cfg.Redis.SessionKeyPrefix,
			SessionRefresh:   cfg.Redis.SessionRefresh,
			ChannelPrefix:    cfg.Redis.KeyPrefix,
			Common:           common("redis-streams-adapter", rt.ClusterLocalAdapter()),
		})
	default:
		c, err = redisadapter.Open(addr, redisadapter.Options{
			Key:    cfg.Redis.KeyPrefix,
			Common: common("redis-adapter", rt.LocalAdapter()),
		})
	}
	if err != nil {
		return nil, err
	}
	m.Redis().WatchUp(c.Ping)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		log.Warn("Redis unreachable at start: serving local sockets only until it answers", "redis", cfg.Redis.Masked(), "adapter", cfg.Redis.Adapter, "err", err)
	} else {
		log.Info("Socket.IO cluster through Redis", "redis", cfg.Redis.Masked(), "adapter", cfg.Redis.Adapter, "key_prefix", cfg.Redis.KeyPrefix)
	}
	return c, nil
}

// Addr is the Redis deployment the settings name; zero when none.
func (r RedisConfig) Addr() redisbase.Addr {
	return redisbase.Addr{URL: r.URL, ClusterURL: r.ClusterURL, SentinelURL: r.SentinelURL}
}

// Masked names the Redis deployment for the log, passwords masked.
func (r RedisConfig) Masked() string {
	switch {
	case r.ClusterURL != "":
		return "cluster " + maskURI(r.ClusterURL)
	case r.SentinelURL != "":
		return "sentinel " + maskURI(r.SentinelURL)
	default:
		return maskURI(r.URL)
	}
}

// readiness is what /readyz checks: the store, and Redis when clustered.
func (s *Server) readiness() handlers.Pinger {
	if s.cluster == nil {
		return s.store
	}
	return pingers{s.store, s.cluster}
}

// pingers is ready when every one of them is.
type pingers []handlers.Pinger

// Ping pings each in turn and reports the first failure.
func (ps pingers) Ping(ctx context.Context) error {
	for _, p := range ps {
		if err := p.Ping(ctx); err != nil {
			return err
		}
	}
	return nil
}

// closeCluster sends the last queued cluster messages and disconnects
// from Redis; Socket.IO must be closed first. Later calls do nothing.
func (s *Server) closeCluster() error {
	if s.cluster == nil {
		return nil
	}
	c := s.cluster
	s.cluster = nil
	if err := c.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
