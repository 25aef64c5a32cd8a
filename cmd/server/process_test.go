package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"feedrt/server/servertest"
)

// serverProcess is the real binary, running.
type serverProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	log    *servertest.SyncBuffer
	exited chan struct{} // closed when the process has ended
	err    error         // how it ended, once exited is closed
}

// crashSecret keeps tokens valid across restarts.
const crashSecret = "crash-test-secret-0123456789abcdef"

// startServer runs bin on a free port with the embedded store in dataDir
// (env, KEY=value pairs, added last) and waits until it answers; it is
// killed at the end of the test.
func startServer(t *testing.T, bin, dataDir string, env ...string) *serverProcess {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+port, "DATA_DIR="+dataDir, "MONGODB_URI=",
		"JWT_SECRET="+crashSecret, "BCRYPT_COST=4", "POSTS_PER_PAGE=100", "LOG_LEVEL=info",
		"IMAGE_SWEEP_AGE=1h", "REDIS_URL=")
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{t: t, cmd: cmd, url: "http://" + addr, log: &servertest.SyncBuffer{}, exited: make(chan struct{})}
	go func() {
		defer close(p.exited)
		_, _ = io.Copy(p.log, stdout)
		p.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	waitHealthy(t, p.url, p.exited, p.log)
	return p
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// waitHealthy polls GET url/healthz until it answers 200, for up to 30 s,
// failing at once if the server has ended (exited is closed).
func waitHealthy(t *testing.T, url string, exited <-chan struct{}, log *servertest.SyncBuffer) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if res, err := client.Get(url + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("server ended at start; log:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s not answering after 30s; log:\n%s", url, log.String())
		}
		time.Sleep(10 * time.Millisecond) // polling the condition
	}
}

// stop sends SIGTERM and waits for the process to end.
func (p *serverProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.t.Error("server still running 15s after SIGTERM")
	}
}
