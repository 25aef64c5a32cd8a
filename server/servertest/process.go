package servertest

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Process is a server binary (BuildServer's) running as a process of
// its own.
type Process struct {
	Cmd *exec.Cmd
	// URL is where it listens, http://127.0.0.1:port.
	URL string
	// Log is what it wrote, standard output and error.
	Log *SyncBuffer
	// Exited is closed once the process has ended; Err then says how.
	Exited chan struct{}
	Err    error
}

// StartProcess runs bin on a free loopback port (HOST and PORT), with
// env (KEY=value) added last to this process's environment, and waits
// until it answers GET /healthz. Cleanup kills it, and prints its log if
// the test failed.
func StartProcess(tb testing.TB, bin string, env ...string) *Process {
	tb.Helper()
	port := strconv.Itoa(FreePort(tb))
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "HOST=127.0.0.1", "PORT="+port), env...)
	p := &Process{Cmd: cmd, URL: "http://127.0.0.1:" + port, Log: &SyncBuffer{}, Exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Log, p.Log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		defer close(p.Exited)
		p.Err = cmd.Wait()
	}()
	tb.Cleanup(func() {
		p.Kill()
		if tb.Failed() {
			tb.Logf("log of the server at %s:\n%s", p.URL, p.Log.String())
		}
	})
	WaitHealthy(tb, p.URL, p.Exited, p.Log)
	return p
}

// Kill ends the process with SIGKILL, as a crash or the OOM killer
// would, and waits until it has ended.
func (p *Process) Kill() {
	_ = p.Cmd.Process.Kill()
	<-p.Exited
}

// WaitHealthy polls GET url/healthz until it answers 200, for up to
// 30 s, failing at once, with log, if the server has ended (exited is
// closed).
func WaitHealthy(tb testing.TB, url string, exited <-chan struct{}, log *SyncBuffer) {
	tb.Helper()
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
			tb.Fatalf("server ended at start; log:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("server at %s not answering after 30s; log:\n%s", url, log.String())
		}
		time.Sleep(10 * time.Millisecond) // polling the condition
	}
}

// FreePort is a loopback TCP port nothing listens on right now.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
