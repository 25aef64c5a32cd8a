package engineio

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"feedrt/store/storetest"
)

// dropObserver counts the clients dropped, by cause.
type dropObserver struct {
	noObserver
	mu    sync.Mutex
	drops map[SlowCause]int
}

func (o *dropObserver) Dropped(c SlowCause) {
	o.mu.Lock()
	o.drops[c]++
	o.mu.Unlock()
}

func (o *dropObserver) count(c SlowCause) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.drops[c]
}

// silentClients opens n WebSocket sessions whose clients never read.
func silentClients(t *testing.T, e *testEngine, n int) []*rawConn {
	t.Helper()
	conns := make([]*rawConn, n)
	for i := range conns {
		conns[i] = dialRaw(t, e.addr())
	}
	storetest.WaitFor(t, "every session open", func() bool { return e.srv.ClientsCount() == uint64(n) })
	return conns
}

// broadcast writes m to every open session.
func (e *testEngine) broadcast(m *Message) {
	for _, c := range e.srv.sessions() {
		c.WriteMessage(m)
	}
}

// TestSilentClientsShareBroadcasts: clients that stop reading hold
// references to the one frame of each broadcast, not copies: with 20 of
// them and 500 broadcasts of 20 KB (10 MB each, past what the kernel's
// buffers take), the memory queued for them is that of the broadcasts at
// most, the heap grows by about as much (copies would be 20 times it),
// and once they are gone both come back to where they were.
func TestSilentClientsShareBroadcasts(t *testing.T) {
	e := mustEngine(t, func(o *Options) { noPings(o); o.MaxQueued = 64 << 20; o.MaxQueuedTotal = 256 << 20 })
	heap0 := heapInUse()
	conns := silentClients(t, e, 20)
	var mem int64
	for i := range 500 {
		m := NewMessage([]byte(strings.Repeat(string(rune('a'+i%26)), 20_000)))
		mem += m.mem()
		e.broadcast(m)
	}
	var held int64
	for _, c := range e.srv.sessions() {
		c.mu.Lock()
		held += c.heldLocked()
		c.mu.Unlock()
	}
	// What the kernel's buffers did not take waits in the queues; nbio
	// copies at most a batch (or a frame) of each.
	queued, most := e.srv.QueuedBytes(), mem+20*(refillBatch+20_100)
	t.Logf("queues hold %d KiB for their clients, %d KiB counted once", held>>10, queued>>10)
	if queued > most || held < 20*(4<<20) {
		t.Errorf("%d bytes queued for 20 clients holding %d, of 500 broadcasts of %d bytes in all; want at most %d, for clients holding 4 MiB each or more", queued, held, mem, most)
	}
	if grew := int64(heapInUse()) - int64(heap0); grew > 2*most {
		t.Errorf("the heap grew by %d MiB, want at most about the broadcasts' %d MiB", grew>>20, mem>>20)
	}
	for _, c := range conns {
		c.Close()
	}
	storetest.WaitFor(t, "the sessions closed and the poller's connections gone", func() bool {
		return e.srv.ClientsCount() == 0 && e.srv.PollerConns() == 0
	})
	if q := e.srv.QueuedBytes(); q != 0 {
		t.Errorf("%d bytes still counted as queued with no client left", q)
	}
	if grew := int64(heapInUse()) - int64(heap0); grew > 4<<20 {
		t.Errorf("the heap is %d MiB larger than before the clients came, want it back", grew>>20)
	}
}

// TestSlowClientDroppedAtItsBound: a client that stops reading is
// dropped as soon as what waits for it passes MaxQueued, not after the
// write deadline; the clients that read go on.
func TestSlowClientDroppedAtItsBound(t *testing.T) {
	obs := &dropObserver{drops: map[SlowCause]int{}}
	e := mustEngine(t, func(o *Options) {
		noPings(o)
		o.MaxQueued, o.WriteTimeout, o.Observer = 1<<20, time.Hour, obs
	})
	silentClients(t, e, 1)
	reader := e.openWS(t)
	var read atomic.Int64
	go func() {
		for {
			if _, _, err := reader.ReadMessage(); err != nil {
				return
			}
			read.Add(1)
		}
	}()
	m := NewMessage([]byte(strings.Repeat("x", 50_000)))
	for i := range 400 { // 20 MB: past the kernel's buffers and the bound
		// A burst the reader keeps up with: at most 8 broadcasts ahead.
		storetest.WaitFor(t, "the reader to keep up", func() bool { return read.Load() >= int64(i-8) })
		e.broadcast(m)
	}
	storetest.WaitFor(t, "the silent client dropped", func() bool { return obs.count(SlowConnection) == 1 })
	if r := e.waitClose(t); r != "transport error" {
		t.Errorf("close reason %q, want transport error", r)
	}
	if n := e.srv.ClientsCount(); n != 1 {
		t.Errorf("%d sessions open, want the reading one", n)
	}
}

// TestQueuedTotalBound: past MaxQueuedTotal the clients holding the most
// are dropped until the total is back under its bound, however little
// each holds of its own bound.
func TestQueuedTotalBound(t *testing.T) {
	obs := &dropObserver{drops: map[SlowCause]int{}}
	e := mustEngine(t, func(o *Options) {
		noPings(o)
		o.MaxQueued, o.MaxQueuedTotal, o.WriteTimeout, o.Observer = 64<<20, 8<<20, time.Hour, obs
	})
	silentClients(t, e, 10)
	for i := range 400 { // distinct broadcasts: 40 MB of them
		e.broadcast(NewMessage([]byte(strings.Repeat(string(rune('a'+i%26)), 50_000))))
		if q := e.srv.QueuedBytes(); q > 8<<20+2*100_050+10*refillBatch {
			t.Fatalf("%d bytes queued after broadcast %d, past the bound of 8 MiB", q, i)
		}
	}
	if obs.count(SlowTotal) == 0 || obs.count(SlowConnection) != 0 {
		t.Errorf("drops: %v, want some past the total and none past a connection's bound", obs.drops)
	}
}
