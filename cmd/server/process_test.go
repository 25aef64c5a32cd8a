package main

import (
	"syscall"
	"testing"
	"time"

	"feedrt/server/servertest"
)

// serverProcess is the real binary, running.
type serverProcess struct {
	*servertest.Process
	t *testing.T
}

// crashSecret keeps tokens valid across restarts.
const crashSecret = "crash-test-secret-0123456789abcdef"

// startServer runs bin with the embedded store in dataDir (env, KEY=value
// pairs, added last) and waits until it answers; it is killed at the end
// of the test.
func startServer(t *testing.T, bin, dataDir string, env ...string) *serverProcess {
	t.Helper()
	p := servertest.StartProcess(t, bin, append([]string{"DATA_DIR=" + dataDir, "MONGODB_URI=",
		"JWT_SECRET=" + crashSecret, "BCRYPT_COST=4", "POSTS_PER_PAGE=100", "LOG_LEVEL=info",
		"IMAGE_SWEEP_AGE=1h", "REDIS_URL="}, env...)...)
	return &serverProcess{Process: p, t: t}
}

// stop sends SIGTERM and waits for the process to end.
func (p *serverProcess) stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Exited:
	case <-time.After(15 * time.Second):
		p.t.Error("server still running 15s after SIGTERM")
	}
}
