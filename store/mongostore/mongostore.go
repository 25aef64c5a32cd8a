// Package mongostore implements store.Store on MongoDB (or any server that
// speaks its wire protocol) through the official Go driver.
//
// The documents have exactly the shape the Node app's mongoose models give
// them, so the Node and Go back ends can share one database during a
// migration:
//
//	users: {_id, email, password, name, status, posts: [ObjectId], createdAt, updatedAt, __v}
//	posts: {_id, title, imageUrl, content, creator: ObjectId, createdAt, updatedAt, __v}
//
// Times are BSON dates (as mongoose's timestamps option writes them), and
// __v is the mongoose version key: 0 on insert, incremented when the posts
// array of a user changes, as mongoose's save does. Documents written by
// mongoose are read as they are: extra fields are ignored and a missing
// status reads as the schema default.
//
// No transactions are used (FerretDB v1 and standalone servers have none):
// writes that touch both collections are ordered so that a failure half-way
// leaves nothing a client can see, or a state that retrying repairs.
// FerretDB v1 also applies updates non-atomically; see userLocks for how the
// store copes.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"feedrt/store"
)

// Defaults of the Open options. They keep every call bounded while the
// database is unreachable, so the HTTP layer can answer 503 in seconds
// instead of hanging until the client gives up.
const (
	DefaultCallTimeout            = 5 * time.Second
	DefaultServerSelectionTimeout = 3 * time.Second
	DefaultConnectTimeout         = 3 * time.Second
	DefaultPingTimeout            = 2 * time.Second
)

// Collection names, as mongoose derives them from the model names User and Post.
const (
	usersCollection = "users"
	postsCollection = "posts"
)

