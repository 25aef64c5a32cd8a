package server

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestShutdownProcess runs the real binary, connects clients over every
// transport, sends SIGTERM, and checks that each client sees its
// connection closed (not a ping timeout) and the process exits 0 within
// the configured deadline.
func TestShutdownProcess(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", bin, "feedrt/cmd/server")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}

	const deadline = 5 * time.Second
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT=0", "DATA_DIR="+filepath.Join(dir, "data"),
		"SHUTDOWN_TIMEOUT="+deadline.String(), "LOG_LEVEL=info")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	addrc := make(chan string, 1)
	go func() {
		listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	var url string
	select {
	case addr := <-addrc:
		url = "http://" + addr
	case <-time.After(30 * time.Second):
		t.Fatal("server did not report its address")
	}

	// A WebSocket client must see the server close its connection. A
	// long-polling client sees the close packet if a GET is pending, or a
	// refused request if it was between two polls (Node has the same race);
	// either way it must know at once, not after a ping timeout.
	clients := []struct {
		c       *nodeClient
		reasons string
	}{
		{mustNodeClient(t, map[string]any{"url": url, "version": 4, "transports": []string{"websocket"}, "reconnection": false}), "transport close"},
		{mustNodeClient(t, map[string]any{"url": url, "version": 4, "transports": []string{"polling"}, "reconnection": false}), "transport close|transport error"},
		{mustNodeClient(t, map[string]any{"url": url, "version": 2, "reconnection": false}), "transport close"},
	}
	for _, c := range clients {
		c.c.mustConnect()
	}
	waitTransport(t, clients[2].c, "websocket") // the 2.x client has upgraded
	goc, _ := goClient(t, url)
	goClosed := make(chan string, 1)
	_ = goc.On("disconnect", func(args ...any) {
		reason, _ := args[0].(string)
		goClosed <- reason
	})

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		m := c.c.next(3*time.Second, "disconnect")
		if !slices.Contains(strings.Split(c.reasons, "|"), m.Reason) {
			t.Errorf("client %d disconnect reason %q, want %s", i, m.Reason, c.reasons)
		}
	}
	select {
	case r := <-goClosed:
		if r != "transport close" {
			t.Errorf("Go client disconnect reason %q", r)
		}
	case <-time.After(3 * time.Second):
		t.Error("Go client saw no disconnect")
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit: %v, want status 0", err)
		}
		t.Logf("clients closed and process exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(deadline + time.Second):
		t.Fatal("process still running after the shutdown deadline")
	}
}
