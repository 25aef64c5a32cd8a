package realtime

import (
	"errors"
	"net/http"

	"feedrt/server/engineio"
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
		Observer:             o.observer(),
	}
}
