package mongostore

import (
	"context"

	"feedrt/store"
)

// Internals for the external tests of this package.

// UndoCreatePost exposes the clean-up of a failed CreatePost, whose failure
// points cannot be reached from outside without a fault injector.
func UndoCreatePost(ctx context.Context, s *Store, post, creator store.ID) {
	s.undoCreatePost(ctx, post, creator)
}

// Translate exposes the error translation of an open store.
func Translate(outer context.Context, err error) error { return (&Store{}).fail(outer, "test", err) }
