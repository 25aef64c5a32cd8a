package redisbase_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"feedrt/server/redisbase"
	"feedrt/server/servertest"
)

// testRedisURL is the machine's Redis (7, for SPUBLISH), or
// FEEDRT_TEST_REDIS_URL.
func testRedisURL() string {
	return cmp.Or(os.Getenv("FEEDRT_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
}

// newClient is a client of the Redis at url as the adapters make it,
// changed by change if not nil, and closed at cleanup.
func newClient(t *testing.T, url string, change func(*redis.Options)) *redis.Client {
	t.Helper()
	o, err := redisbase.ClientOptions(url, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(o)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// publishVia publishes payload on channel (sharded: SPUBLISH) through a
// Publisher of rdb, and returns once the Publisher is done with it.
func publishVia(t *testing.T, rdb redis.UniversalClient, sharded bool, channel, payload string) *redisbase.Publisher {
	t.Helper()
	p := redisbase.NewPublisher(rdb, 8, 2*time.Second, redisbase.NewRateLog(slog.New(slog.DiscardHandler), time.Minute), nil)
	publish := p.Publish
	if sharded {
		publish = p.SPublish
	}
	if !publish(channel, []byte(payload)) {
		t.Fatal("publish not queued")
	}
	p.Close() // waits for the pipeline, retries included
	return p
}

// subscribe subscribes (sharded: SSUBSCRIBE) to channel on rdb and
// returns once Redis has confirmed it; received counts the messages of
// channel until one is "end".
func subscribe(t *testing.T, rdb redis.UniversalClient, sharded bool, channel string) (received func() map[string]int) {
	t.Helper()
	ctx := context.Background()
	sub := rdb.Subscribe(ctx, channel)
	if sharded {
		sub = rdb.SSubscribe(ctx, channel)
	}
	t.Cleanup(func() { _ = sub.Close() })
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	return func() map[string]int {
		t.Helper()
		got := map[string]int{}
		for {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			msg, err := sub.ReceiveMessage(ctx)
			cancel()
			if err != nil {
				t.Fatalf("subscriber, after %v: %v", got, err)
			}
			if msg.Payload == "end" {
				return got
			}
			got[msg.Payload]++
		}
	}
}

// TestPublishOnceWhenConnectionDrops: Redis runs a PUBLISH (SPUBLISH) but
// the connection is closed instead of answering. go-redis sends a
// pipeline again after a dropped connection, and every subscriber (every
// other server of the cluster) would get the message twice: it must get
// it once, and the Publisher count it failed.
func TestPublishOnceWhenConnectionDrops(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprint("sharded=", sharded), func(t *testing.T) {
			u := testRedisURL()
			proxy := servertest.StartRedisProxy(t, u)
			channel := "feedrt-redisbase-test-" + redisbase.RandomID()
			direct := newClient(t, u, nil)
			received := subscribe(t, direct, sharded, channel)

			command := "publish"
			if sharded {
				command = "spublish"
			}
			sprung := proxy.Arm(command, servertest.CloseForAnswer, nil)
			p := publishVia(t, newClient(t, proxy.URL(), nil), sharded, channel, "once")
			select {
			case <-sprung:
			default:
				t.Fatal("the proxy's trap did not spring")
			}
			publishVia(t, direct, sharded, channel, "end")

			if got := received(); got["once"] != 1 || len(got) != 1 {
				t.Errorf("the subscriber got %v, want once: 1", got)
			}
			if n := p.Dropped(); n != 1 {
				t.Errorf("Dropped() = %d, want 1 (the PUBLISH whose connection was closed)", n)
			}
		})
	}
}

// TestPublishRetriedWhenRedisUnreachable: a PUBLISH whose connection
// could not be made (every dial of the first attempt refused) is sent
// again, and gets through when Redis can be reached again.
func TestPublishRetriedWhenRedisUnreachable(t *testing.T) {
	u := testRedisURL()
	channel := "feedrt-redisbase-test-" + redisbase.RandomID()
	received := subscribe(t, newClient(t, u, nil), false, channel)

	var dials atomic.Int32
	rdb := newClient(t, u, func(o *redis.Options) {
		refused := int32(o.DialerRetries) // the first attempt's dials
		o.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) <= refused {
				return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	})
	p := publishVia(t, rdb, false, channel, "once")
	publishVia(t, rdb, false, channel, "end")

	if got := received(); got["once"] != 1 || len(got) != 1 {
		t.Errorf("the subscriber got %v, want once: 1", got)
	}
	if n := p.Dropped(); n != 0 {
		t.Errorf("Dropped() = %d, want 0", n)
	}
	if n := dials.Load(); n <= 2 {
		t.Errorf("%d dials, want the first attempt's refused and another", n)
	}
}

// TestSPublishFollowsMoved: on a Redis Cluster, an SPUBLISH sent to the
// node that no longer serves its channel's slot (the client's map of the
// slots is out of date) is answered MOVED, which go-redis follows: the
// message reaches the subscriber of the new owner, once.
func TestSPublishFollowsMoved(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	rc := servertest.StartRedisCluster(t, 3, servertest.RedisConfig{})
	ctx := context.Background()
	open := func() *redis.ClusterClient {
		rdb, err := redisbase.NewClient(redisbase.Addr{ClusterURL: rc.URL()}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb.(*redis.ClusterClient)
	}
	pub := open()
	channel := "feedrt-redisbase-test-" + redisbase.RandomID()
	owner, err := pub.MasterForKey(ctx, channel) // the slots map is loaded
	if err != nil {
		t.Fatal(err)
	}
	slot, err := pub.ClusterKeySlot(ctx, channel).Result()
	if err != nil {
		t.Fatal(err)
	}

	// The slot moves to another node (no keys in it: nothing to migrate).
	var nodes []*redis.Client
	var target string
	for _, addr := range rc.Addrs() {
		n := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
		t.Cleanup(func() { _ = n.Close() })
		nodes = append(nodes, n)
		if addr != owner.Options().Addr && target == "" {
			if target, err = n.ClusterMyID(ctx).Result(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, n := range nodes {
		if err := n.Do(ctx, "cluster", "setslot", slot, "node", target).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := waitMovedAway(ctx, owner, channel); err != nil {
		t.Fatal(err)
	}

	received := subscribe(t, open(), true, channel) // on the new owner
	p := publishVia(t, pub, true, channel, "once")  // to the old one first
	publishVia(t, pub, true, channel, "end")
	if got := received(); got["once"] != 1 || len(got) != 1 {
		t.Errorf("the subscriber got %v, want once: 1", got)
	}
	if n := p.Dropped(); n != 0 {
		t.Errorf("Dropped() = %d, want 0", n)
	}
}

// waitMovedAway waits until the old owner of channel's slot answers an
// SPUBLISH on it MOVED.
func waitMovedAway(ctx context.Context, owner *redis.Client, channel string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := owner.SPublish(ctx, channel, "probe").Err()
		if err != nil && len(err.Error()) > 5 && err.Error()[:5] == "MOVED" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Join(errors.New("the slot's old owner does not answer MOVED within 10 s"), err)
		}
		time.Sleep(50 * time.Millisecond) // polling the condition
	}
}

// TestMayHaveRun: only a failure to connect and an error answer (a
// refusal, a redirection) prove that a command was not run.
func TestMayHaveRun(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, false},
		{fmt.Errorf("pipeline: %w", refusal("READONLY You can't write against a read only replica.")), false},
		{refusal("MOVED 3999 127.0.0.1:6381"), false},
		{redis.ErrPoolTimeout, false},
		{redis.ErrClosed, false},
		{io.EOF, true},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, true},
		{&net.OpError{Op: "write", Err: syscall.EPIPE}, true},
		{context.DeadlineExceeded, true},
	} {
		if got := redisbase.MayHaveRun(tc.err); got != tc.want {
			t.Errorf("MayHaveRun(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// refusal is an error answer of Redis.
type refusal string

func (r refusal) Error() string { return string(r) }
func (refusal) RedisError()     {}
