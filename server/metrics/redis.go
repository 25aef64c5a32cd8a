package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// upPingTimeout bounds the Redis ping feedrt_redis_up makes per scrape,
// well inside Prometheus's default scrape timeout (10 s).
const upPingTimeout = 2 * time.Second

// Redis is the Redis cluster link's metrics: it implements
// redisbase.Observer (the adapter calls it per message, so every
// series is resolved here once).
type Redis struct {
	reg                    prometheus.Registerer
	published, received    prometheus.Counter
	failed, queueFull      prometheus.Counter
	timeouts               prometheus.Counter
	lastAnswered, lastWant prometheus.Gauge
}

func newRedis(reg prometheus.Registerer) *Redis {
	errs := newCounterVec(reg, "redis_publish_errors_total",
		"Cluster messages given up without being published, by reason: redis_error (Redis failed or did not answer within the command timeout) or queue_full (the publish queue was full).",
		"reason")
	return &Redis{
		reg:       reg,
		published: newCounter(reg, "redis_messages_published_total", "Cluster messages (broadcasts, requests, responses) published to Redis."),
		received: newCounter(reg, "redis_messages_received_total",
			"Cluster messages read from the Redis subscriptions, this server's own broadcasts and requests (which Redis echoes) included."),
		failed:    errs.WithLabelValues("redis_error"),
		queueFull: errs.WithLabelValues("queue_full"),
		timeouts: newCounter(reg, "redis_request_timeouts_total",
			"Cluster requests (fetchSockets, serverSideEmit with acknowledgement, ...) that timed out before every other server answered."),
		lastAnswered: newGauge(reg, "redis_last_request_answered_servers",
			"Other servers that answered the last cluster request that waited for answers."),
		lastWant: newGauge(reg, "redis_last_request_expected_servers",
			"Other servers the last cluster request that waited for answers expected answers from (Redis's subscriber count)."),
	}
}

// Redis is what the Redis cluster adapter reports to; nil without
// metrics.
func (m *Metrics) Redis() *Redis {
	if m == nil {
		return nil
	}
	return m.redis
}

// WatchUp registers feedrt_redis_up, 1 when ping succeeds at scrape
// time, 0 otherwise. Call it once, when the server is in a cluster:
// without one there is no such series.
func (r *Redis) WatchUp(ping func(context.Context) error) {
	if r == nil {
		return
	}
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "redis_up",
		Help:      "1 if the cluster's Redis answered a PING at scrape time, else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), upPingTimeout)
		defer cancel()
		if ping(ctx) != nil {
			return 0
		}
		return 1
	}))
}

// Published counts n messages published.
func (r *Redis) Published(n int) {
	if r == nil {
		return
	}
	r.published.Add(float64(n))
}

// PublishFailed counts n messages given up because Redis failed.
func (r *Redis) PublishFailed(n int) {
	if r == nil {
		return
	}
	r.failed.Add(float64(n))
}

// PublishQueueFull counts one message dropped because the publish queue
// was full.
func (r *Redis) PublishQueueFull() {
	if r == nil {
		return
	}
	r.queueFull.Inc()
}

// Received counts one message read from a subscription.
func (r *Redis) Received() {
	if r == nil {
		return
	}
	r.received.Inc()
}

// RequestDone records the end of a request that waited for the other
// servers: how many answered, how many were expected, and whether it
// timed out.
func (r *Redis) RequestDone(answered, expected int, timedOut bool) {
	if r == nil {
		return
	}
	r.lastAnswered.Set(float64(answered))
	r.lastWant.Set(float64(expected))
	if timedOut {
		r.timeouts.Inc()
	}
}
