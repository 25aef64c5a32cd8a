// Package servertest runs the Socket.IO clients that the tests of server/,
// cmd/server and cmd/conformance drive against a real server: the
// official socket.io-client (4.x and 2.x) under Node, through
// testdata/clients/client.js, and the Go client, and holds the small
// helpers those tests share (SyncBuffer; Do and WSConn for raw HTTP and
// WebSocket exchanges; BuildServer for a cmd/server binary and
// StartProcess to run it; StartRedis, StartRedisCluster and
// StartSentinel for redis-servers of a test's own). Only _test.go files
// import it.
package servertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// NodeMsg is one line the Node client harness printed.
type NodeMsg struct {
	Ev        string            `json:"ev"`
	ID        any               `json:"id"`
	Transport string            `json:"transport"`
	Recovered bool              `json:"recovered"`
	Name      string            `json:"name"`
	Args      []json.RawMessage `json:"args"`
	Reason    string            `json:"reason"`
	Message   string            `json:"message"`
	Data      string            `json:"data"` // a packet's text (client option raw)
}

// NodeClient is a real socket.io-client (4.x or 2.x) run by Node, or
// another Node process that prints NodeMsg lines.
type NodeClient struct {
	tb      testing.TB
	stdin   io.WriteCloser
	msgs    <-chan NodeMsg
	pending []NodeMsg // read but not yet asked for
}

// NewNodeClient drives a Node process started with StartNode whose
// reader sends what it prints on msgs (and closes it at the end).
func NewNodeClient(tb testing.TB, stdin io.WriteCloser, msgs <-chan NodeMsg) *NodeClient {
	return &NodeClient{tb: tb, stdin: stdin, msgs: msgs}
}

// ClientsDir is testdata/clients, where `npm ci` installs the official
// clients, found from this file so that any package's tests can use it.
var ClientsDir = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "clients")
}()

var (
	installOnce sync.Once
	installErr  error
)

// MustInstallClients runs `npm ci` in ClientsDir once per test binary
// when the clients are missing, so `go test ./...` alone works on a fresh
// checkout. MustNodeClient calls it; a test that runs the clients (or
// serves their browser bundle) otherwise calls it first.
func MustInstallClients(tb testing.TB) {
	tb.Helper()
	installOnce.Do(func() {
		_, err4 := os.Stat(filepath.Join(ClientsDir, "node_modules", "socket.io-client", "package.json"))
		_, err2 := os.Stat(filepath.Join(ClientsDir, "node_modules", "socket.io-client-v2", "package.json"))
		_, errMsgpack := os.Stat(filepath.Join(ClientsDir, "node_modules", "socket.io-msgpack-parser", "package.json"))
		if err4 == nil && err2 == nil && errMsgpack == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = ClientsDir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			installErr = fmt.Errorf("npm ci in %s (Node.js and npm are needed for the client tests): %w", ClientsDir, err)
		}
	})
	if installErr != nil {
		tb.Fatal(installErr)
	}
}

// MustNodeClient starts a Node socket.io-client with the given options
// (see client.js) and kills it at cleanup.
func MustNodeClient(tb testing.TB, opts map[string]any) *NodeClient {
	tb.Helper()
	MustInstallClients(tb)
	raw, _ := json.Marshal(opts)
	msgs := make(chan NodeMsg, 1024)
	stdin := StartNode(tb, ClientsDir, nil, func(lines *bufio.Scanner, stop <-chan struct{}) {
		defer close(msgs)
		for lines.Scan() {
			var m NodeMsg
			if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
				tb.Errorf("node client printed %q: %v", lines.Text(), err)
				continue
			}
			if !SendOrStop(msgs, m, stop) {
				return
			}
		}
	}, "client.js", string(raw))
	return NewNodeClient(tb, stdin, msgs)
}

// StartNode runs `node args...` in dir with env added to this process's
// environment, and read on its standard output in a goroutine of its own.
// At cleanup it kills the process, closes stop and waits for read to
// return, so read may report to tb: it never outlives the test.
func StartNode(tb testing.TB, dir string, env []string, read func(lines *bufio.Scanner, stop <-chan struct{}), args ...string) io.WriteCloser {
	tb.Helper()
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		read(sc, stop)
	}()
	tb.Cleanup(func() {
		close(stop)
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		<-done // the output ends with the process
		_ = cmd.Wait()
	})
	return stdin
}

