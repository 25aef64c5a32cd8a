package server

import (
	"log/slog"

	"feedrt/server/cors"
	"feedrt/server/metrics"
	"feedrt/server/realtime"
)

// feedRealtime is what the feed server's real-time engine runs with:
// Node's defaults, every client version from 2.x on, recovery on within
// cfg's limits, and the CORS policy the REST routes obey too.
func feedRealtime(cfg Config, policy cors.Policy, tune tuning, log *slog.Logger, m *metrics.Metrics) realtime.Options {
	return realtime.Options{
		PingInterval:        PingInterval,
		PingTimeout:         PingTimeout,
		MaxHTTPBufferSize:   MaxHTTPBufferSize,
		Recovery:            true,
		RecoveryMaxPackets:  cfg.RecoveryMaxPackets,
		RecoveryMaxBytes:    cfg.RecoveryMaxBytes,
		RecoveryMaxSessions: cfg.RecoveryMaxSessions,
		AllowEIO3:           true,
		Transports:          []string{"polling", "websocket"},
		AllowUpgrades:       true,
		CORS:                policy,
		WriteTimeout:        tune.wsWriteTimeout,
		MaxQueued:           cfg.SocketMaxQueued,
		MaxQueuedTotal:      cfg.SocketMaxQueuedTotal,
		Log:                 log,
		Metrics:             m,
	}
}
