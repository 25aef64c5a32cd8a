package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// raceEnabled is set by race_on_test.go; the server binary is then built
// with -race too, which also lets the build reuse the packages that
// `go test -race ./...` has already compiled.
var raceEnabled bool

// TestSmokeGoServer builds the real server, starts it on a free loopback
// port with an embedded store in a temp dir, and runs the load generator
// in-process against it: 200 clients (5% long-polling), 5 posts of 8 KiB
// (which reach the polling clients compressed), every event checked in
// full. Every client must connect and get every post.
func TestSmokeGoServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	if _, err := raiseNoFile(); err != nil {
		t.Logf("raise open-file limit: %v", err)
	}
	bin := buildServer(t)
	base, _, pid := startServer(t, bin)

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cfg := DefaultConfig()
	cfg.URL = base
	cfg.Label = "go"
	cfg.Clients = 200
	cfg.Posts = 5
	cfg.Warmup = 1
	cfg.Interval = 50 * time.Millisecond
	cfg.ConnectConcurrency = 50
	cfg.Settle = 200 * time.Millisecond
	cfg.Drain = 15 * time.Second
	cfg.Timeout = 40 * time.Second
	cfg.PID = pid
	cfg.VerifyAll = true
	cfg.Content = 8 << 10
	cfg.Log = testWriter{t}
	start := time.Now()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var table bytes.Buffer
	printHuman(&table, res)
	t.Logf("run took %v\n%s", time.Since(start).Round(time.Millisecond), table.String())

	if res.Connected != cfg.Clients || res.ConnectFails != 0 {
		t.Errorf("connected %d of %d clients (%d failed)", res.Connected, cfg.Clients, res.ConnectFails)
	}
	if res.PollClients != 10 || res.WSClients != 190 {
		t.Errorf("transports: %d polling, %d websocket; want 10 and 190", res.PollClients, res.WSClients)
	}
	if res.PostsOK != cfg.Posts || res.WarmupOK != cfg.Warmup {
		t.Errorf("created %d of %d posts, %d of %d warm-up", res.PostsOK, cfg.Posts, res.WarmupOK, cfg.Warmup)
	}
	if res.Lost != 0 || res.Received != int64(cfg.Clients*(cfg.Posts+cfg.Warmup)) || res.Expected != res.Received {
		t.Errorf("deliveries: %d received of %d expected, %d lost", res.Received, res.Expected, res.Lost)
	}
	if res.Duplicates != 0 || res.BadEvents != 0 || res.Dropped != 0 {
		t.Errorf("%d duplicate, %d malformed events, %d dropped clients", res.Duplicates, res.BadEvents, res.Dropped)
	}
	if res.LatencyP50 <= 0 || res.TimeToAllP99 < res.LatencyP50 || len(res.TimeToAll) != cfg.Posts {
		t.Errorf("latencies look wrong: per-client p50 %v ms, time-to-all p99 %v ms", res.LatencyP50, res.TimeToAllP99)
	}
	if res.PID != pid || res.RSSConnectedKiB <= 0 || res.CPUBroadcastMS < 0 {
		t.Errorf("server measurements missing: pid %d, RSS %d KiB, CPU %v ms", res.PID, res.RSSConnectedKiB, res.CPUBroadcastMS)
	}
	// The bytes are counted: each post reaches 190 WebSockets whole (8
	// KiB and more) and 10 polling clients (compressed, less).
	if lo, hi := 190*8.0, 200*9.0; res.BytesPerPostKiB < lo || res.BytesPerPostKiB > hi {
		t.Errorf("%.1f KiB sent per post, want %.0f to %.0f", res.BytesPerPostKiB, lo, hi)
	}
	if !res.OK() || len(res.Errors) > 0 {
		t.Errorf("run not OK: %q", res.Errors)
	}
}

// buildServer compiles feedrt/cmd/server into a temp dir.
func buildServer(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "feedrt-server")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "feedrt/cmd/server")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, goBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built the server in %v (race: %v)", time.Since(start).Round(time.Millisecond), raceEnabled)
	return bin
}

// startServer runs the server binary on a kernel-chosen loopback port and
// returns its base URL and pid once it listens. It is stopped with
// SIGTERM at the end of the test; its log is shown if the test failed.
func startServer(t *testing.T, bin string, env ...string) (base, metricsURL string, pid int) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), env...),
		"PORT=0",
		"HOST=127.0.0.1",
		"DATA_DIR="+t.TempDir(),
		"BCRYPT_COST=4",
		"JWT_SECRET=fanout-smoke-test-secret-0123456789abcdef",
		"CORS_ORIGINS=*",
		"LOG_LEVEL=info",
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logMu sync.Mutex
	var log bytes.Buffer
	cmd.Stderr = &lockedWriter{mu: &logMu, w: &log}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	exited := make(chan error, 1)
	addr := make(chan string, 1)
	var metricsAddr atomic.Value // logged before the listening address
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			log.WriteString(line + "\n")
			logMu.Unlock()
			for _, f := range strings.Fields(line) {
				a, ok := strings.CutPrefix(f, "addr=")
				switch {
				case !ok:
				case strings.Contains(line, "msg=listening"):
					select {
					case addr <- a:
					default:
					}
				case strings.Contains(line, `msg="serving metrics"`):
					metricsAddr.Store(a)
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("server exit: %v", err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("server did not stop within 15s of SIGTERM")
		}
		if t.Failed() {
			logMu.Lock()
			t.Logf("server log:\n%s", log.String())
			logMu.Unlock()
		}
	})
	select {
	case a := <-addr:
		if m, ok := metricsAddr.Load().(string); ok {
			metricsURL = "http://" + m + "/metrics"
		}
		return "http://" + a, metricsURL, cmd.Process.Pid
	case err := <-exited:
		exited <- err
		t.Fatalf("server exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not log its listening address within 30s")
	}
	return "", "", 0
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestSmokeSilent runs the silent mode against the real server: a few
// clients that never read, posts of the largest content; the run
// completes and reads the server's memory.
func TestSmokeSilent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	bin := buildServer(t)
	base, metricsURL, pid := startServer(t, bin, "METRICS_ADDR=127.0.0.1:0")
	if metricsURL == "" {
		t.Fatal("the server logged no metrics address")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := RunSilent(ctx, SilentConfig{URL: base, Path: "/socket.io/", Clients: 3, Posts: 100, Content: 19_990, PID: pid,
		MetricsURL: metricsURL, After: time.Second}, testWriter{t})
	if err != nil {
		t.Fatalf("RunSilent: %v", err)
	}
	if res.RSSBefore <= 0 || res.RSSPeak < res.RSSBefore || res.RSSAfter <= 0 || res.PostSeconds <= 0 ||
		res.HeapInUseAfter <= 0 || res.Dropped < 0 {
		t.Errorf("result %+v", res)
	}
}
