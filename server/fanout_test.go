package server

import (
	"reflect"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// TestRecoveryLog: what a reconnecting socket gets back is the broadcasts
// after its offset that reached its rooms, and nothing once its session,
// or the offset, has expired.
func TestRecoveryLog(t *testing.T) {
	rooms := func(rs ...socket.Room) *types.Set[socket.Room] { return types.NewSet(rs...) }
	r := &recoveryLog{maxAge: time.Minute, sessions: map[socket.PrivateSessionId]*socket.SessionWithTimestamp{}}
	now := time.Now().UnixMilli()
	add := func(id string, age time.Duration, opts *socket.BroadcastOptions) {
		r.add(&socket.PersistedPacket{Id: id, EmittedAt: now - age.Milliseconds(), Data: id, Opts: opts})
	}
	add("old", 2*time.Minute, nil) // expired: dropped by the next add
	add("a", 0, &socket.BroadcastOptions{Rooms: rooms(), Except: rooms()})
	add("b", 0, &socket.BroadcastOptions{Rooms: rooms("red"), Except: rooms()})
	add("c", 0, &socket.BroadcastOptions{Rooms: rooms("blue"), Except: rooms()})
	add("d", 0, &socket.BroadcastOptions{Rooms: rooms(), Except: rooms("red")})
	add("e", 0, nil)
	r.persist(&socket.SessionToPersist{Sid: "s1", Pid: "p1", Rooms: rooms("s1", "red")})

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
	r.sessions["p1"].DisconnectedAt = now - (2 * time.Minute).Milliseconds()
	if got := r.restore("p1", "a"); got != nil {
		t.Errorf("restore of an expired session = %+v, want nil", got)
	}
	if _, ok := r.sessions["p1"]; ok {
		t.Error("expired session still kept")
	}
}