// Store is a store.Store on one MongoDB database. It is safe for concurrent
// use; the driver keeps a connection pool and reconnects by itself after an
// outage, so one Store lives as long as the process.
type Store struct {
	client *mongo.Client
	users  *mongo.Collection
	posts  *mongo.Collection
	cfg    config
	locks  *userLocks

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// config holds the Open options.
type config struct {
	callTimeout            time.Duration
	serverSelectionTimeout time.Duration // 0: from the URI, else the default
	connectTimeout         time.Duration // 0: from the URI, else the default
	pingTimeout            time.Duration
	log                    *slog.Logger
	clock                  store.Clock
}

// Option changes a setting of Open. Durations that are not positive keep
// the default.
type Option func(*config)

// WithCallTimeout bounds each method call whose context has no deadline of
// its own (default DefaultCallTimeout). A context with a deadline is used as
// it is.
func WithCallTimeout(d time.Duration) Option { return func(c *config) { c.callTimeout = d } }

// WithServerSelectionTimeout sets how long an operation waits for a usable
// server before failing with store.ErrUnavailable. It overrides
// serverSelectionTimeoutMS in the URI; without either it is
// DefaultServerSelectionTimeout (the driver's own default is 30 s).
func WithServerSelectionTimeout(d time.Duration) Option {
	return func(c *config) { c.serverSelectionTimeout = d }
}

// WithConnectTimeout bounds opening one TCP connection (with its TLS and
// handshake). It overrides connectTimeoutMS in the URI; without either it is
// DefaultConnectTimeout.
func WithConnectTimeout(d time.Duration) Option { return func(c *config) { c.connectTimeout = d } }

// WithPingTimeout bounds Ping (default DefaultPingTimeout), which readiness
// probes call and want answered quickly.
func WithPingTimeout(d time.Duration) Option { return func(c *config) { c.pingTimeout = d } }

// WithLogger sets where the store reports what it cannot return to a
// caller, such as a failed clean-up after a failed CreatePost. By default
// nothing is logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the clock the store reads the time of its writes from
// (createdAt, updatedAt and the time part of new ids); by default it is
// the wall clock. Tests pass a clock they move themselves.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// Open connects to the server at uri and prepares the database: the one
// named in the URI path if there is one, else dbName. It creates the
// indexes the store relies on (a unique one on users.email, one on
// posts.createdAt); this is idempotent. Open fails with an error wrapping
// store.ErrUnavailable if no server answers in time, and explains the fix
// if the existing data prevents the unique index.
func Open(ctx context.Context, uri, dbName string, opts ...Option) (*Store, error) {
	cfg := config{callTimeout: DefaultCallTimeout, pingTimeout: DefaultPingTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.callTimeout <= 0 {
		cfg.callTimeout = DefaultCallTimeout
	}
	if cfg.pingTimeout <= 0 {
		cfg.pingTimeout = DefaultPingTimeout
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}

	cs, err := connstring.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("mongostore: bad MongoDB URI: %w", err)
	}
	if cs.Database != "" {
		dbName = cs.Database
	}
	if dbName == "" {
		return nil, errors.New("mongostore: no database name: give one in the URI path or as dbName")
	}

	co := options.Client().ApplyURI(uri).SetAppName("feedrt").SetRegistry(registry())
	switch {
	case cfg.serverSelectionTimeout > 0:
		co.SetServerSelectionTimeout(cfg.serverSelectionTimeout)
	case !cs.ServerSelectionTimeoutSet:
		co.SetServerSelectionTimeout(DefaultServerSelectionTimeout)
	}
	switch {
	case cfg.connectTimeout > 0:
		co.SetConnectTimeout(cfg.connectTimeout)
	case !cs.ConnectTimeoutSet:
		co.SetConnectTimeout(DefaultConnectTimeout)
	}
	if cs.AppName != "" {
		co.SetAppName(cs.AppName)
	}

	client, err := mongo.Connect(co) // no I/O yet: the driver connects in the background
	if err != nil {
		return nil, fmt.Errorf("mongostore: %w", err)
	}
	db := client.Database(dbName)
	s := &Store{
		client: client,
		users:  db.Collection(usersCollection),
		posts:  db.Collection(postsCollection),
		cfg:    cfg,
		locks:  newUserLocks(),
	}
	if err := s.ensureIndexes(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// registry is the driver's default registry, except that it refuses to
// encode a store.ID. The driver would write its 12 bytes as BSON binary
// data, not as the ObjectId mongoose writes, and a filter on such a value
// silently matches nothing; every id must be converted with
// bson.ObjectID(id) on its way out (see records.go).
func registry() *bson.Registry {
	reg := bson.NewRegistry()
	reg.RegisterTypeEncoder(reflect.TypeFor[store.ID](), bson.ValueEncoderFunc(
		func(bson.EncodeContext, bson.ValueWriter, reflect.Value) error {
			return errors.New("mongostore: a store.ID reached the driver unconverted; pass bson.ObjectID(id)")
		}))
	return reg
}

// ensureIndexes creates the indexes if they are missing. The unique index
// on users.email is what makes CreateUser's ErrConflict hold under
// concurrent sign-ups; the Node app's schema had none, so a database it
// filled may hold duplicates, which the error then names.
func (s *Store) ensureIndexes(outer context.Context) error {
	ctx, cancel, err := s.begin(outer, "create indexes")
	if err != nil {
		return err
	}
	defer cancel()

	_, err = s.users.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetUnique(true),
	})
	if err != nil {
		// MongoDB says E11000 here, FerretDB v1 an internal error naming a
		// failed SQLite constraint; asking for the duplicates settles it.
		if n, cerr := s.countDuplicateEmails(ctx); cerr == nil && n > 0 {
			return fmt.Errorf("mongostore: cannot create the unique index on %s.email: "+
				"%d e-mail address(es) belong to more than one user (list them with "+
				"db.users.aggregate([{$group: {_id: \"$email\", n: {$sum: 1}}}, {$match: {n: {$gt: 1}}}])); "+
				"merge or remove the duplicates, then start again: %w", s.users.Name(), n, err)
		}
		if isIndexConflict(err) {
			return fmt.Errorf("mongostore: an index on %s.email already exists with other options "+
				"(it must be unique); drop it and start again: %w", s.users.Name(), err)
		}
		return s.fail(outer, "create the unique index on users.email", err)
	}

	_, err = s.posts.Indexes().CreateOne(ctx, mongo.IndexModel{
		// Serves ListPosts' sort exactly, tie-break included.
		Keys: bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}},
	})
	if err != nil {
		return s.fail(outer, "create the index on posts.createdAt", err)
	}
	return nil
}

// countDuplicateEmails counts the e-mail addresses held by more than one user.
func (s *Store) countDuplicateEmails(ctx context.Context) (int, error) {
	cur, err := s.users.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$" + fEmail}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		{{Key: "$match", Value: bson.D{{Key: "n", Value: bson.D{{Key: "$gt", Value: 1}}}}}},
		{{Key: "$count", Value: "dups"}},
	})
	if err != nil {
		return 0, err
	}
	var res []struct {
		Dups int `bson:"dups"`
	}
	if err := cur.All(ctx, &res); err != nil || len(res) == 0 {
		return 0, err
	}
	return res[0].Dups, nil
}

// Ping asks the server for a round trip, bounded by the ping timeout even
// when ctx allows longer: readiness checks want a quick answer.
func (s *Store) Ping(ctx context.Context) error {
	outer := ctx
	ctx, cancel, err := s.begin(ctx, "ping")
	if err != nil {
		return err
	}
	defer cancel()
	ctx, cancelPing := context.WithTimeout(ctx, s.cfg.pingTimeout)
	defer cancelPing()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return s.fail(outer, "ping", err)
	}
	return nil
}

// Close disconnects from the server, waiting a bounded time for running
// operations. Afterwards every method fails with store.ErrUnavailable.
// Calling it again is harmless and returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.callTimeout)
		defer cancel()
		if err := s.client.Disconnect(ctx); err != nil {
			s.closeErr = fmt.Errorf("mongostore: close: %w", err)
		}
	})
	return s.closeErr
}
