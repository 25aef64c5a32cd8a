package mongostore

import (
	"context"

	"feedrt/store"
)

// userLocks serialises this store's updates of any one user document.
//
// MongoDB applies each update atomically, but FerretDB v1 does not: it
// reads the document, changes it and writes the whole document back with
// no check that it is unchanged, so two concurrent updates of one user (two
// CreatePost pushes, or a push and a status change) can lose one of them.
// Holding a per-user lock around every update of a user document closes
// that gap for one process; against MongoDB the lock is merely redundant
// and held for one round trip. Several processes writing one FerretDB can
// still lose updates; MongoDB has no such problem.
//
// The locks are striped: a fixed array indexed by the id, so no map grows
// with the number of users. Each is a one-slot channel, so waiting for one
// honours the caller's context.
type userLocks [64]chan struct{}

func newUserLocks() *userLocks {
	var l userLocks
	for i := range l {
		l[i] = make(chan struct{}, 1)
	}
	return &l
}

// lock takes the lock of user id, or returns ctx's error if ctx ends first.
// The returned function releases it.
func (l *userLocks) lock(ctx context.Context, id store.ID) (unlock func(), err error) {
	// The last bytes of an ObjectID are a counter, so they spread ids
	// evenly over the stripes.
	ch := l[(int(id[10])<<8|int(id[11]))%len(l)]
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
