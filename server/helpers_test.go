package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"feedrt/server/servertest"
	"feedrt/store/mongostore/ferretdbtest"
)

var verbose = flag.Bool("serverlog", false, "print the server's log during tests")

// TestMain stops the shared MongoDB-wire test server after the tests.
func TestMain(m *testing.M) {
	flag.Parse()
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
		test(t, func(c *Config) { c.Store.MongoURI = uri })
	})
}

// testEnv is the real server running on 127.0.0.1:0 with a fresh data dir.
type testEnv struct {
	srv  *Server
	url  string // http://127.0.0.1:port
	done chan error
	once sync.Once
}

// mustStart starts a server whose config is the defaults changed by edit,
// with opts, and shuts it down at cleanup (or earlier through stop).
func mustStart(tb testing.TB, edit func(*Config), opts ...Option) *testEnv {
	tb.Helper()
	cfg, err := loadEnv(nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.HTTP.Host, cfg.HTTP.Port = "127.0.0.1", 0
	cfg.Store.DataDir = tb.TempDir()
	cfg.Auth.BcryptCost = 4
	cfg.HTTP.ShutdownTime = 5 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	var w io.Writer = io.Discard
	if *verbose {
		w = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(context.Background(), cfg, log, opts...)
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

// fromEnv is a mustStart edit that configures the server from the
// variables vars alone, as a deployment would, keeping what mustStart
// set for tests (address, data dir, bcrypt cost, shutdown time).
func fromEnv(tb testing.TB, vars map[string]string) func(*Config) {
	return func(c *Config) {
		loaded, err := loadEnv(vars)
		if err != nil {
			tb.Fatalf("config %v: %v", vars, err)
		}
		loaded.HTTP.Host, loaded.HTTP.Port, loaded.Store.DataDir = c.HTTP.Host, c.HTTP.Port, c.Store.DataDir
		loaded.Auth.BcryptCost, loaded.HTTP.ShutdownTime = c.Auth.BcryptCost, c.HTTP.ShutdownTime
		*c = loaded
	}
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

// pngBytes is a small valid PNG.
func pngBytes(t testing.TB, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{shade, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeArg decodes one event argument.
func decodeArg(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("event argument %s: %v", raw, err)
	}
	return m
}

// webSocketURL is the Socket.IO WebSocket URL (protocol 4) of the server
// at httpURL.
func webSocketURL(httpURL string) string {
	return "ws" + strings.TrimPrefix(httpURL, "http") + "/socket.io/?EIO=4&transport=websocket"
}

// openPacket makes an Engine.IO v4 polling handshake at base (the
// Socket.IO path with its slash) and returns its open packet.
func openPacket(t testing.TB, base string) map[string]any {
	t.Helper()
	status, body := servertest.Do(t, "GET", base+"?EIO=4&transport=polling", "")
	if status != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake at %s: %d %q", base, status, body)
	}
	return decodeArg(t, json.RawMessage(body[1:]))
}

// handshake opens an Engine.IO v4 polling session at base, as
// openPacket, and returns its sid.
func handshake(t testing.TB, base string) string {
	t.Helper()
	open := openPacket(t, base)
	sid, _ := open["sid"].(string)
	if sid == "" {
		t.Fatalf("open packet at %s without a sid: %v", base, open)
	}
	return sid
}

// mustRawSocket opens a raw WebSocket to url and connects it to "/", for
// tests that read and write the packets themselves. The read deadline
// Read set last stays until the test sets another.
func mustRawSocket(tb testing.TB, url string) *servertest.WSConn {
	tb.Helper()
	c := servertest.MustOpen(tb, url)
	c.Send("40")
	if _, msg := c.Read(); !strings.HasPrefix(msg, "40{") {
		tb.Fatalf("connect packet %q", msg)
	}
	return c
}

// rawConn is a TCP connection to a test server on which a test writes
// requests byte for byte and reads the answers with net/http's parser.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

// mustRawConn connects to the server at httpURL (http://host:port); the
// connection is closed at cleanup.
func mustRawConn(tb testing.TB, httpURL string) *rawConn {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(httpURL, "http://"), 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &rawConn{conn, bufio.NewReader(conn)}
}

// roundTrip writes req and reads the answer and its body (an answer
// without Content-Length ends when the server closes).
func (c *rawConn) roundTrip(tb testing.TB, req string) (*http.Response, string) {
	tb.Helper()
	if _, err := io.WriteString(c, req); err != nil {
		tb.Fatalf("%s: write %q: %v", c.RemoteAddr(), req, err)
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		tb.Fatalf("%s: answer to %q: %v", c.RemoteAddr(), req, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		tb.Fatalf("%s: body of the answer to %q: %v", c.RemoteAddr(), req, err)
	}
	return res, string(b)
}

// splitAck splits the arguments a server-side event handler got into the
// event's own and the acknowledgement the client asked for (nil if none).
func splitAck(a []any) ([]any, socket.Ack) {
	if n := len(a); n > 0 {
		if ack, ok := a[n-1].(socket.Ack); ok {
			return a[:n-1], ack
		}
	}
	return a, nil
}

// acked is a server-side event handler that calls answer with the
// event's arguments and acknowledges with what it returns, when the
// client asked for an acknowledgement.
func acked(answer func(args []any) []any) func(...any) {
	return func(a ...any) {
		args, ack := splitAck(a)
		if reply := answer(args); ack != nil {
			ack(reply, nil)
		}
	}
}

// ack collects one acknowledgement. Its callback only hands the answer
// over; wait reports it on the test's goroutine, so an answer that comes
// after the test has given up reports to no one.
type ack struct{ answers chan ackAnswer }

type ackAnswer struct {
	args []any
	err  error
}

func newAck() *ack { return &ack{answers: make(chan ackAnswer, 1)} }

// callback is what the emit with an acknowledgement calls.
func (a *ack) callback(args []any, err error) {
	select {
	case a.answers <- ackAnswer{args, err}:
	default: // a second answer: wait has had the first
	}
}

// wait returns the answer's arguments, and fails t if it is an error or
// has not come within timeout.
func (a *ack) wait(t *testing.T, what string, timeout time.Duration) []any {
	t.Helper()
	select {
	case ans := <-a.answers:
		if ans.err != nil {
			t.Errorf("%s: %v (got %v)", what, ans.err, ans.args)
		}
		return ans.args
	case <-time.After(timeout):
		t.Fatalf("%s: no acknowledgement within %v", what, timeout)
		return nil
	}
}
