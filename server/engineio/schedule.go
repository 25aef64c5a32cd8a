package engineio

import (
	"container/heap"
	"sync"
	"time"
)

// The timer schedule: one goroutine and one heap per server for every
// deadline of every socket and connection (the next ping, the pong it
// waits for, the write a slow client owes, the close of a polling
// session, a keep-alive connection's HTTP deadlines),
// instead of a runtime timer and a goroutine per socket. A socket owns
// its timer entries; arming one that is armed moves it.

// timerKind says what a deadline means to its socket.
type timerKind uint8

const (
	pingDue    timerKind = iota + 1 // v4: time to send a ping
	pongDue                         // no pong (v4) or ping (v3) by now: ping timeout
	writeDue                        // WebSocket bytes still unwritten: slow client
	closeDue                        // a closing polling session gives up on its last GET
	upgradeDue                      // a probed WebSocket never sent the upgrade packet
	idleDue                         // a keep-alive connection waited too long for a request
	headerDue                       // a request's header did not all come in time
	requestDue                      // a request (its body) did not all come in time
)

// timer is one deadline in the schedule.
type timer struct {
	when  int64 // unix nanoseconds
	index int   // in the heap; -1 when not armed
	kind  timerKind
	fire  func(kind timerKind, now time.Time) // run outside the schedule's lock
}

// timerHeap orders armed timers by when.
type timerHeap []*timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

// schedule runs due timers on one goroutine.
type schedule struct {
	loop // woken when an earlier deadline was armed
	mu   sync.Mutex
	h    timerHeap
}

func newSchedule() *schedule { return &schedule{loop: newLoop()} }

// loop is what a goroutine of the engine's own (the schedule, the worker)
// is woken and stopped with: wake (capacity 1) says there is something
// new; close stops the goroutine and waits for it (run closes done when
// it returns).
type loop struct {
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newLoop() loop {
	return loop{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// close stops the goroutine and waits for it; the worker's jobs still
// queued are dropped (their connections are closing with the server).
func (l *loop) close() {
	close(l.stop)
	<-l.done
}

// newTimer returns an unarmed timer calling fire.
func newTimer(fire func(timerKind, time.Time)) timer {
	return timer{index: -1, fire: fire}
}

// arm sets t to fire with kind at when, moving it if it is armed.
func (s *schedule) arm(t *timer, kind timerKind, when time.Time) {
	s.mu.Lock()
	s.armLocked(t, kind, when)
	s.mu.Unlock()
}

func (s *schedule) armLocked(t *timer, kind timerKind, when time.Time) {
	t.kind, t.when = kind, when.UnixNano()
	if t.index >= 0 {
		heap.Fix(&s.h, t.index)
	} else {
		heap.Push(&s.h, t)
	}
	if t.index == 0 {
		wake(s.wake)
	}
}

// rearmIf moves t to kind at when only if it is armed with kind from:
// the check and the move are one step, so a pong cannot be taken for the
// answer to a ping the schedule has not sent yet.
func (s *schedule) rearmIf(t *timer, from, kind timerKind, when time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.index < 0 || t.kind != from {
		return false
	}
	s.armLocked(t, kind, when)
	return true
}

// lapsed reports whether t is armed with kind and due by now (its firing
// may be late: the goroutine runs when the runtime gets to it).
func (s *schedule) lapsed(t *timer, kind timerKind, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return t.index >= 0 && t.kind == kind && t.when <= now.UnixNano()
}

// disarm removes t from the schedule if it is armed.
func (s *schedule) disarm(t *timer) {
	s.mu.Lock()
	if t.index >= 0 {
		heap.Remove(&s.h, t.index)
	}
	s.mu.Unlock()
}

// due removes and returns the timers due at now, with their kinds as
// they were when they came due, and the time of the next one (zero if
// none is armed).
func (s *schedule) due(now time.Time, into []firing) ([]firing, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := now.UnixNano()
	for len(s.h) > 0 && s.h[0].when <= n {
		t := heap.Pop(&s.h).(*timer)
		into = append(into, firing{t, t.kind})
	}
	if len(s.h) == 0 {
		return into, time.Time{}
	}
	return into, time.Unix(0, s.h[0].when)
}

// firing is a timer that came due.
type firing struct {
	t    *timer
	kind timerKind
}

// run fires due timers until close.
func (s *schedule) run() {
	defer close(s.done)
	clock := time.NewTimer(time.Hour)
	defer clock.Stop()
	var batch []firing
	for {
		var next time.Time
		batch, next = s.due(time.Now(), batch[:0])
		for _, f := range batch {
			f.t.fire(f.kind, time.Now())
		}
		clear(batch)
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		clock.Reset(wait)
		select {
		case <-clock.C:
		case <-s.wake:
		case <-s.stop:
			return
		}
	}
}

// armed reports how many timers are armed (for tests).
func (s *schedule) armed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.h)
}
