package boltstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"feedrt/store"
	"feedrt/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "feed.db"), WithClock(now))
	})
}

// mustOpen opens path and closes the store when the test ends; closing
// twice is harmless, so tests may also close it themselves.
func mustOpen(t *testing.T, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data", "feed.db") // the directory is created too
	clock := storetest.NewClock(time.Now())
	s := mustOpen(t, path, WithClock(clock.Now))
	ann := storetest.MustCreateUser(t, s, "ann@example.com", "Ann")
	ben := storetest.MustCreateUser(t, s, "ben@example.com", "Ben")
	if err := s.UpdateUserStatus(ctx, ben.ID, "Back soon"); err != nil {
		t.Fatal(err)
	}
	var posts []store.Post
	for i, u := range []store.User{ann, ben, ann, ben} {
		if i > 0 {
			clock.Advance(2 * time.Millisecond)
		}
		posts = append(posts, storetest.MustCreatePost(t, s, u.ID, string(rune('a'+i))))
	}
	posts[1].Title = "edited"
	if _, err := s.UpdatePost(ctx, &posts[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeletePost(ctx, posts[2].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkConsistency(t, path, 2, 3)

	s = mustOpen(t, path, WithClock(clock.Now))
	u, err := s.UserByEmail(ctx, "ben@example.com")
	if err != nil {
		t.Fatalf("UserByEmail after restart: %v", err)
	}
	if u.ID != ben.ID || u.Status != "Back soon" || len(u.Posts) != 2 {
		t.Errorf("Ben after restart = %+v", u)
	}
	if u, err := s.UserByID(ctx, ann.ID); err != nil || len(u.Posts) != 1 || u.Posts[0] != posts[0].ID {
		t.Errorf("Ann after restart = %+v, %v; want one post, %s", u, err, posts[0].ID.Hex())
	}
	dup := store.User{Email: "ann@example.com", Name: "Again"}
	if err := s.CreateUser(ctx, &dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate e-mail after restart: error = %v, want ErrConflict", err)
	}

	wantPage := func(skip, limit, total int, want ...store.Post) {
		t.Helper()
		got, n, err := s.ListPosts(ctx, skip, limit)
		if err != nil {
			t.Fatalf("ListPosts(%d, %d): %v", skip, limit, err)
		}
		if n != total || len(got) != len(want) {
			t.Fatalf("ListPosts(%d, %d) = %d posts, total %d; want %d, %d", skip, limit, len(got), n, len(want), total)
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Title != want[i].Title || got[i].Creator != want[i].Creator ||
				!got[i].CreatedAt.Equal(want[i].CreatedAt) || !got[i].UpdatedAt.Equal(want[i].UpdatedAt) {
				t.Errorf("ListPosts(%d, %d)[%d] = %+v, want %+v", skip, limit, i, got[i], want[i])
			}
		}
	}
	wantPage(0, 2, 3, posts[3], posts[1])
	wantPage(2, 2, 3, posts[0])

	// Writes after a restart extend the same index and counter.
	clock.Advance(2 * time.Millisecond)
	fresh := storetest.MustCreatePost(t, s, ann.ID, "fresh")
	wantPage(0, 2, 4, fresh, posts[3])
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkConsistency(t, path, 2, 4)
}

// checkConsistency opens the closed file with bbolt itself and checks that
// the indexes and the counter agree with the data.
func checkConsistency(t *testing.T, path string, users, posts int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		count, err := decodeCount(tx.Bucket(bucketMeta).Get(keyPostCount))
		if err != nil {
			return err
		}
		got := map[string]int{
			"users":        tx.Bucket(bucketUsers).Stats().KeyN,
			"e-mails":      tx.Bucket(bucketUserByEmail).Stats().KeyN,
			"posts":        tx.Bucket(bucketPosts).Stats().KeyN,
			"time index":   tx.Bucket(bucketPostByTime).Stats().KeyN,
			"post counter": int(count),
		}
		want := map[string]int{"users": users, "e-mails": users, "posts": posts, "time index": posts, "post counter": posts}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %d entries, want %d", k, got[k], w)
			}
		}
		return tx.Bucket(bucketPostByTime).ForEach(func(k, _ []byte) error {
			id, err := idFromTimeKey(k)
			if err != nil {
				return err
			}
			if tx.Bucket(bucketPosts).Get(id[:]) == nil {
				t.Errorf("time index entry for missing post %s", id.Hex())
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feed.db")
	first := mustOpen(t, path)

	type result struct {
		s   *Store
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		s, err := Open(path)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		if r.err == nil {
			_ = r.s.Close()
			t.Fatal("second Open of a locked file succeeded")
		}
		if !errors.Is(r.err, store.ErrUnavailable) {
			t.Errorf("second Open: error = %v, want ErrUnavailable", r.err)
		}
		t.Logf("second Open failed after %v: %v", time.Since(start).Round(time.Millisecond), r.err)
	case <-time.After(LockTimeout + 5*time.Second):
		t.Fatal("second Open of a locked file is still waiting")
	}

	// Once the holder lets go, the file opens again.
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mustOpen(t, path)
}

func TestOpenRejectsForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-db")
	if err := os.WriteFile(path, []byte("this is not a bolt database, just some text that is long enough"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path); err == nil {
		_ = s.Close()
		t.Fatal("Open of a text file succeeded")
	}
}
