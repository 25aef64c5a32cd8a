package realtime

import (
	"reflect"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/store/storetest"
)

// roomSet builds a room set.
func roomSet(rs ...socket.Room) *types.Set[socket.Room] { return types.NewSet(rs...) }

// testLimits are roomy recovery limits with a one-minute window.
var testLimits = recoveryLimits{maxAge: time.Minute, maxPackets: 100, maxBytes: 1 << 20, maxSessions: 100}

// TestRecoveryLog: what a reconnecting socket gets back is the broadcasts
// after its offset that reached its rooms, and nothing once its session,
// or the offset, has expired.
func TestRecoveryLog(t *testing.T) {
	clock := storetest.NewClock(time.Unix(1_700_000_000, 0))
	r := newRecoveryLog(testLimits, clock.Now)
	t.Cleanup(r.reset)
	add := func(id string, opts *socket.BroadcastOptions) { r.add(id, id, opts, 10) }
	add("old", nil)
	clock.Advance(2 * time.Minute) // "old" expires
	add("a", &socket.BroadcastOptions{Rooms: roomSet(), Except: roomSet()})
	add("b", &socket.BroadcastOptions{Rooms: roomSet("red"), Except: roomSet()})
	add("c", &socket.BroadcastOptions{Rooms: roomSet("blue"), Except: roomSet()})
	add("d", &socket.BroadcastOptions{Rooms: roomSet(), Except: roomSet("red")})
	add("e", nil)
	r.persist(&socket.SessionToPersist{Sid: "s1", Pid: "p1", Rooms: roomSet("s1", "red")})

	got := r.restore("p1", "a")
	if got == nil || got.Sid != "s1" {
		t.Fatalf("restore = %+v, want session s1", got)
	}
	if want := []any{"b", "e"}; !reflect.DeepEqual(got.MissedPackets, want) {
		t.Errorf("missed %v, want %v", got.MissedPackets, want)
	}
	if got := r.restore("p1", "e"); got == nil || len(got.MissedPackets) != 0 {
		t.Errorf("restore at the last offset = %+v, want the session and nothing missed", got)
	}
	if got := r.restore("p1", "old"); got != nil {
		t.Errorf("restore at an expired offset = %+v, want nil", got)
	}
	if got := r.restore("nobody", "a"); got != nil {
		t.Errorf("restore of an unknown session = %+v, want nil", got)
	}
	clock.Advance(time.Minute + time.Millisecond)
	if got := r.restore("p1", "a"); got != nil {
		t.Errorf("restore of an expired session = %+v, want nil", got)
	}
	if _, ok := r.sessions["p1"]; ok {
		t.Error("expired session still kept")
	}
}

// TestRecoveryLogBounds: past the count or byte bound the oldest
// broadcasts go (their offsets no longer restore), and past the session
// bound the oldest sessions.
func TestRecoveryLogBounds(t *testing.T) {
	clock := storetest.NewClock(time.Unix(1_700_000_000, 0))
	r := newRecoveryLog(recoveryLimits{maxAge: time.Minute, maxPackets: 3, maxBytes: 1000, maxSessions: 2}, clock.Now)
	t.Cleanup(r.reset)
	r.persist(&socket.SessionToPersist{Sid: "s1", Pid: "p1"})
	for _, id := range []string{"a", "b", "c", "d"} {
		r.add(id, id, nil, 100)
	}
	if got := r.restore("p1", "a"); got != nil {
		t.Errorf("restore after a broadcast past the count bound = %+v, want nil", got)
	}
	if got := r.restore("p1", "b"); got == nil || !reflect.DeepEqual(got.MissedPackets, []any{"c", "d"}) {
		t.Errorf("restore from b = %+v, want c and d", got)
	}
	r.add("big", "big", nil, 850) // 300 + 850 > 1000: b and c go
	if len(r.packets) != 2 || r.bytes != 950 || r.packets[0].Id != "d" {
		t.Errorf("kept %d packets of %d bytes (first %v), want d and big, 950 bytes", len(r.packets), r.bytes, r.packets[0].Id)
	}
	r.add("huge", "huge", nil, 2000) // alone past the bound: nothing kept
	if len(r.packets) != 0 || r.bytes != 0 {
		t.Errorf("kept %d packets of %d bytes, want none", len(r.packets), r.bytes)
	}

	r.persist(&socket.SessionToPersist{Sid: "s2", Pid: "p2"})
	r.persist(&socket.SessionToPersist{Sid: "s1", Pid: "p1"}) // p1 again: its old place is stale
	r.persist(&socket.SessionToPersist{Sid: "s3", Pid: "p3"}) // p2 goes
	if _, ok := r.sessions["p2"]; ok || len(r.sessions) != 2 || r.sessions["p1"].seq == 0 || r.sessions["p3"].seq == 0 {
		t.Errorf("sessions %v, want p1 and p3", r.sessions)
	}
}

// TestRecoveryLogExpiresOnTime: an idle server lets go of its last
// broadcasts and sessions when the window ends, with no new broadcast.
func TestRecoveryLogExpiresOnTime(t *testing.T) {
	r := newRecoveryLog(recoveryLimits{maxAge: 50 * time.Millisecond, maxPackets: 100, maxBytes: 1 << 20, maxSessions: 100}, time.Now)
	t.Cleanup(r.reset)
	r.add("a", "a", nil, 10)
	r.persist(&socket.SessionToPersist{Sid: "s1", Pid: "p1"})
	r.add("b", "b", nil, 10)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		n, m, bytes := len(r.packets), len(r.sessions), r.bytes
		r.mu.Unlock()
		if n == 0 && m == 0 && bytes == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s still %d packets (%d bytes) and %d sessions kept", n, bytes, m)
		}
		time.Sleep(5 * time.Millisecond) // polling the condition
	}
}
