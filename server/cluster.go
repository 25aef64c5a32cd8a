package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/handlers"
	"feedrt/server/metrics"
	"feedrt/server/redisadapter"
)

// openCluster joins the Redis cluster REDIS_URL names; nil without one.
// An unreachable Redis is not fatal: the server serves its own sockets,
// /readyz answers 503 until Redis answers, and the client reconnects.
// local makes the adapter of this process's own sockets
// (realtime.Options.LocalAdapter), the cluster adapter's local part.
func openCluster(cfg Config, local func() socket.Adapter, m *metrics.Metrics, log *slog.Logger) (*redisadapter.Cluster, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	opts := redisadapter.Options{
		Key:    cfg.RedisKeyPrefix,
		Logger: log.With("component", "redis-adapter"),
		Local:  local,
	}
	if m != nil {
		opts.Observer = m.Redis()
	}
	c, err := redisadapter.Open(cfg.RedisURL, opts)
	if err != nil {
		return nil, err
	}
	m.Redis().WatchUp(c.Ping)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		log.Warn("Redis unreachable at start: serving local sockets only until it answers", "url", maskURI(cfg.RedisURL), "err", err)
	} else {
		log.Info("Socket.IO cluster through Redis", "url", maskURI(cfg.RedisURL), "key_prefix", cfg.RedisKeyPrefix)
	}
	return c, nil
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
