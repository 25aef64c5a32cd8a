package redissharded

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscriptions are one adapter's sharded subscriptions. On a Redis
// Cluster a sharded channel is served by the shard of its slot, and
// go-redis sends a PubSub's channels again in one SSUBSCRIBE when it
// reconnects, which Redis refuses for channels of several slots; so each
// slot in use has a PubSub (one connection) of its own. On one Redis
// every channel shares one PubSub.
//
// Subscribing and unsubscribing are queued and done in order by a
// goroutine of their own: a room is joined on the goroutine of a socket's
// connect, which must not wait for a Redis that is slow or gone.
type subscriptions struct {
	rdb     redis.UniversalClient
	timeout time.Duration
	handle  func(channel, payload string) // a message, from the PubSubs' goroutines
	warn    func(channel string, err error)
	cluster bool

	mu    sync.Mutex
	queue []subOp
	wake  chan struct{} // a token when queue is not empty
	stop  chan struct{}
	done  chan struct{} // closed when run has returned

	slotsMu sync.Mutex
	slots   map[int]*slotSub
	readers sync.WaitGroup
}

// subOp is one queued change: subscribe to channel, or unsubscribe.
type subOp struct {
	channel string
	add     bool
}

// slotSub is the PubSub of one slot and the channels it holds.
type slotSub struct {
	ps       *redis.PubSub
	channels map[string]bool
}

func newSubscriptions(rdb redis.UniversalClient, timeout time.Duration, handle func(channel, payload string), warn func(string, error)) *subscriptions {
	_, cluster := rdb.(*redis.ClusterClient)
	s := &subscriptions{
		rdb: rdb, timeout: timeout, handle: handle, warn: warn, cluster: cluster,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		slots: map[int]*slotSub{},
	}
	go s.run()
	return s
}

// add subscribes to channel (once however often it is added). If Redis
// is down, go-redis subscribes once it is back.
func (s *subscriptions) add(channel string) { s.enqueue(subOp{channel, true}) }

// remove unsubscribes from channel.
func (s *subscriptions) remove(channel string) { s.enqueue(subOp{channel, false}) }

func (s *subscriptions) enqueue(op subOp) {
	s.mu.Lock()
	s.queue = append(s.queue, op)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run applies the queued changes until close.
func (s *subscriptions) run() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		ops := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, op := range ops {
			if op.add {
				s.subscribe(op.channel)
			} else {
				s.unsubscribe(op.channel)
			}
		}
	}
}

// slotOf is the PubSub a channel goes to: its cluster slot, or 0.
func (s *subscriptions) slotOf(channel string) int {
	if !s.cluster {
		return 0
	}
	return keySlot(channel)
}

func (s *subscriptions) subscribe(channel string) {
	s.slotsMu.Lock()
	defer s.slotsMu.Unlock()
	slot := s.slotOf(channel)
	ss := s.slots[slot]
	if ss != nil && ss.channels[channel] {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	fresh := ss == nil
	if fresh {
		ss = &slotSub{ps: s.rdb.SSubscribe(ctx), channels: map[string]bool{}}
		s.slots[slot] = ss
	}
	ss.channels[channel] = true
	if err := ss.ps.SSubscribe(ctx, channel); err != nil {
		s.warn(channel, err)
	}
	if fresh {
		// Read only once the PubSub knows its channel: a read first
		// would connect it with no channel, to a random node, where
		// the slot's SSUBSCRIBE is refused (MOVED), for good.
		msgs := ss.ps.Channel(redis.WithChannelSize(1024), redis.WithChannelHealthCheckInterval(time.Second))
		s.readers.Go(func() {
			for m := range msgs {
				s.handle(m.Channel, m.Payload)
			}
		})
	}
}

func (s *subscriptions) unsubscribe(channel string) {
	s.slotsMu.Lock()
	defer s.slotsMu.Unlock()
	slot := s.slotOf(channel)
	ss := s.slots[slot]
	if ss == nil || !ss.channels[channel] {
		return
	}
	delete(ss.channels, channel)
	if len(ss.channels) == 0 {
		delete(s.slots, slot)
		_ = ss.ps.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := ss.ps.SUnsubscribe(ctx, channel); err != nil {
		s.warn(channel, err)
	}
}

// channels lists the channels subscribed to (or being subscribed to).
func (s *subscriptions) channels() []string {
	s.slotsMu.Lock()
	defer s.slotsMu.Unlock()
	var out []string
	for _, ss := range s.slots {
		for c := range ss.channels {
			out = append(out, c)
		}
	}
	return out
}

// close stops the changes, closes every PubSub and waits for their
// readers.
func (s *subscriptions) close() {
	close(s.stop)
	<-s.done
	s.slotsMu.Lock()
	for slot, ss := range s.slots {
		_ = ss.ps.Close()
		delete(s.slots, slot)
	}
	s.slotsMu.Unlock()
	s.readers.Wait()
}

// keySlot is the Redis Cluster slot of key: CRC16 (XMODEM) of its hash
// tag (the part between the first { and the next }, when not empty) or
// of the whole key, modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16(key) % 16384)
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial 0), Redis
// Cluster's key hash.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
