package servertest

import (
	"bufio"
	"io"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// RedisConfig is how StartRedis runs its redis-server.
type RedisConfig struct {
	// Durable keeps the data across a kill and a restart: an append-only
	// file, written (fsync always) before each reply. Otherwise nothing is
	// kept on disk.
	Durable bool
	// Log receives redis-server's output; nil discards it.
	Log io.Writer
	// Args are more redis-server arguments (--replicaof, cluster mode).
	Args []string
}

// Redis is a redis-server of a test's own, on a spare port, to stop and
// start again.
type Redis struct {
	t    testing.TB
	port int
	args []string
	log  io.Writer
	cmd  *exec.Cmd
}

// StartRedis runs redis-server on a free port, waits until it answers
// PING, and kills it at cleanup. The test fails if there is no
// redis-server binary.
func StartRedis(t testing.TB, cfg RedisConfig) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server (Debian's redis-server package) is needed: %v", err)
	}
	port := FreePort(t)
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--dir", t.TempDir()}
	if cfg.Durable {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	args = append(args, cfg.Args...)
	r := &Redis{t: t, port: port, args: args, log: cfg.Log}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// Port is the server's port.
func (r *Redis) Port() int { return r.port }

// URL is the server's database 0.
func (r *Redis) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// Start runs the server (again, after Stop) and waits until it answers
// PING.
func (r *Redis) Start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", r.args...)
	r.cmd.Stdout = r.log
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(r.port)
	deadline := time.Now().Add(10 * time.Second)
	for !pong(addr) {
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server at %s did not answer within 10s", addr)
		}
		time.Sleep(20 * time.Millisecond) // polling the condition
	}
}

// pong reports whether the Redis at addr answers PING.
func pong(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Stop kills the server (SIGKILL), as a crash or a network cut would
// look; a durable server's answered writes are on disk.
func (r *Redis) Stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}
