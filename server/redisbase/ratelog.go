package redisbase

import (
	"log/slog"
	"sync"
	"time"
)

// RateLog logs a recurring problem at most once per interval per key,
// with the number of times it happened meanwhile, and once more when it
// has cleared, so an outage during a broadcast storm is a handful of
// lines, not one per message. The Redis Streams adapter shares it.
type RateLog struct {
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time // the clock; tests set their own

	mu    sync.Mutex
	state map[string]*rateState
}

type rateState struct {
	last       time.Time
	suppressed int
}

// NewRateLog logs to log, each key at most once per interval.
func NewRateLog(log *slog.Logger, interval time.Duration) *RateLog {
	return &RateLog{log: log, interval: interval, now: time.Now, state: map[string]*rateState{}}
}

// Warn logs msg unless key was logged less than interval ago.
func (r *RateLog) Warn(key, msg string, args ...any) {
	r.mu.Lock()
	st := r.state[key]
	now := r.now()
	if st != nil && now.Sub(st.last) < r.interval {
		st.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := 0
	if st == nil {
		st = &rateState{}
		r.state[key] = st
	} else {
		suppressed = st.suppressed
	}
	st.last, st.suppressed = now, 0
	r.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "repeated", suppressed)
	}
	r.log.Warn(msg, args...)
}

// Recovered logs msg once if key had been warned about.
func (r *RateLog) Recovered(key, msg string, args ...any) {
	r.mu.Lock()
	_, was := r.state[key]
	delete(r.state, key)
	r.mu.Unlock()
	if was {
		r.log.Info(msg, args...)
	}
}
