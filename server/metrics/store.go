package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"feedrt/store"
)

// storeOp numbers the measured methods of store.Store (Close is not
// measured: it runs once, at shutdown).
type storeOp int

const (
	opCreateUser storeOp = iota
	opUserByEmail
	opUserByID
	opUpdateUserStatus
	opCreatePost
	opPostByID
	opListPosts
	opUpdatePost
	opDeletePost
	opImageURLs
	opPing
	numStoreOps
)

// storeOpNames are the operation labels: store.Store's method names.
var storeOpNames = [numStoreOps]string{
	"CreateUser", "UserByEmail", "UserByID", "UpdateUserStatus",
	"CreatePost", "PostByID", "ListPosts", "UpdatePost", "DeletePost", "ImageURLs", "Ping",
}

// storeOutcome is how an operation ended, from the store's sentinel errors.
type storeOutcome int

const (
	outcomeOK storeOutcome = iota
	outcomeNotFound
	outcomeConflict
	outcomeUnavailable
	outcomeError
	numStoreOutcomes
)

var storeOutcomeNames = [numStoreOutcomes]string{"ok", "not_found", "conflict", "unavailable", "error"}

// outcomeOf classifies err by the sentinels store.Store promises.
func outcomeOf(err error) storeOutcome {
	switch {
	case err == nil:
		return outcomeOK
	case errors.Is(err, store.ErrNotFound):
		return outcomeNotFound
	case errors.Is(err, store.ErrConflict):
		return outcomeConflict
	case errors.Is(err, store.ErrUnavailable):
		return outcomeUnavailable
	}
	return outcomeError
}

// storeMetrics holds every series of the store, resolved once.
type storeMetrics struct {
	ops      [numStoreOps][numStoreOutcomes]prometheus.Counter
	duration [numStoreOps]prometheus.Observer
}

func newStoreMetrics(reg prometheus.Registerer) *storeMetrics {
	ops := newCounterVec(reg, "store_operations_total",
		"Store operations, by operation (the store.Store method) and outcome (ok, not_found, conflict, unavailable, error).",
		"operation", "outcome")
	// By operation only: an outcome label would multiply the buckets by
	// five for little; the counter has the outcomes.
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "store_operation_duration_seconds",
		Help:      "Time of store operations, whatever their outcome, by operation.",
		Buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"operation"})
	reg.MustRegister(dur)
	s := &storeMetrics{}
	for op, name := range storeOpNames {
		for out, outName := range storeOutcomeNames {
			s.ops[op][out] = ops.WithLabelValues(name, outName)
		}
		s.duration[op] = dur.WithLabelValues(name)
	}
	return s
}

// done records one operation that started at start and ended with err.
func (s *storeMetrics) done(op storeOp, start time.Time, err error) {
	s.duration[op].Observe(time.Since(start).Seconds())
	s.ops[op][outcomeOf(err)].Inc()
}

// Store wraps st so that every operation is counted by outcome and
// timed; without metrics (nil m) it is st itself.
func (m *Metrics) Store(st store.Store) store.Store {
	if m == nil {
		return st
	}
	return &measuredStore{next: st, m: m.store}
}

// measuredStore is a store.Store that measures the one it wraps.
type measuredStore struct {
	next store.Store
	m    *storeMetrics
}

var _ store.Store = (*measuredStore)(nil)

// Each method times the call and files its outcome; the wrapped store's
// results pass through unchanged.

func (s *measuredStore) CreateUser(ctx context.Context, u *store.User) error {
	start := time.Now()
	err := s.next.CreateUser(ctx, u)
	s.m.done(opCreateUser, start, err)
	return err
}

func (s *measuredStore) UserByEmail(ctx context.Context, email string) (store.User, error) {
	start := time.Now()
	u, err := s.next.UserByEmail(ctx, email)
	s.m.done(opUserByEmail, start, err)
	return u, err
}

func (s *measuredStore) UserByID(ctx context.Context, id store.ID) (store.User, error) {
	start := time.Now()
	u, err := s.next.UserByID(ctx, id)
	s.m.done(opUserByID, start, err)
	return u, err
}

func (s *measuredStore) UpdateUserStatus(ctx context.Context, id store.ID, status string) error {
	start := time.Now()
	err := s.next.UpdateUserStatus(ctx, id, status)
	s.m.done(opUpdateUserStatus, start, err)
	return err
}

func (s *measuredStore) CreatePost(ctx context.Context, p *store.Post) error {
	start := time.Now()
	err := s.next.CreatePost(ctx, p)
	s.m.done(opCreatePost, start, err)
	return err
}

func (s *measuredStore) PostByID(ctx context.Context, id store.ID) (store.Post, error) {
	start := time.Now()
	p, err := s.next.PostByID(ctx, id)
	s.m.done(opPostByID, start, err)
	return p, err
}

func (s *measuredStore) ListPosts(ctx context.Context, skip, limit int) ([]store.Post, int, error) {
	start := time.Now()
	posts, total, err := s.next.ListPosts(ctx, skip, limit)
	s.m.done(opListPosts, start, err)
	return posts, total, err
}

func (s *measuredStore) UpdatePost(ctx context.Context, p *store.Post) (string, error) {
	start := time.Now()
	replaced, err := s.next.UpdatePost(ctx, p)
	s.m.done(opUpdatePost, start, err)
	return replaced, err
}

func (s *measuredStore) DeletePost(ctx context.Context, id store.ID) (string, error) {
	start := time.Now()
	imageURL, err := s.next.DeletePost(ctx, id)
	s.m.done(opDeletePost, start, err)
	return imageURL, err
}

func (s *measuredStore) ImageURLs(ctx context.Context) ([]string, error) {
	start := time.Now()
	urls, err := s.next.ImageURLs(ctx)
	s.m.done(opImageURLs, start, err)
	return urls, err
}

func (s *measuredStore) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.next.Ping(ctx)
	s.m.done(opPing, start, err)
	return err
}

// Close closes the wrapped store, unmeasured.
func (s *measuredStore) Close() error { return s.next.Close() }
