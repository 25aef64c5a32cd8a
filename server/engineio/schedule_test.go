package engineio

import (
	"testing"
	"time"

	"feedrt/store/storetest"
)

// TestScheduleOrder: timers come due in order of their deadlines, moved
// timers at their new time, disarmed ones never; rearmIf moves a timer
// only from the kind it expects.
func TestScheduleOrder(t *testing.T) {
	s := newSchedule()
	base := time.Unix(1000, 0)
	var fired []int
	mk := func(id int) *timer {
		tm := newTimer(func(timerKind, time.Time) { fired = append(fired, id) })
		return &tm
	}
	a, b, c, d := mk(1), mk(2), mk(3), mk(4)
	s.arm(a, pingDue, base.Add(3*time.Second))
	s.arm(b, pingDue, base.Add(1*time.Second))
	s.arm(c, pingDue, base.Add(2*time.Second))
	s.arm(d, pingDue, base.Add(4*time.Second))
	s.arm(a, pongDue, base.Add(500*time.Millisecond)) // moved earlier
	s.disarm(c)
	if s.rearmIf(b, pongDue, pingDue, base.Add(5*time.Second)) {
		t.Error("rearmIf moved a timer armed with another kind")
	}
	if !s.rearmIf(d, pingDue, pongDue, base.Add(6*time.Second)) {
		t.Error("rearmIf did not move a timer armed with the kind it expects")
	}

	due, next := s.due(base.Add(time.Second), nil)
	if len(due) != 2 || due[0].kind != pongDue || due[1].kind != pingDue {
		t.Fatalf("due at +1s: %v", due)
	}
	for _, f := range due {
		f.t.fire(f.kind, base)
	}
	if want := base.Add(6 * time.Second); !next.Equal(want) {
		t.Errorf("next deadline %v, want %v", next, want)
	}
	if len(fired) != 2 || fired[0] != 1 || fired[1] != 2 {
		t.Errorf("fired %v, want [1 2]", fired)
	}
	if due, next := s.due(base.Add(10*time.Second), nil); len(due) != 1 || !next.IsZero() || s.armed() != 0 {
		t.Errorf("at +10s: %d due, next %v, %d armed", len(due), next, s.armed())
	}
}

// TestScheduleRuns: the goroutine fires a timer armed while it sleeps
// on a later one, and stops on close.
func TestScheduleRuns(t *testing.T) {
	s := newSchedule()
	go s.run()
	late := newTimer(func(timerKind, time.Time) {})
	s.arm(&late, pingDue, time.Now().Add(time.Hour))
	fired := make(chan timerKind, 1)
	soon := newTimer(func(k timerKind, _ time.Time) { fired <- k })
	s.arm(&soon, pongDue, time.Now().Add(10*time.Millisecond))
	if k := storetest.Receive(t, "the timer armed last to fire", fired); k != pongDue {
		t.Errorf("fired with kind %d", k)
	}
	s.close()
	if s.armed() != 1 {
		t.Errorf("%d armed after close, want the late one", s.armed())
	}
}