// SendOrStop sends v on ch unless stop is closed first; false then.
func SendOrStop[T any](ch chan<- T, v T, stop <-chan struct{}) bool {
	select {
	case ch <- v:
		return true
	case <-stop:
		return false
	}
}

// Send writes one command to the client.
func (c *NodeClient) Send(cmd map[string]any) {
	c.tb.Helper()
	raw, _ := json.Marshal(cmd)
	if _, err := c.stdin.Write(append(raw, '\n')); err != nil {
		c.tb.Fatalf("write to node client: %v", err)
	}
}

// Next returns the first message with one of the given kinds, waiting up
// to timeout. Messages of other kinds stay queued, in order, for later
// calls (a reconnecting 4.x client, for one, emits the events it missed
// just before its "connect").
func (c *NodeClient) Next(timeout time.Duration, kinds ...string) NodeMsg {
	c.tb.Helper()
	for i, m := range c.pending {
		if slices.Contains(kinds, m.Ev) {
			c.pending = slices.Delete(c.pending, i, i+1)
			return m
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.tb.Fatalf("node client exited while waiting for %v", kinds)
			}
			if slices.Contains(kinds, m.Ev) {
				return m
			}
			c.pending = append(c.pending, m)
		case <-deadline:
			c.tb.Fatalf("no %v from node client within %v", kinds, timeout)
		}
	}
}

// NextWhere returns the first message of kind for which match is true,
// waiting up to timeout; those of kind it passes over are dropped, those
// of other kinds stay queued.
func (c *NodeClient) NextWhere(timeout time.Duration, kind string, match func(NodeMsg) bool) NodeMsg {
	c.tb.Helper()
	got := c.Until(timeout, kind, match)
	return got[len(got)-1]
}

// Until returns the messages of kind, in order, up to and including the
// first for which last is true, waiting up to timeout in all; those of
// other kinds stay queued.
func (c *NodeClient) Until(timeout time.Duration, kind string, last func(NodeMsg) bool) []NodeMsg {
	c.tb.Helper()
	var got []NodeMsg
	deadline := time.Now().Add(timeout)
	for {
		m := c.Next(time.Until(deadline), kind)
		got = append(got, m)
		if last(m) {
			return got
		}
	}
}

// Extra returns the messages of kind queued already and any that comes
// within wait: what trails behind when nothing more is expected.
func (c *NodeClient) Extra(wait time.Duration, kind string) []NodeMsg {
	var out []NodeMsg
	for _, m := range c.pending {
		if m.Ev == kind {
			out = append(out, m)
		}
	}
	select {
	case m := <-c.msgs:
		if m.Ev == kind {
			out = append(out, m)
		}
	case <-time.After(wait):
	}
	return out
}

// Close closes the process's standard input, which ends the harnesses
// that exit when it closes (testdata/noderedis/server.js).
func (c *NodeClient) Close() { _ = c.stdin.Close() }

// Arrived takes the messages of kind that have arrived so far, without
// waiting: for a test that keeps sending while it polls a condition.
// Messages of other kinds stay queued, in order.
func (c *NodeClient) Arrived(kind string) []NodeMsg {
	for drained := false; !drained; {
		select {
		case m, ok := <-c.msgs:
			if ok {
				c.pending = append(c.pending, m)
			} else {
				drained = true
			}
		default:
			drained = true
		}
	}
	var out []NodeMsg
	c.pending = slices.DeleteFunc(c.pending, func(m NodeMsg) bool {
		if m.Ev == kind {
			out = append(out, m)
			return true
		}
		return false
	})
	return out
}

// MustConnect waits for the client's connect event.
func (c *NodeClient) MustConnect() NodeMsg {
	c.tb.Helper()
	m := c.Next(10*time.Second, "connect", "connect_error")
	if m.Ev != "connect" {
		c.tb.Fatalf("connect failed: %s", m.Message)
	}
	return m
}

// Connected waits for the connect event of every client, and returns them.
func Connected(clients ...*NodeClient) []*NodeClient {
	for _, c := range clients {
		c.tb.Helper()
		c.MustConnect()
	}
	return clients
}

// WaitTransport waits until the client's current transport is want (an
// upgrade may take a few round trips).
func (c *NodeClient) WaitTransport(want string) {
	c.tb.Helper()
	var got string
	for range 50 {
		c.Send(map[string]any{"op": "state"})
		if got = c.Next(5*time.Second, "state").Transport; got == want {
			return
		}
		time.Sleep(100 * time.Millisecond) // polling the condition
	}
	c.tb.Fatalf("transport is %q, want %q", got, want)
}
