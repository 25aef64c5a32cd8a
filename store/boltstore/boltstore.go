// Package boltstore is the embedded implementation of store.Store on a single
// bbolt file. It is the default back end so the server runs with no database
// to install; MongoDB is the choice once several server processes share data,
// because a bolt file can be opened by one process at a time.
//
// Layout of the file (format version 1):
//
//	users            user id (12 bytes)        -> userRecord (JSON)
//	users_by_email   e-mail                    -> user id (12 bytes)
//	posts            post id (12 bytes)        -> postRecord (JSON)
//	posts_by_created createdAt (8) + post id   -> empty
//	meta             "format" -> "1", "post_count" -> uint64 big-endian
//
// Every change that touches more than one bucket happens in one write
// transaction, so the indexes and the counter never disagree with the data.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"feedrt/store"
)

// LockTimeout is how long Open waits for the file lock. bbolt would otherwise
// block forever when another process (say, a server still shutting down) holds
// the file; failing after a short wait gives the operator a clear message.
const LockTimeout = 2 * time.Second

// formatVersion is written to the meta bucket so that a later, incompatible
// layout can refuse an old file instead of misreading it.
const formatVersion = "1"

var (
	bucketUsers       = []byte("users")
	bucketUserByEmail = []byte("users_by_email")
	bucketPosts       = []byte("posts")
	bucketPostByTime  = []byte("posts_by_created")
	bucketMeta        = []byte("meta")

	keyFormat    = []byte("format")
	keyPostCount = []byte("post_count")
)

// Store is a store.Store backed by one bbolt file. bbolt serialises writers
// and lets readers run alongside them, so a Store is safe for concurrent use
// without locks of its own.
type Store struct {
	db    *bolt.DB
	path  string
	clock store.Clock
}

var _ store.Store = (*Store)(nil)

// Option changes a setting of Open.
type Option func(*Store)

// WithClock sets the clock the store reads the time of its writes from
// (CreatedAt, UpdatedAt and the time part of new ids); by default it is
// the wall clock. Tests pass a clock they move themselves.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.clock = now } }

// Open opens the database file at path, creating it (and its directory) if
// needed. If another process holds the file, Open fails after LockTimeout
// with an error wrapping store.ErrUnavailable rather than hanging.
func Open(path string, opts ...Option) (*Store, error) {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("boltstore: create directory for %s: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: open %s: the file is locked by another process (gave up after %s): %w: %w",
			path, LockTimeout, store.ErrUnavailable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if err := db.Update(initBuckets); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// initBuckets creates the buckets of a new file and checks the format of an
// existing one.
func initBuckets(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketUsers, bucketUserByEmail, bucketPosts, bucketPostByTime, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(keyFormat); {
	case v == nil:
		return meta.Put(keyFormat, []byte(formatVersion))
	case string(v) != formatVersion:
		return fmt.Errorf("unsupported file format %q (this build reads %q)", v, formatVersion)
	}
	return nil
}

// Ping reports whether the file is still open: a read transaction is the
// cheapest operation that fails once Close has run.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, func(*bolt.Tx) error { return nil })
}

// Close waits for running transactions and releases the file lock, so that
// another process can open the file. Calling it again is harmless.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read transaction. ctx is checked before starting because
// bbolt transactions cannot be cancelled once begun.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return translate(s.db.View(fn))
}

// viewValue runs fn in a read transaction, as view does, and returns what
// fn read, or the zero T with the error, never a value half filled in.
func viewValue[T any](ctx context.Context, s *Store, fn func(*bolt.Tx) (T, error)) (T, error) {
	var v T
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// update runs fn in a write transaction. ctx is checked again once the writer
// lock is held, because waiting for it behind other writers can take a while
// and a caller that has given up should not have its write applied.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return translate(s.db.Update(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	}))
}

// translate turns bbolt's "closed" error into store.ErrUnavailable so callers
// need not know the driver.
func translate(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return fmt.Errorf("boltstore: %w: %w", store.ErrUnavailable, err)
	}
	return err
}
