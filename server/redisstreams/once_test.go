package redisstreams

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// eventNames reads c's events until the one named last (or ten), and returns
// their names.
func eventNames(t *testing.T, c *client, last string) []string {
	t.Helper()
	var got []string
	for {
		e := c.event(t)
		got = append(got, fmt.Sprint(e[0]))
		if e[0] == last || len(got) == 10 {
			return got
		}
	}
}

// waitSprung waits for a trap of the proxy.
func waitSprung(t *testing.T, sprung <-chan struct{}) {
	t.Helper()
	select {
	case <-sprung:
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy's trap did not spring within 10 s")
	}
}

// TestBroadcastOnceWhenXAddAnswerLost: Redis adds a broadcast's entry
// but the XADD's answer never reaches the server (a timeout under load,
// a connection that drops after the write). The server delivers the
// broadcast to its own sockets at once, as for any failed XADD, and
// reads the entry back from the stream, before the failure or after:
// its sockets must still get it once, and the stream must hold it once
// (go-redis retries a pipeline whose connection dropped, which would add
// it twice).
func TestBroadcastOnceWhenXAddAnswerLost(t *testing.T) {
	for _, tc := range []struct {
		name     string
		action   servertest.TrapAction
		readLate bool // the reader reads the entry after the failure
	}{
		{"answer lost, timeout", servertest.LoseAnswer, false},
		{"answer lost, read back after the timeout", servertest.LoseAnswer, true},
		{"connection closed after the write", servertest.CloseForAnswer, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := redisURL(t)
			proxy := servertest.StartRedisProxy(t, u)
			opts := testOptions(t, u)
			opts.CommandTimeout = 300 * time.Millisecond
			a, b := mustNode(t, proxy.URL(), opts), mustNode(t, u, opts)
			waitServers(t, a, 2)
			ca, cb := connect(t, a, ""), connect(t, b, "")
			want := []string{"post", "end"}

			release := make(chan struct{})
			defer close(release)
			if tc.readLate {
				// A's next XREAD, sent once it has read "first", reaches
				// Redis only when released.
				held := proxy.Arm("xread", servertest.Hold, release)
				_ = b.io.Emit("first", 0)
				waitSprung(t, held)
				want = append([]string{"first"}, want...)
			}
			sprung := proxy.Arm("xadd", tc.action, nil)
			_ = a.io.Emit("post", 1)
			waitSprung(t, sprung)
			flush(t, a.c) // the XADD's outcome is known, whatever it is
			if tc.readLate {
				release <- struct{}{}
			}
			_ = a.io.Emit("end", 2)

			if got := eventNames(t, ca, "end"); !reflect.DeepEqual(got, want) {
				t.Errorf("A's client got %v, want %v", got, want)
			}
			if got := eventNames(t, cb, "end"); !reflect.DeepEqual(got, want) {
				t.Errorf("B's client got %v, want %v", got, want)
			}
			if n, entries := mustRedis(t, u).XLen(context.Background(), opts.StreamName).Val(), int64(len(want)); n != entries {
				t.Errorf("stream holds %d entries, want %d", n, entries)
			}
			if n := a.c.adapter("/").own.remembered(); tc.action == servertest.LoseAnswer && tc.readLate && n != 0 {
				t.Errorf("%d broadcasts delivered by the fallback still remembered after they were read back", n)
			}
		})
	}
}

// TestBroadcastBeforeReaderStarts: a broadcast added to the stream before
// the reader has found where to start (the stream's last entry, read at
// start and again after an outage at start) is behind that start; the
// server's own sockets must get it anyway, once.
func TestBroadcastBeforeReaderStarts(t *testing.T) {
	u := redisURL(t)
	proxy := servertest.StartRedisProxy(t, u)
	opts := testOptions(t, u)
	release := make(chan struct{})
	defer close(release)
	held := proxy.Arm("xrevrange", servertest.Hold, release)
	a := mustNode(t, proxy.URL(), opts)
	waitSprung(t, held) // the reader asks for the stream's last entry
	ca := connect(t, a, "")
	_ = a.io.Emit("early", 1)
	rdb := mustRedis(t, u)
	storetest.WaitFor(t, "the entry in the stream", func() bool { return rdb.XLen(context.Background(), opts.StreamName).Val() == 1 })
	release <- struct{}{} // the reader starts after it
	_ = a.io.Emit("end", 2)
	if got, want := eventNames(t, ca, "end"), []string{"early", "end"}; !reflect.DeepEqual(got, want) {
		t.Errorf("A's client got %v, want %v", got, want)
	}
}

// TestFallbacksRemembered: a broadcast delivered by the fallback is
// skipped when it is read back, and remembered for that until
// fallbackMemory has passed or maxFallbacks later ones are; one read
// back before its failure is not delivered again, within readRing.
func TestFallbacksRemembered(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	o := ownEntries{now: func() time.Time { return now }}
	if !o.fallBack(1) || !o.fallBack(2) {
		t.Fatal("a broadcast never read back not delivered by the fallback")
	}
	if o.readBack(1) {
		t.Error("a broadcast delivered by the fallback delivered again when read back")
	}
	now = now.Add(fallbackMemory + time.Second)
	o.fallBack(3)
	if n := o.remembered(); n != 1 {
		t.Errorf("%d remembered after fallbackMemory, want 1 (the last)", n)
	}
	if !o.readBack(2) {
		t.Error("read back after fallbackMemory: skipped, want delivered (forgotten)")
	}

	if !o.readBack(10) || o.fallBack(10) {
		t.Error("a broadcast read back before its failure delivered again by the fallback")
	}
	for i := range readRing {
		o.readBack(uint64(100 + i))
	}
	if !o.fallBack(10) {
		t.Error("readRing entries later, a broadcast read back is still remembered")
	}

	for i := range maxFallbacks + 10 {
		o.fallBack(uint64(1_000 + i))
	}
	if n := o.remembered(); n > maxFallbacks {
		t.Errorf("%d remembered, want at most %d", n, maxFallbacks)
	}
}
