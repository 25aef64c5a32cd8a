package server

import "time"

// Option changes a setting of New that is no operator's business, so it
// is not in Config: a timeout fixed by the protocol's timings, or a
// dependency such as the clock. The defaults are what the feed server
// runs with; tests shorten the timeouts and move the clock.
type Option func(*tuning)

// tuning is what Option changes, defaults in newTuning.
type tuning struct {
	readTimeout, writeTimeout time.Duration // http.Server's
	now                       func() time.Time
}

// newTuning applies opts to the defaults, some of which follow cfg.
func newTuning(cfg Config, opts []Option) tuning {
	o := tuning{readTimeout: cfg.HTTP.ReadTimeout, writeTimeout: writeTimeout(cfg), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithHTTPTimeouts replaces http.Server's ReadTimeout and WriteTimeout
// (HTTP_READ_TIMEOUT, and pingInterval + pingTimeout + 15 s). The write
// timeout is not a configuration setting: one at or below pingInterval + pingTimeout breaks
// long-polling, and WebSockets are bound by neither (which is what a
// test shortens them to show).
func WithHTTPTimeouts(read, write time.Duration) Option {
	return func(o *tuning) { o.readTimeout, o.writeTimeout = read, write }
}

// WithClock replaces time.Now as the clock of the image sweep's age test,
// of the failed-login limits and of connection state recovery's log.
func WithClock(now func() time.Time) Option {
	return func(o *tuning) { o.now = now }
}
