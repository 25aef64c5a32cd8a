package mongostore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"feedrt/store"
	"feedrt/store/mongostore"
	"feedrt/store/storetest"
)

// TestErrorTranslation covers driver errors an outage test cannot easily
// provoke, such as a replica set member stepping down.
func TestErrorTranslation(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel2 := context.WithTimeout(live, 0)
	defer cancel2()
	netErr := mongo.CommandError{Code: 0, Labels: []string{"NetworkError"}, Message: "connection reset"}

	for _, tc := range []struct {
		name  string
		outer context.Context
		err   error
		want  []error // each must match with errors.Is
		never []error // none may match
	}{
		{"no document", live, mongo.ErrNoDocuments, []error{store.ErrNotFound}, []error{store.ErrUnavailable}},
		{"duplicate key", live, mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000"}}},
			[]error{store.ErrConflict}, []error{store.ErrUnavailable}},
		{"duplicate key beats a late cancel", cancelled, mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000}}},
			[]error{store.ErrConflict}, []error{context.Canceled}},
		{"shutting down", live, mongo.CommandError{Code: 91, Name: "ShutdownInProgress"}, []error{store.ErrUnavailable}, nil},
		{"not primary", live, mongo.CommandError{Code: 10107, Name: "NotWritablePrimary"}, []error{store.ErrUnavailable}, nil},
		{"network", live, netErr, []error{store.ErrUnavailable}, []error{context.Canceled}},
		{"own timeout", live, fmt.Errorf("server selection error: %w", context.DeadlineExceeded), []error{store.ErrUnavailable}, nil},
		{"client closed", live, mongo.ErrClientDisconnected, []error{store.ErrUnavailable}, nil},
		{"caller cancelled", cancelled, netErr, []error{context.Canceled}, []error{store.ErrUnavailable}},
		{"caller deadline", expired, netErr, []error{context.DeadlineExceeded, store.ErrUnavailable}, nil},
		{"refused command", live, mongo.CommandError{Code: 2, Name: "BadValue"}, nil,
			[]error{store.ErrUnavailable, store.ErrNotFound, store.ErrConflict}},
	} {
		got := mongostore.Translate(tc.outer, tc.err)
		for _, w := range tc.want {
			if !errors.Is(got, w) {
				t.Errorf("%s: %v does not wrap %v", tc.name, got, w)
			}
		}
		for _, n := range tc.never {
			if errors.Is(got, n) {
				t.Errorf("%s: %v wraps %v", tc.name, got, n)
			}
		}
	}
}

// TestUndoCreatePost checks the clean-up that runs when CreatePost fails
// after its insert: the post and its id in the creator's posts go, and
// running it again (or when only the insert happened) is harmless.
func TestUndoCreatePost(t *testing.T) {
	ctx := t.Context()
	s, db := mustOpen(t)
	u := storetest.MustCreateUser(t, s, "undo@example.com", "Una")
	keep := storetest.MustCreatePost(t, s, u.ID, "Keep")
	undone := storetest.MustCreatePost(t, s, u.ID, "Undone")

	for range 2 {
		mongostore.UndoCreatePost(ctx, s, undone.ID, u.ID)
	}
	if _, err := s.PostByID(ctx, undone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PostByID of the undone post: error = %v, want ErrNotFound", err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || len(got.Posts) != 1 || got.Posts[0] != keep.ID {
		t.Errorf("user after undo = %+v, %v; want only %s in Posts", got, err, keep.ID.Hex())
	}

	// Only the insert happened: the post goes, the user is left alone.
	orphan := store.NewID()
	if _, err := db.Collection("posts").InsertOne(ctx, bson.D{{Key: "_id", Value: bson.ObjectID(orphan)}, {Key: "creator", Value: bson.ObjectID(u.ID)}}); err != nil {
		t.Fatal(err)
	}
	before := rawDoc(t, db.Collection("users"), u.ID)
	mongostore.UndoCreatePost(ctx, s, orphan, u.ID)
	if _, total, err := s.ListPosts(ctx, 0, 10); err != nil || total != 1 {
		t.Errorf("ListPosts after undoing an orphan: total %d, %v; want 1", total, err)
	}
	if after := rawDoc(t, db.Collection("users"), u.ID); !bytesEqual(before, after) {
		t.Errorf("undo of a post not in the user's list changed the user:\n%v\n%v", before, after)
	}
}

func bytesEqual(a, b bson.Raw) bool { return string(a) == string(b) }
