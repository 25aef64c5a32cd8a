package mongostore_test

import (
	"context"
	"fmt"
	"os"
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
	uri, stop, err := ferretdbtest.ServerForTests()
	if err != nil {
		return 0, err
	}
	defer stop()
	serverURI = uri

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

// useDatabase returns a fresh database name and drops that database when
// the test ends.
func useDatabase(tb testing.TB) string {
	tb.Helper()
	name := ferretdbtest.DBName(tb)
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
