package redisstreams

import (
	"fmt"
	"reflect"
	"regexp"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/store/storetest"
)

var entryID = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// names are the event names and first arguments of events, offsets
// checked and dropped.
func names(t *testing.T, events ...[]any) []string {
	t.Helper()
	var out []string
	for _, e := range events {
		if len(e) != 3 {
			t.Fatalf("event %v: want [name, arg, offset]", e)
		}
		if off, _ := e[2].(string); !entryID.MatchString(off) {
			t.Fatalf("event %v: last argument is no stream offset", e)
		}
		out = append(out, fmt.Sprint(e[0], ":", e[1]))
	}
	return out
}

// TestBroadcasts: broadcasts to all, to a room and except a room reach
// the clients of both servers that they should, once each, in order, with
// the stream entry id as offset; a room joined through the other server
// (socketsJoin) counts.
func TestBroadcasts(t *testing.T) {
	url := redisURL(t)
	opts := testOptions(t, url)
	a, b := mustNode(t, url, opts), mustNode(t, url, opts)
	waitServers(t, a, 2)
	ca, cb := connect(t, a, ""), connect(t, b, "")
	b.io.In(socket.Room(ca.sid)).SocketsJoin("red") // ca is on A
	storetest.WaitFor(t, "the join to reach A", func() bool {
		s, ok := a.io.Sockets().Sockets().Load(socket.SocketId(ca.sid))
		return ok && s.Rooms().Has("red")
	})
	// Two servers' XADDs race: B's are in the stream before A's start.
	rdb := mustRedis(t, url)
	_ = b.io.Emit("all", 1)
	_ = b.io.To("red").Emit("red", 2)
	waitStreamLen(t, rdb, opts.StreamName, 3) // the join and these two
	_ = a.io.Except("red").Emit("notred", 3)
	_ = a.io.To("red").Emit("red", 4)
	_ = a.io.Emit("end", 5)
	wantA := []string{"all:1", "red:2", "red:4", "end:5"}
	wantB := []string{"all:1", "notred:3", "end:5"}
	var gotA, gotB [][]any
	for range wantA {
		gotA = append(gotA, ca.event(t))
	}
	for range wantB {
		gotB = append(gotB, cb.event(t))
	}
	if got := names(t, gotA...); !reflect.DeepEqual(got, wantA) {
		t.Errorf("client on A got %v, want %v", got, wantA)
	}
	if got := names(t, gotB...); !reflect.DeepEqual(got, wantB) {
		t.Errorf("client on B got %v, want %v", got, wantB)
	}
	// Both clients saw the same offset for the same broadcast, and each
	// got the stream's entries in the stream's order (a client keeps the
	// last offset it saw: one out of order would make it get entries
	// twice when it recovers).
	if gotA[0][2] != gotB[0][2] || gotA[3][2] != gotB[2][2] {
		t.Errorf("offsets differ: A %v, B %v", gotA, gotB)
	}
	for name, got := range map[string][][]any{"A": gotA, "B": gotB} {
		for i := 1; i < len(got); i++ {
			if !streamIDLess(got[i-1][2].(string), got[i][2].(string)) {
				t.Errorf("client on %s: offsets out of the stream's order: %v", name, got)
				break
			}
		}
	}
}

// streamIDLess orders two stream entry ids ("ms-seq").
func streamIDLess(x, y string) bool {
	var xm, xs, ym, ys uint64
	_, _ = fmt.Sscanf(x, "%d-%d", &xm, &xs)
	_, _ = fmt.Sscanf(y, "%d-%d", &ym, &ys)
	return xm < ym || xm == ym && xs < ys
}

// TestRecoveryAcrossServers: a client that drops from A reconnects to B
// with its session id and offset, and gets its id back and the broadcasts
// it missed that reached its rooms, in order, then the live ones.
func TestRecoveryAcrossServers(t *testing.T) {
	url := redisURL(t)
	opts := testOptions(t, url)
	a, b := mustNode(t, url, opts), mustNode(t, url, opts)
	waitServers(t, a, 2)
	ca := connect(t, a, "")
	a.io.In(socket.Room(ca.sid)).SocketsJoin("red")
	_ = b.io.Emit("first", 0)
	first := ca.event(t)
	offset := first[len(first)-1].(string)

	rdb := mustRedis(t, url)
	ca.Close()
	storetest.WaitFor(t, "the session in Redis", func() bool {
		n, _ := rdb.Exists(t.Context(), opts.SessionKeyPrefix+ca.pid).Result()
		return n == 1
	})
	_ = b.io.Emit("missed", 1)
	_ = b.io.To("blue").Emit("blue", 2)
	waitStreamLen(t, rdb, opts.StreamName, 4) // the join, first, and these two: before A's
	_ = a.io.To("red").Emit("missed", 3)
	_ = a.io.Except("red").Emit("notred", 4)
	_ = a.io.Emit("missed", 5)
	waitStreamLen(t, rdb, opts.StreamName, 7)

	cb := connect(t, b, fmt.Sprintf(`{"pid":%q,"offset":%q}`, ca.pid, offset))
	if cb.sid != ca.sid {
		t.Fatalf("recovered sid %q, want %q", cb.sid, ca.sid)
	}
	_ = a.io.Emit("live", 6)
	var got [][]any
	for range 4 {
		got = append(got, cb.event(t))
	}
	if g, want := names(t, got...), []string{"missed:1", "missed:3", "missed:5", "live:6"}; !reflect.DeepEqual(g, want) {
		t.Errorf("got %v, want %v", g, want)
	}
	s, ok := b.io.Sockets().Sockets().Load(socket.SocketId(cb.sid))
	if !ok || !s.Recovered() || !s.Rooms().Has("red") {
		t.Errorf("socket on B: found %v, recovered and in red: %v", ok, ok && s.Recovered() && s.Rooms().Has("red"))
	}
	// The restore took the key (GETDEL); B keeps it again now that the
	// socket is connected there, with its rooms.
	storetest.WaitFor(t, "B to keep the restored session", func() bool {
		sess, err := readSession(t, rdb, opts.SessionKeyPrefix+ca.pid)
		return err == nil && sess.Sid == socket.SocketId(ca.sid) && sess.Rooms.Has("red")
	})
}

// waitStreamLen waits until the stream holds n entries.
func waitStreamLen(t *testing.T, rdb *redis.Client, stream string, n int64) {
	t.Helper()
	storetest.WaitFor(t, fmt.Sprintf("%d entries in the stream", n), func() bool {
		l, _ := rdb.XLen(t.Context(), stream).Result()
		return l >= n
	})
}
