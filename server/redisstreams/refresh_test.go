package redisstreams

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"feedrt/server/redisbase"
)

// fakeSocket is a connected socket as the refresh reads it.
type fakeSocket struct {
	id    socket.SocketId
	rooms *types.Set[socket.Room]
	data  any
}

func (f *fakeSocket) Id() socket.SocketId            { return f.id }
func (f *fakeSocket) Rooms() *types.Set[socket.Room] { return f.rooms }
func (f *fakeSocket) Data() any                      { return f.data }

// fakeSessions gives a cluster a namespace whose adapter keeps n fake
// sockets' sessions (their own room, a feed room, a user room, a small
// data object, as a feed client has), with a recovery window of 2 min.
func fakeSessions(c *Cluster, n int) []*liveSession {
	a := &Adapter{c: c, recovery: (2 * time.Minute).Milliseconds(), live: map[socket.SocketId]*liveSession{}}
	out := make([]*liveSession, 0, n)
	for i := range n {
		id := socket.SocketId(fmt.Sprintf("sid-%016d", i))
		src := &fakeSocket{id: id, rooms: types.NewSet(socket.Room(id), "feed", socket.Room("user:"+strconv.Itoa(i))), data: map[string]any{"userId": strconv.Itoa(i)}}
		s := a.newLive(src, socket.PrivateSessionId(fmt.Sprintf("pid-%016d", i)))
		a.live[id] = s
		out = append(out, s)
	}
	c.mu.Lock()
	c.adapters["/fake"] = a
	c.mu.Unlock()
	return out
}

func mustCluster(tb testing.TB, url string, opts Options) *Cluster {
	tb.Helper()
	c, err := Open(redisbase.Addr{URL: url}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// TestRefreshChunks: a pass writes every kept session, refreshChunk per
// pipeline, with the recovery window as TTL, and skips a socket that has
// left.
func TestRefreshChunks(t *testing.T) {
	url := redisURL(t)
	opts := testOptions(t, url)
	manualTicker(&opts)
	c := mustCluster(t, url, opts)
	sessions := fakeSessions(c, 2*refreshChunk+10)
	sessions[0].gone.Store(true)
	r := c.refresh(t.Context())
	if r.written != len(sessions)-1 || r.dropped != 0 || r.pipelines != 3 {
		t.Errorf("refresh: %+v, want %d written in 3 pipelines", r, len(sessions)-1)
	}
	rdb := mustRedis(t, url)
	keys, _ := rdb.Keys(t.Context(), opts.SessionKeyPrefix+"*").Result()
	if len(keys) != len(sessions)-1 {
		t.Errorf("%d keys, want %d", len(keys), len(sessions)-1)
	}
	if rdb.Exists(t.Context(), sessions[0].key).Val() != 0 {
		t.Error("the session of a socket that left was written")
	}
	if ttl := rdb.PTTL(t.Context(), sessions[1].key).Val(); ttl <= time.Minute+50*time.Second || ttl > 2*time.Minute {
		t.Errorf("TTL %v, want about 2 min", ttl)
	}
}

// BenchmarkSessionRefresh10k is one refresh pass over 10 000 connected
// sockets' sessions: Redis commands and pipelines per pass, this
// process's CPU per pass (encoding, client, GC), and the CPU Redis spent
// on the SETs (INFO commandstats).
func BenchmarkSessionRefresh10k(b *testing.B) {
	const n = 10_000
	url := redisURL(b)
	opts := testOptions(b, url)
	manualTicker(&opts)
	c := mustCluster(b, url, opts)
	fakeSessions(c, n)
	rdb := mustRedis(b, url)
	ctx := context.Background()
	memBefore := infoField(b, rdb, "memory", "used_memory")
	c.refresh(ctx) // the keys exist from here on, as in a running process
	memAfter := infoField(b, rdb, "memory", "used_memory")
	setUsec := func() float64 { return cmdstat(b, rdb, "set", "usec") }
	redisBefore, cpuBefore := setUsec(), cpuTime()
	var last refreshResult
	b.ResetTimer()
	for b.Loop() {
		last = c.refresh(ctx)
	}
	b.StopTimer()
	if last.written != n || last.dropped != 0 {
		b.Fatalf("last pass: %+v", last)
	}
	b.ReportMetric(float64(last.written), "SETs/op")
	b.ReportMetric(float64(last.pipelines), "pipelines/op")
	b.ReportMetric(float64(cpuTime()-cpuBefore)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric((setUsec()-redisBefore)/1000/float64(b.N), "redis-cpu-ms/op")
	b.ReportMetric((memAfter-memBefore)/n, "redis-bytes/session")
}

// cpuTime is the user and system CPU this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// infoField is a numeric field of a section of INFO.
func infoField(tb testing.TB, rdb *redis.Client, section, field string) float64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), section).Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	tb.Fatalf("INFO %s has no %s", section, field)
	return 0
}

// cmdstat is a field (calls, usec) of a command's INFO commandstats line.
func cmdstat(tb testing.TB, rdb *redis.Client, cmd, field string) float64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(info) {
		stats, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":")
		if !ok {
			continue
		}
		for kv := range strings.SplitSeq(stats, ",") {
			if v, ok := strings.CutPrefix(kv, field+"="); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
	}
	return 0
}
