package redisadapter

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/store/storetest"
)

// recordingObserver adds up what a Cluster tells it.
type recordingObserver struct {
	published, failed, queueFull, received atomic.Int64

	mu   sync.Mutex
	done []requestDone
}

type requestDone struct {
	answered, expected int
	timedOut           bool
}

func (o *recordingObserver) Published(n int)     { o.published.Add(int64(n)) }
func (o *recordingObserver) PublishFailed(n int) { o.failed.Add(int64(n)) }
func (o *recordingObserver) PublishQueueFull()   { o.queueFull.Add(1) }
func (o *recordingObserver) Received()           { o.received.Add(1) }
func (o *recordingObserver) RequestDone(answered, expected int, timedOut bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done = append(o.done, requestDone{answered, expected, timedOut})
}

func (o *recordingObserver) requests() []requestDone {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]requestDone(nil), o.done...)
}

// TestObserver: the Observer hears of publishes, of what the
// subscriptions read, and of each request's answers, answered or timed
// out.
func TestObserver(t *testing.T) {
	url, key := redisURL(t), prefix(t)
	obs := &recordingObserver{}
	o1 := testOptions(key)
	o1.RequestsTimeout, o1.Observer = 300*time.Millisecond, obs
	s1, _ := mustServer(t, url, o1, false)
	s2, _ := mustServer(t, url, testOptions(key), false)
	waitCount(t, s1, 2)

	_ = s1.Emit("news", 1)
	storetest.WaitFor(t, "the broadcast to be published and echoed", func() bool {
		return obs.published.Load() >= 1 && obs.received.Load() >= 1
	})

	answer := make(chan bool, 2)
	_ = s2.On("ask", func(args ...any) {
		if ack, ok := args[len(args)-1].(socket.Ack); ok && <-answer {
			ack([]any{"yes"}, nil)
		}
	})
	for _, reply := range []bool{true, false} {
		answer <- reply
		errs := make(chan error, 1)
		_ = s1.ServerSideEmitWithAck("ask")(func(_ []any, err error) { errs <- err })
		if err := <-errs; (err == nil) != reply {
			t.Errorf("reply %v: ack error %v", reply, err)
		}
	}
	want := []requestDone{{1, 1, false}, {0, 1, true}}
	if got := obs.requests(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("RequestDone calls %v, want %v", got, want)
	}
	if n := obs.failed.Load() + obs.queueFull.Load(); n != 0 {
		t.Errorf("%d publishes failed with Redis up", n)
	}
}
