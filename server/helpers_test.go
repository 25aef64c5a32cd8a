package server

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"feedrt/store/mongostore/ferretdbtest"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var verbose = flag.Bool("serverlog", false, "print the server's log during tests")

// TestMain installs the Node test clients (npm ci) when they are missing,
// so `go test ./...` alone works on a fresh checkout.
func TestMain(m *testing.M) {
	flag.Parse()
	if err := ensureNodeClients(); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	code := m.Run()
	if mongoStop != nil {
		mongoStop()
	}
	os.Exit(code)
}

// The MongoDB-wire server of this test binary, started on first use:
// MONGODB_URI if set, else an embedded FerretDB.
var (
	mongoOnce sync.Once
	mongoBase string
	mongoStop func()
	mongoErr  error
)

// mustMongoURI returns the URI of a fresh database for this test, which
// is dropped when the test ends (after the test's server has stopped), so
// a real MongoDB in MONGODB_URI is left as it was.
func mustMongoURI(tb testing.TB) string {
	tb.Helper()
	mongoOnce.Do(func() { mongoBase, mongoStop, mongoErr = ferretdbtest.ServerForTests() })
	if mongoErr != nil {
		tb.Fatalf("MongoDB-wire test server: %v", mongoErr)
	}
	name := ferretdbtest.DBName(tb)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := mongo.Connect(options.Client().ApplyURI(mongoBase))
		if err == nil {
			err = c.Database(name).Drop(ctx)
			_ = c.Disconnect(ctx)
		}
		if err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	return ferretdbtest.WithDatabase(mongoBase, name)
}

// forEachStore runs test once per store implementation, each time with a
// config edit that selects it.
func forEachStore(t *testing.T, test func(t *testing.T, useStore func(*Config))) {
	t.Run("bolt", func(t *testing.T) { test(t, func(*Config) {}) })
	t.Run("mongo", func(t *testing.T) {
		uri := mustMongoURI(t)
		test(t, func(c *Config) { c.MongoURI = uri })
	})
}

func ensureNodeClients() error {
	_, err4 := os.Stat(filepath.Join(harnessDir, "node_modules", "socket.io-client", "package.json"))
	_, err2 := os.Stat(filepath.Join(harnessDir, "node_modules", "socket.io-client-v2", "package.json"))
	if err4 == nil && err2 == nil {
		return nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = harnessDir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s (Node.js and npm are needed for the client tests): %w", harnessDir, err)
	}
	return nil
}

// testEnv is the real server running on 127.0.0.1:0 with a fresh data dir.
type testEnv struct {
	srv  *Server
	url  string // http://127.0.0.1:port
	done chan error
	once sync.Once
}

// mustStart starts a server whose config is the defaults changed by edit,
// and shuts it down at cleanup (or earlier through stop).
func mustStart(tb testing.TB, edit func(*Config)) *testEnv {
	tb.Helper()
	cfg, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Host, cfg.Port = "127.0.0.1", 0
	cfg.DataDir = tb.TempDir()
	cfg.BcryptCost = 4
	cfg.ShutdownTimeout = 5 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	var w io.Writer = io.Discard
	if *verbose {
		w = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(context.Background(), cfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		tb.Fatal(err)
	}
	env := &testEnv{srv: srv, url: "http://" + ln.Addr().String(), done: make(chan error, 1)}
	go func() { env.done <- srv.Serve(ln) }()
	tb.Cleanup(func() { env.stop(tb) })
	return env
}

// stop shuts the server down gracefully; later calls do nothing.
func (e *testEnv) stop(tb testing.TB) {
	e.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-e.done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
}

// nodeMsg is one line the Node client harness printed.
type nodeMsg struct {
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

// nodeClient is a real socket.io-client (4.x or 2.x) run by Node, driven
// through testdata/clients/client.js.
type nodeClient struct {
	tb      testing.TB
	stdin   io.WriteCloser
	msgs    chan nodeMsg
	pending []nodeMsg // read but not yet asked for
}

// harnessDir is where `npm ci` installed the official clients.
const harnessDir = "../testdata/clients"

// mustNodeClient starts a Node socket.io-client with the given options
// (see client.js) and kills it at cleanup.
func mustNodeClient(tb testing.TB, opts map[string]any) *nodeClient {
	tb.Helper()
	raw, _ := json.Marshal(opts)
	c := &nodeClient{tb: tb, msgs: make(chan nodeMsg, 1024)}
	c.stdin = startNode(tb, harnessDir, nil, func(lines *bufio.Scanner, stop <-chan struct{}) {
		defer close(c.msgs)
		for lines.Scan() {
			var m nodeMsg
			if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
				tb.Errorf("node client printed %q: %v", lines.Text(), err)
				continue
			}
			if !sendOrStop(c.msgs, m, stop) {
				return
			}
		}
	}, "client.js", string(raw))
	return c
}

// startNode runs `node args...` in dir with env added to this process's
// environment, and read on its standard output in a goroutine of its own.
// At cleanup it kills the process, closes stop and waits for read to
// return, so read may report to tb: it never outlives the test.
func startNode(tb testing.TB, dir string, env []string, read func(lines *bufio.Scanner, stop <-chan struct{}), args ...string) io.WriteCloser {
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

// sendOrStop sends v on ch unless stop is closed first; false then.
func sendOrStop[T any](ch chan<- T, v T, stop <-chan struct{}) bool {
	select {
	case ch <- v:
		return true
	case <-stop:
		return false
	}
}

// send writes one command to the client.
func (c *nodeClient) send(cmd map[string]any) {
	c.tb.Helper()
	raw, _ := json.Marshal(cmd)
	if _, err := c.stdin.Write(append(raw, '\n')); err != nil {
		c.tb.Fatalf("write to node client: %v", err)
	}
}

// next returns the first message with one of the given kinds, waiting up
// to timeout. Messages of other kinds stay queued, in order, for later
// calls (a reconnecting 4.x client, for one, emits the events it missed
// just before its "connect").
func (c *nodeClient) next(timeout time.Duration, kinds ...string) nodeMsg {
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

// mustConnect waits for the client's connect event.
func (c *nodeClient) mustConnect() nodeMsg {
	c.tb.Helper()
	m := c.next(10*time.Second, "connect", "connect_error")
	if m.Ev != "connect" {
		c.tb.Fatalf("connect failed: %s", m.Message)
	}
	return m
}

// connected waits for the connect event of every client, and returns them.
func connected(clients ...*nodeClient) []*nodeClient {
	for _, c := range clients {
		c.tb.Helper()
		c.mustConnect()
	}
	return clients
}
