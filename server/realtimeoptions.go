package server

import (
	"log/slog"

	"feedrt/server/cors"
	"feedrt/server/engineio"
	"feedrt/server/metrics"
	"feedrt/server/realtime"
)

// RealtimeOptions is what the feed server's real-time engine runs with:
// the Socket.IO part of cfg, and the CORS policy the REST routes obey
// too. The conformance command runs the protocol suites on it.
func RealtimeOptions(cfg Config, log *slog.Logger, m *metrics.Metrics) realtime.Options {
	sio, rec := cfg.SocketIO, cfg.Recovery
	return realtime.Options{
		PingInterval:             sio.PingInterval,
		PingTimeout:              sio.PingTimeout,
		UpgradeTimeout:           sio.UpgradeTimeout,
		ConnectTimeout:           sio.ConnectTimeout,
		MaxHTTPBufferSize:        sio.MaxHTTPBufferSize,
		Recovery:                 rec.Enabled,
		RecoveryWindow:           rec.MaxDisconnectionDuration,
		SkipMiddlewares:          rec.SkipMiddlewares,
		RecoveryMaxPackets:       rec.MaxPackets,
		RecoveryMaxBytes:         rec.MaxBytes,
		RecoveryMaxSessions:      rec.MaxSessions,
		AllowEIO3:                sio.AllowEIO3,
		Transports:               sio.Transports,
		AllowUpgrades:            sio.AllowUpgrades,
		HTTPCompression:          sio.HTTPCompression,
		HTTPCompressionThreshold: sio.HTTPCompressionThreshold,
		PerMessageDeflate:        sio.PerMessageDeflate,
		DeflateThreshold:         sio.PerMessageDeflateThreshold,
		Cookie:                   cookie(sio),
		CORS:                     cors.New(cfg.CORS),
		WriteTimeout:             sio.WriteTimeout,
		MaxQueued:                sio.MaxQueued,
		MaxQueuedTotal:           sio.MaxQueuedTotal,
		Parser:                   sio.Parser,
		Log:                      log,
		Observer:                 realtimeMetrics{m},
	}
}

// realtimeMetrics reports the real-time engine's sessions, broadcasts and
// recoveries to m (nil: nowhere), translating the engine's close reasons
// and error codes into the metrics' labels.
type realtimeMetrics struct{ *metrics.Metrics }

func (r realtimeMetrics) Opened(transport string, protocol int) { r.SocketOpened(transport, protocol) }
func (r realtimeMetrics) Upgraded(protocol int)                 { r.SocketUpgraded(protocol) }

func (r realtimeMetrics) Closed(transport string, protocol int, reason string, slow bool) {
	c := metrics.CloseReasonOf(reason)
	if slow {
		c = metrics.CloseSlowConsumer
	}
	r.SocketClosed(transport, protocol, c)
}

func (r realtimeMetrics) Dropped(cause engineio.SlowCause) { r.SlowConsumerDropped(cause.String()) }

func (r realtimeMetrics) Refused(code int, upgrade bool) {
	cause := metrics.FailureCause(code)
	if code < 0 {
		cause = metrics.FailTimeout
	}
	if upgrade {
		r.UpgradeFailed(cause)
		return
	}
	r.HandshakeFailed(cause)
}

// cookie is Node's cookie option of sio; nil when no cookie is set.
func cookie(sio SocketIOConfig) *engineio.Cookie {
	if sio.Cookie == "" {
		return nil
	}
	// "off" and "false" are Node's sameSite: false and path: false.
	sameSite, path := sio.CookieSameSite, sio.CookiePath
	if sameSite == "off" {
		sameSite = ""
	}
	if path == "false" {
		path = ""
	}
	return &engineio.Cookie{Name: sio.Cookie, Path: path, HTTPOnly: sio.CookieHTTPOnly,
		SameSite: sameSite, Secure: sio.CookieSecure, MaxAge: sio.CookieMaxAge}
}
