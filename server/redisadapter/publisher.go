package redisadapter

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// outMsg is one PUBLISH.
type outMsg struct {
	channel string
	payload []byte
}

// publisher sends every PUBLISH of one Cluster from a single goroutine,
// in the order they were queued, pipelining what has piled up. Queuing
// never blocks: Socket.IO calls Broadcast on the goroutine that also
// delivers to the local sockets, and a Redis that is slow or gone must
// not hold that up. When the queue is full, or a PUBLISH fails, messages
// are dropped (Redis pub/sub is at-most-once anyway) and counted, and the
// drop is logged at most once per logEvery.
type publisher struct {
	rdb     redis.UniversalClient
	timeout time.Duration
	log     *rateLog
	obs     Observer

	queue   chan outMsg
	stop    chan struct{} // closed by close: drain and exit
	done    chan struct{} // closed when run has returned
	once    sync.Once
	dropped atomic.Uint64
}

// maxBatch bounds one pipeline, so a long backlog is sent in pieces that
// each fit the timeout.
const maxBatch = 256

func newPublisher(rdb redis.UniversalClient, size int, timeout time.Duration, log *rateLog, obs Observer) *publisher {
	p := &publisher{
		rdb: rdb, timeout: timeout, log: log, obs: obs,
		queue: make(chan outMsg, size),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go p.run()
	return p
}

// publish queues one message; false if it was dropped.
func (p *publisher) publish(channel string, payload []byte) bool {
	select {
	case <-p.stop:
		return false
	default:
	}
	select {
	case p.queue <- outMsg{channel, payload}:
		return true
	default:
		n := p.dropped.Add(1)
		p.obs.PublishQueueFull()
		p.log.warn("publish-queue-full", "Redis publish queue full, cluster messages dropped", "dropped_total", n)
		return false
	}
}

func (p *publisher) run() {
	defer close(p.done)
	batch := make([]outMsg, 0, maxBatch)
	for {
		select {
		case m := <-p.queue:
			batch = append(batch[:0], m)
		case <-p.stop:
			p.drain(batch[:0])
			return
		}
		batch = p.takeQueued(batch, maxBatch)
		p.send(batch)
	}
}

// drain sends what is still queued at close, within one timeout.
func (p *publisher) drain(batch []outMsg) {
	if batch = p.takeQueued(batch, math.MaxInt); len(batch) > 0 {
		p.send(batch)
	}
}

// takeQueued appends what is queued already, without waiting, until
// batch holds limit messages.
func (p *publisher) takeQueued(batch []outMsg, limit int) []outMsg {
	for len(batch) < limit {
		select {
		case m := <-p.queue:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

// send publishes a batch within p.timeout.
func (p *publisher) send(batch []outMsg) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	var err error
	if len(batch) == 1 {
		err = p.rdb.Publish(ctx, batch[0].channel, batch[0].payload).Err()
	} else {
		_, err = p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for _, m := range batch {
				pipe.Publish(ctx, m.channel, m.payload)
			}
			return nil
		})
	}
	if err != nil {
		n := p.dropped.Add(uint64(len(batch)))
		p.obs.PublishFailed(len(batch))
		p.log.warn("publish-failed", "Redis publish failed, cluster messages dropped", "err", err, "dropped_total", n)
		return
	}
	p.obs.Published(len(batch))
	p.log.recovered("publish-failed", "Redis publish works again", "dropped_total", p.dropped.Load())
}

// close stops taking messages, sends those queued, and waits for that.
func (p *publisher) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// rateLog logs a recurring problem at most once per interval per key,
// with the number of times it happened meanwhile, and once more when it
// has cleared, so an outage during a broadcast storm is a handful of
// lines, not one per message.
type rateLog struct {
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

func newRateLog(log *slog.Logger, interval time.Duration) *rateLog {
	return &rateLog{log: log, interval: interval, now: time.Now, state: map[string]*rateState{}}
}

// warn logs msg unless key was logged less than interval ago.
func (r *rateLog) warn(key, msg string, args ...any) {
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

// recovered logs msg once if key had been warned about.
func (r *rateLog) recovered(key, msg string, args ...any) {
	r.mu.Lock()
	_, was := r.state[key]
	delete(r.state, key)
	r.mu.Unlock()
	if was {
		r.log.Info(msg, args...)
	}
}
