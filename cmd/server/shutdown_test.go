package main

import (
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// TestShutdownProcess runs the real binary, connects clients over every
// transport, sends SIGTERM, and checks that each client sees its
// connection closed (not a ping timeout) and the process exits 0 within
// the configured deadline.
func TestShutdownProcess(t *testing.T) {
	const deadline = 5 * time.Second
	p := startServer(t, servertest.BuildServer(t), filepath.Join(t.TempDir(), "data"), "SHUTDOWN_TIMEOUT="+deadline.String())

	// A WebSocket client must see the server close its connection. A
	// long-polling client sees the close packet if a GET is pending, or a
	// refused request if it was between two polls (Node has the same race);
	// either way it must know at once, not after a ping timeout.
	clients := []struct {
		c       *servertest.NodeClient
		reasons string
	}{
		{servertest.MustNodeClient(t, map[string]any{"url": p.URL, "version": 4, "transports": []string{"websocket"}, "reconnection": false}), "transport close"},
		{servertest.MustNodeClient(t, map[string]any{"url": p.URL, "version": 4, "transports": []string{"polling"}, "reconnection": false}), "transport close|transport error"},
		{servertest.MustNodeClient(t, map[string]any{"url": p.URL, "version": 2, "reconnection": false}), "transport close"},
	}
	for _, c := range clients {
		c.c.MustConnect()
	}
	clients[2].c.WaitTransport("websocket") // the 2.x client has upgraded
	goc, _ := servertest.GoClient(t, p.URL)
	goClosed := make(chan string, 1)
	_ = goc.On("disconnect", func(args ...any) {
		reason, _ := args[0].(string)
		goClosed <- reason
	})

	start := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		m := c.c.Next(3*time.Second, "disconnect")
		if !slices.Contains(strings.Split(c.reasons, "|"), m.Reason) {
			t.Errorf("client %d disconnect reason %q, want %s", i, m.Reason, c.reasons)
		}
	}
	if r := storetest.Receive(t, "the Go client's disconnect", goClosed); r != "transport close" {
		t.Errorf("Go client disconnect reason %q", r)
	}

	select {
	case <-p.Exited:
		if p.Err != nil {
			t.Errorf("exit: %v, want status 0", p.Err)
		}
		t.Logf("clients closed and process exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(deadline + time.Second):
		t.Fatal("process still running after the shutdown deadline")
	}
}
