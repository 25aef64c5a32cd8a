package redisbase

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Command is one queued Redis command.
type Command struct {
	// Add puts the command on the pipeline and returns it.
	Add func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder
	// Done, if not nil, is called once the command has run (its error
	// is cmd.Err()), on the publisher's goroutine and in queue order.
	// It is not called for a command Do refused.
	Done func(cmd redis.Cmder)
}

// Publisher sends the commands of one Cluster (PUBLISH, XADD, SET) from
// a single goroutine, in the order they were queued, pipelining what has
// piled up. Queuing never blocks: Socket.IO calls Broadcast on the
// goroutine that also delivers to the local sockets, and a Redis that is
// slow or gone must not hold that up. When the queue is full, or a
// command fails, it is dropped (Redis pub/sub is at-most-once anyway)
// and counted, and the drop is logged at most once per logEvery.
type Publisher struct {
	rdb     redis.UniversalClient
	timeout time.Duration
	log     *RateLog
	obs     Observer

	queue   chan Command
	stop    chan struct{} // closed by Close: drain and exit
	done    chan struct{} // closed when run has returned
	once    sync.Once
	dropped atomic.Uint64
}

// MaxBatch bounds one pipeline, so a long backlog is sent in pieces that
// each fit the timeout (all but the last one, sent at Close). The Done of
// a pipeline's commands run before the next pipeline is sent, so no more
// than MaxBatch commands are sent between one's sending and its Done.
const MaxBatch = 256

// NewPublisher starts the goroutine that sends what is queued, each
// pipeline within timeout; at most size commands wait. Close stops it.
func NewPublisher(rdb redis.UniversalClient, size int, timeout time.Duration, log *RateLog, obs Observer) *Publisher {
	if obs == nil {
		obs = NopObserver{}
	}
	p := &Publisher{
		rdb: rdb, timeout: timeout, log: log, obs: obs,
		queue: make(chan Command, size),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go p.run()
	return p
}

// Publish queues one PUBLISH; false if it was dropped. It is not sent
// again once it may have run (see PublishCmd).
func (p *Publisher) Publish(channel string, payload []byte) bool {
	return p.publish(false, channel, payload)
}

// SPublish queues one SPUBLISH (sharded Pub/Sub); false if it was
// dropped. It is not sent again once it may have run.
func (p *Publisher) SPublish(channel string, payload []byte) bool {
	return p.publish(true, channel, payload)
}

func (p *Publisher) publish(sharded bool, channel string, payload []byte) bool {
	return p.Do(Command{Add: func(ctx context.Context, pipe redis.Pipeliner) redis.Cmder {
		cmd := PublishCmd(ctx, sharded, channel, payload)
		_ = pipe.Process(ctx, cmd)
		return cmd
	}})
}

// Do queues one command; false if it was dropped (queue full, or
// closed), in which case its Done is not called.
func (p *Publisher) Do(c Command) bool {
	select {
	case <-p.stop:
		return false
	default:
	}
	select {
	case p.queue <- c:
		return true
	default:
		n := p.dropped.Add(1)
		p.obs.PublishQueueFull()
		p.log.Warn("publish-queue-full", "Redis publish queue full, cluster messages dropped", "dropped_total", n)
		return false
	}
}

// Dropped is how many commands were given up on: not queued because the
// queue was full, or failed.
func (p *Publisher) Dropped() uint64 { return p.dropped.Load() }

func (p *Publisher) run() {
	defer close(p.done)
	batch := make([]Command, 0, MaxBatch)
	for {
		select {
		case c := <-p.queue:
			batch = append(batch[:0], c)
		case <-p.stop:
			p.drain(batch[:0])
			return
		}
		batch = p.takeQueued(batch, MaxBatch)
		p.send(batch)
	}
}

// drain sends what is still queued at close, within one timeout.
func (p *Publisher) drain(batch []Command) {
	if batch = p.takeQueued(batch, math.MaxInt); len(batch) > 0 {
		p.send(batch)
	}
}

// takeQueued appends what is queued already, without waiting, until
// batch holds limit commands.
func (p *Publisher) takeQueued(batch []Command, limit int) []Command {
	for len(batch) < limit {
		select {
		case c := <-p.queue:
			batch = append(batch, c)
		default:
			return batch
		}
	}
	return batch
}

// send runs a batch as one pipeline within p.timeout, then hands each
// command to its Done.
func (p *Publisher) send(batch []Command) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	cmds := make([]redis.Cmder, len(batch))
	_, err := p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, c := range batch {
			cmds[i] = c.Add(ctx, pipe)
		}
		return nil
	})
	failed := 0
	var firstErr error
	for i, c := range batch {
		if e := cmds[i].Err(); e != nil && e != redis.Nil {
			failed++
			if firstErr == nil {
				firstErr = e
			}
		}
		if c.Done != nil {
			c.Done(cmds[i])
		}
	}
	if err != nil && firstErr == nil && err != redis.Nil {
		failed, firstErr = len(batch), err
	}
	if ok := len(batch) - failed; ok > 0 {
		p.obs.Published(ok)
	}
	if failed > 0 {
		n := p.dropped.Add(uint64(failed))
		p.obs.PublishFailed(failed)
		p.log.Warn("publish-failed", "Redis publish failed, cluster messages dropped", "err", firstErr, "dropped_total", n)
		return
	}
	p.log.Recovered("publish-failed", "Redis publish works again", "dropped_total", p.dropped.Load())
}

// Close stops taking commands, sends those queued, and waits for that.
func (p *Publisher) Close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}
