package realtime

import (
	"errors"
	"net/http"

	"feedrt/server/engineio"
	"feedrt/server/metrics"
)

// errNoCORS is New's and NewEngine's answer to Options without a policy:
// no policy would mean no origin check on WebSocket upgrades.
var errNoCORS = errors.New("realtime: Options.CORS is required")

// NewEngine builds the Engine.IO server New binds Socket.IO to, and the
// handler that serves it behind o.CORS. Alone, it serves bare Engine.IO
// (what the Engine.IO protocol suite tests); of o it reads the Engine.IO
// settings, CORS, Log and Metrics.
func NewEngine(o Options) (*engineio.Server, http.Handler, error) {
	if o.CORS == nil {
		return nil, nil, errNoCORS
	}
	eio, err := engineio.New(engineOptions(o))
	if err != nil {
		return nil, nil, err
	}
	return eio, o.CORS.EngineIO(eio), nil
}

// engineOptions is the Engine.IO part of o.
func engineOptions(o Options) engineio.Options {
	return engineio.Options{
		PingInterval:         o.PingInterval,
		PingTimeout:          o.PingTimeout,
		MaxPayload:           o.MaxHTTPBufferSize,
		UpgradeTimeout:       o.UpgradeTimeout,
		WriteTimeout:         o.WriteTimeout,
		MaxQueued:            o.MaxQueued,
		MaxQueuedTotal:       o.MaxQueuedTotal,
		AllowEIO3:            o.AllowEIO3,
		Transports:           o.Transports,
		AllowUpgrades:        o.AllowUpgrades,
		HTTPCompression:      o.HTTPCompression,
		CompressionThreshold: o.HTTPCompressionThreshold,
		PerMessageDeflate:    o.PerMessageDeflate,
		DeflateThreshold:     o.DeflateThreshold,
		Cookie:               o.Cookie,
		CheckOrigin:          o.CORS.AllowsRequest,
		Log:                  o.Log,
		Observer:             engineMetrics{o.Metrics},
	}
}

// engineMetrics reports the engine's sessions to the metrics.
type engineMetrics struct{ m *metrics.Metrics }

func (e engineMetrics) Opened(transport string, protocol int) { e.m.SocketOpened(transport, protocol) }
func (e engineMetrics) Upgraded(protocol int)                 { e.m.SocketUpgraded(protocol) }

func (e engineMetrics) Closed(transport string, protocol int, reason string, slow bool) {
	r := metrics.CloseReasonOf(reason)
	if slow {
		r = metrics.CloseSlowConsumer
	}
	e.m.SocketClosed(transport, protocol, r)
}

func (e engineMetrics) Dropped(cause engineio.SlowCause) { e.m.SlowConsumerDropped(cause.String()) }

func (e engineMetrics) Refused(code int, upgrade bool) {
	cause := metrics.FailureCause(code)
	if code < 0 {
		cause = metrics.FailTimeout
	}
	if upgrade {
		e.m.UpgradeFailed(cause)
		return
	}
	e.m.HandshakeFailed(cause)
}
