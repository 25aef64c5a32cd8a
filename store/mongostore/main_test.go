package mongostore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"feedrt/store/mongostore"
	"feedrt/store/mongostore/ferretdbtest"
)

// serverURI is the server the tests use: MONGODB_URI if set (a real
// MongoDB, say), else a FerretDB started for this test binary. It carries
// no database name; each test makes its own database and drops it.
var serverURI string

// raw is a plain driver client for what the store does not offer: reading
// documents as BSON, writing them as mongoose would, dropping databases.
var raw *mongo.Client

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongostore tests:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		serverURI = withoutDatabase(uri)
	} else {
		dir, err := os.MkdirTemp("", "mongostore-ferretdb-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		srv, err := ferretdbtest.New(dir)
		if err != nil {
			return 0, err
		}
		defer srv.Stop()
		serverURI = srv.URI()
	}

	var err error
	raw, err = mongo.Connect(options.Client().ApplyURI(serverURI).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		return 0, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = raw.Disconnect(ctx)
	}()
	return m.Run(), nil
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

// withDatabase puts db into the path of a URI that has none.
func withDatabase(uri, db string) string {
	base, query, hasQuery := strings.Cut(uri, "?")
	out := strings.TrimSuffix(base, "/") + "/" + db
	if hasQuery {
		out += "?" + query
	}
	return out
}

var unsafeDBChars = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// dbName returns a fresh database name for the test, readable in a server's
// list and valid for FerretDB (letters, digits, _ and -, 63 at most).
func dbName(tb testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := unsafeDBChars.ReplaceAllString(tb.Name(), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return "t_" + name + "_" + hex.EncodeToString(b)
}

// useDatabase returns a fresh database name and drops that database when
// the test ends.
func useDatabase(tb testing.TB) string {
	tb.Helper()
	name := dbName(tb)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := raw.Database(name).Drop(ctx); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	return name
}

// testCallTimeout replaces the default call timeout in tests. FerretDB on
// SQLite under the race detector, on a CI machine busy with other packages,
// has been seen to take over 4 s for each of 50 concurrent CreatePost calls
// (SQLite takes one writer at a time); the suite tests behaviour, not
// speed, and must not fail on the machine's load. TestOutage sets its own.
const testCallTimeout = 30 * time.Second

// mustOpen opens a store on a fresh database of the test server; the store
// is closed, then the database dropped, when the test ends.
func mustOpen(tb testing.TB, opts ...mongostore.Option) (*mongostore.Store, *mongo.Database) {
	tb.Helper()
	name := useDatabase(tb)
	opts = append([]mongostore.Option{mongostore.WithCallTimeout(testCallTimeout)}, opts...)
	s, err := mongostore.Open(tb.Context(), serverURI, name, opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s, raw.Database(name)
}
