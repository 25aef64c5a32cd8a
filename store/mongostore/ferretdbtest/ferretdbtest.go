// Package ferretdbtest runs FerretDB v1, an open-source server that speaks
// the MongoDB wire protocol, inside the test process, with its SQLite
// back end in a temporary directory. Tests of store/mongostore get a real
// MongoDB-wire server without Docker or a MongoDB install.
//
// Only _test.go files may import this package: it links all of FerretDB
// (SQLite, PostgreSQL driver, metrics), which must stay out of the server
// binary. FerretDB v1 differs from MongoDB in ways tests have to allow for:
// no transactions; updates are read-modify-write without a check, so
// concurrent updates of one document can lose one; a duplicate key caused
// by an update, or met while building a unique index, is an internal error
// rather than E11000; findAndModify takes no projection; distinct rejects
// maxTimeMS.
package ferretdbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// LogEnv names an environment variable: when it is set to a non-empty
// value, FerretDB logs to stderr at debug level. By default its log is
// discarded, because it is chatty and tests must not log after they end.
const LogEnv = "FERRETDB_TEST_LOG"

// newMu serialises ferretdb.New: it sets a package-level variable of
// FerretDB's, which the race detector reports when two tests start servers
// at once.
var newMu sync.Mutex

// Server is one embedded FerretDB instance. It can be stopped and started
// again on the same address with the same data, to test how clients live
// through an outage. Its methods are safe for concurrent use.
type Server struct {
	dir  string // SQLite data directory
	addr string // host:port, fixed by the first start

	mu      sync.Mutex
	uri     string
	cancel  context.CancelFunc // nil while stopped
	stopped chan struct{}      // closed when Run has returned
}

// New starts FerretDB on 127.0.0.1 (a free port) with its SQLite files in
// dir, which must exist. Call Stop when done.
func New(dir string) (*Server, error) {
	s := &Server{dir: dir, addr: "127.0.0.1:0"}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

// StartServer starts FerretDB in a temporary directory for the test and
// stops it when the test ends.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(tb.TempDir())
	if err != nil {
		tb.Fatalf("ferretdbtest: %v", err)
	}
	// Registered after TempDir's cleanup, so it runs first: the SQLite
	// files are closed before the directory is removed.
	tb.Cleanup(s.Stop)
	return s
}

// Start starts FerretDB for the test and returns its MongoDB URI and a
// function that stops it (also called when the test ends; calling it twice
// is harmless).
func Start(tb testing.TB) (uri string, stop func()) {
	tb.Helper()
	s := StartServer(tb)
	return s.URI(), s.Stop
}

// URI returns the MongoDB connection string, without a database name. It
// stays the same across Stop and Restart.
func (s *Server) URI() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uri
}

// Addr returns the host:port FerretDB listens on.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stop shuts FerretDB down and waits until it has closed its listener, every
// client connection and the SQLite files. FerretDB gives connected clients
// up to 3 seconds to leave first, so Stop can take that long; once it
// returns, the server is really gone. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.stopped
	s.cancel, s.stopped = nil, nil
}

// Restart starts a stopped server again on the same address with the same
// data directory. Restarting a running server does nothing.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return nil
	}

	// The port was free a moment ago, but after a stop the kernel may
	// briefly refuse it; retry for a little while before giving up.
	var f *ferretdb.FerretDB
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		f, err = newFerretDB(s.dir, s.addr)
		if err == nil || s.addr == "127.0.0.1:0" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("start FerretDB on %s with data in %s: %w", s.addr, s.dir, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = f.Run(ctx) // always nil; it returns once ctx is done
	}()
	// MongoDBURI waits until the listener is up, which New has done already.
	uri := f.MongoDBURI()
	host, err := hostOf(uri)
	if err != nil {
		cancel()
		<-stopped
		return err
	}
	if err := waitAccepting(host, 5*time.Second); err != nil {
		cancel()
		<-stopped
		return err
	}
	s.uri, s.addr, s.cancel, s.stopped = uri, host, cancel, stopped
	return nil
}

// newFerretDB builds one FerretDB instance; it starts listening at once.
// SQLite runs with synchronous=OFF: test data need not survive a power cut,
// and without a sync per commit writes are about twice as fast. A clean
// Stop still leaves every write on disk for Restart.
func newFerretDB(dir, addr string) (*ferretdb.FerretDB, error) {
	newMu.Lock()
	defer newMu.Unlock()
	return ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger(),
		Handler:   "sqlite",
		SQLiteURL: "file:" + strings.TrimSuffix(dir, "/") + "/?_pragma=synchronous(OFF)",
	})
}

func logger() *slog.Logger {
	if os.Getenv(LogEnv) != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// hostOf returns the host:port of a mongodb:// URI as FerretDB builds it.
func hostOf(uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, "mongodb://")
	if !ok {
		return "", fmt.Errorf("unexpected FerretDB URI %q", uri)
	}
	host, _, _ := strings.Cut(rest, "/")
	return host, nil
}

// waitAccepting dials addr until a TCP connection succeeds, so that callers
// never race the accept loop started by Run.
func waitAccepting(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("FerretDB on %s does not accept connections", addr), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ServerForTests returns the server a test binary should use and how to
// release it: MONGODB_URI (without its database) when that is set, a real
// MongoDB say, else a FerretDB started in a temporary directory. The URI
// names no database; each test makes its own (DBName, WithDatabase).
func ServerForTests() (uri string, stop func(), err error) {
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		return withoutDatabase(uri), func() {}, nil
	}
	dir, err := os.MkdirTemp("", "ferretdb-")
	if err != nil {
		return "", nil, err
	}
	srv, err := New(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	return srv.URI(), func() { srv.Stop(); _ = os.RemoveAll(dir) }, nil
}

// withoutDatabase removes the database from a MongoDB URI, so that each
// test can choose its own. A database in the path is also the default
// authentication database, so it moves to authSource then.
func withoutDatabase(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri
	}
	rest, query, _ := strings.Cut(rest, "?")
	hosts, db, _ := strings.Cut(rest, "/")
	q, err := url.ParseQuery(query)
	if err != nil {
		return uri
	}
	if db != "" && strings.Contains(hosts, "@") && !q.Has("authSource") {
		q.Set("authSource", db)
	}
	out := scheme + "://" + hosts + "/"
	if len(q) > 0 {
		out += "?" + q.Encode()
	}
	return out
}

// WithDatabase puts db into the path of a URI that has none.
func WithDatabase(uri, db string) string {
	base, query, hasQuery := strings.Cut(uri, "?")
	out := strings.TrimSuffix(base, "/") + "/" + db
	if hasQuery {
		out += "?" + query
	}
	return out
}

var unsafeDBChars = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// DBName returns a fresh database name for the test, readable in a server's
// list and valid for FerretDB (letters, digits, _ and -, 63 at most).
func DBName(tb testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := unsafeDBChars.ReplaceAllString(tb.Name(), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return "t_" + name + "_" + hex.EncodeToString(b)
}
