// Package storetest is the contract every store.Store implementation must
// meet. Implementations call Run from their own tests, so the embedded store
// and the MongoDB store are held to exactly the same behaviour; nothing here
// may depend on one back end. It also holds what tests at every layer share
// (IDTexts, WaitFor, Proxy), since storetest is the one test package all of
// them may import.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"feedrt/store"
)

// Run runs the contract suite. newStore must return a fresh, empty store for
// each call (subtests run in parallel and count posts, so they must not share
// data) that reads the time from now (each subtest has a Clock of its own),
// and should close it in t.Cleanup. Some subtests close their store
// themselves, so Close must tolerate being called twice.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store, *Clock)
	}{
		{"Ping", testPing},
		{"CreateUser", testCreateUser},
		{"CreateUserKeepsGivenStatus", testCreateUserKeepsStatus},
		{"UpdateUserStatus", testUpdateUserStatus},
		{"UnknownUser", testUnknownUser},
		{"DuplicateEmail", testDuplicateEmail},
		{"ConcurrentDuplicateEmail", testConcurrentDuplicateEmail},
		{"CreatePost", testCreatePost},
		{"CreatePostUnknownCreator", testCreatePostUnknownCreator},
		{"UpdatePost", testUpdatePost},
		{"DeletePost", testDeletePost},
		{"UnknownPost", testUnknownPost},
		{"CreatorPosts", testCreatorPosts},
		{"ListPostsEmpty", testListPostsEmpty},
		{"ListPostsPagination", testListPostsPagination},
		{"ConcurrentCreatePost", testConcurrentCreatePost},
		{"ImageURLs", testImageURLs},
		{"Times", testTimes},
		{"CanceledContext", testCanceledContext},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := NewClock(suiteStart)
			tc.fn(t, newStore(t, c.Now), c)
		})
	}
}

func testPing(t *testing.T, s store.Store, _ *Clock) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping on an open store: %v", err)
	}
}

func testCreateUser(t *testing.T, s store.Store, c *Clock) {
	ctx := t.Context()
	before := c.Now()
	u := store.User{Email: "alice@example.com", Password: "$2a$12$hash", Name: "Alice"}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if u.ID.IsZero() {
		t.Error("CreateUser left the ID zero")
	}
	if u.Status != store.DefaultStatus {
		t.Errorf("Status = %q, want the default %q", u.Status, store.DefaultStatus)
	}
	checkTime(t, c, "CreatedAt", u.CreatedAt, before)
	checkTime(t, c, "UpdatedAt", u.UpdatedAt, before)
	if len(u.Posts) != 0 {
		t.Errorf("new user has Posts %v", u.Posts)
	}

	byEmail, err := s.UserByEmail(ctx, "alice@example.com")
	wantRead(t, "UserByEmail", byEmail, err, u, "UserByEmail")
	byID, err := s.UserByID(ctx, u.ID)
	wantRead(t, "UserByID", byID, err, u, "UserByID")
}

func testCreateUserKeepsStatus(t *testing.T, s store.Store, _ *Clock) {
	u := store.User{Email: "bob@example.com", Password: "h", Name: "Bob", Status: "Busy"}
	if err := s.CreateUser(t.Context(), &u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if got.Status != "Busy" {
		t.Errorf("Status = %q, want the given %q", got.Status, "Busy")
	}
}

func testUpdateUserStatus(t *testing.T, s store.Store, _ *Clock) {
	ctx := t.Context()
	u := MustCreateUser(t, s, "carol@example.com", "Carol")
	if err := s.UpdateUserStatus(ctx, u.ID, "Writing Go"); err != nil {
		t.Fatalf("UpdateUserStatus: %v", err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if got.Status != "Writing Go" {
		t.Errorf("Status = %q, want %q", got.Status, "Writing Go")
	}
	if got.Email != u.Email || got.Name != u.Name || got.Password != u.Password || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("UpdateUserStatus changed other fields: got %+v, was %+v", got, u)
	}
	if got.UpdatedAt.Before(u.UpdatedAt) {
		t.Errorf("UpdatedAt went back from %v to %v", u.UpdatedAt, got.UpdatedAt)
	}
}

func testUnknownUser(t *testing.T, s store.Store, _ *Clock) {
	ctx := t.Context()
	MustCreateUser(t, s, "dave@example.com", "Dave")
	if _, err := s.UserByID(ctx, store.NewID()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByEmail(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.UserByEmail(ctx, "DAVE@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByEmail matched another case, error = %v, want ErrNotFound (e-mails are normalised by the caller)", err)
	}
	if err := s.UpdateUserStatus(ctx, store.NewID(), "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUserStatus(unknown) error = %v, want ErrNotFound", err)
	}
}

func testDuplicateEmail(t *testing.T, s store.Store, _ *Clock) {
	first := MustCreateUser(t, s, "erin@example.com", "Erin")
	dup := store.User{Email: "erin@example.com", Password: "other", Name: "Impostor"}
	if err := s.CreateUser(t.Context(), &dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateUser with the same e-mail: error = %v, want ErrConflict", err)
	}
	got, err := s.UserByEmail(t.Context(), "erin@example.com")
	wantRead(t, "UserByEmail", got, err, first, "the duplicate changed the first user")
}

func testConcurrentDuplicateEmail(t *testing.T, s store.Store, _ *Clock) {
	const n = 20
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			u := store.User{Email: "frank@example.com", Password: "h", Name: fmt.Sprint("Frank ", i)}
			errs[i] = s.CreateUser(t.Context(), &u)
		})
	}
	close(start)
	wg.Wait()

	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("CreateUser #%d: error = %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent sign-ups with one e-mail succeeded, want exactly 1", wins, n)
	}
	if _, err := s.UserByEmail(t.Context(), "frank@example.com"); err != nil {
		t.Errorf("UserByEmail after the race: %v", err)
	}
}

func testCanceledContext(t *testing.T, s store.Store, _ *Clock) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	u := store.User{Email: "gina@example.com", Password: "h", Name: "Gina"}
	if err := s.CreateUser(ctx, &u); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateUser with a canceled context: error = %v, want context.Canceled", err)
	}
	if _, err := s.UserByEmail(t.Context(), "gina@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a CreateUser with a canceled context stored the user (UserByEmail error = %v)", err)
	}
	owner := MustCreateUser(t, s, "hank@example.com", "Hank")
	p := store.Post{Title: "Title", Content: "Content", ImageURL: "images/a.png", Creator: store.Creator{ID: owner.ID}}
	if err := s.CreatePost(ctx, &p); !errors.Is(err, context.Canceled) {
		t.Errorf("CreatePost with a canceled context: error = %v, want context.Canceled", err)
	}
	if _, err := s.UserByID(ctx, owner.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("UserByID with a canceled context: error = %v, want context.Canceled", err)
	}
	if _, _, err := s.ListPosts(ctx, 0, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("ListPosts with a canceled context: error = %v, want context.Canceled", err)
	}
	if _, total, err := s.ListPosts(t.Context(), 0, 10); err != nil || total != 0 {
		t.Errorf("after a canceled CreatePost: ListPosts total = %d, error = %v; want 0, nil", total, err)
	}
}

func testClosed(t *testing.T, s store.Store, _ *Clock) {
	u := MustCreateUser(t, s, "ivy@example.com", "Ivy")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping after Close: error = %v, want ErrUnavailable", err)
	}
	if _, err := s.UserByID(ctx, u.ID); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("UserByID after Close: error = %v, want ErrUnavailable", err)
	}
	nu := store.User{Email: "jack@example.com", Password: "h", Name: "Jack"}
	if err := s.CreateUser(ctx, &nu); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("CreateUser after Close: error = %v, want ErrUnavailable", err)
	}
	if _, _, err := s.ListPosts(ctx, 0, 2); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ListPosts after Close: error = %v, want ErrUnavailable", err)
	}
}
