package mongostore_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"feedrt/store"
	"feedrt/store/mongostore"
	"feedrt/store/mongostore/ferretdbtest"
	"feedrt/store/storetest"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestOutage stops the database under a running store: calls must fail
// quickly with store.ErrUnavailable (so the HTTP layer answers 503), and
// once the database is back on the same address the same Store value must
// work again, with the data intact. It always runs on a FerretDB of its
// own, even when MONGODB_URI is set, because it needs to stop the server.
func TestOutage(t *testing.T) {
	srv := ferretdbtest.StartServer(t)
	noLeaks := storetest.LeakCheck(t)

	const (
		callTimeout = 2 * time.Second
		selection   = 500 * time.Millisecond
		// Each failing call must end within its call timeout, plus slack
		// for a loaded CI machine and the race detector.
		bound = callTimeout + 1500*time.Millisecond
	)
	s, err := mongostore.Open(t.Context(), srv.URI(), "outage",
		mongostore.WithCallTimeout(callTimeout), mongostore.WithServerSelectionTimeout(selection))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	u := storetest.MustCreateUser(t, s, "outage@example.com", "Otto")
	p := storetest.MustCreatePost(t, s, u.ID, "Before")

	srv.Stop()

	calls := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"Ping", s.Ping},
		{"UserByID", func(ctx context.Context) error { _, err := s.UserByID(ctx, u.ID); return err }},
		{"UserByEmail", func(ctx context.Context) error { _, err := s.UserByEmail(ctx, u.Email); return err }},
		{"ListPosts", func(ctx context.Context) error { _, _, err := s.ListPosts(ctx, 0, 2); return err }},
		{"PostByID", func(ctx context.Context) error { _, err := s.PostByID(ctx, p.ID); return err }},
		{"CreateUser", func(ctx context.Context) error {
			return s.CreateUser(ctx, &store.User{Email: "new@example.com", Password: "h", Name: "New"})
		}},
		{"UpdateUserStatus", func(ctx context.Context) error { return s.UpdateUserStatus(ctx, u.ID, "away") }},
		{"CreatePost", func(ctx context.Context) error {
			return s.CreatePost(ctx, &store.Post{Title: "During", Content: "c", ImageURL: "images/d.png",
				Creator: store.Creator{ID: u.ID}})
		}},
		{"UpdatePost", func(ctx context.Context) error {
			_, err := s.UpdatePost(ctx, &store.Post{ID: p.ID, Title: "x", Content: "y", ImageURL: "images/z.png"})
			return err
		}},
		{"DeletePost", func(ctx context.Context) error { _, err := s.DeletePost(ctx, p.ID); return err }},
	}
	for _, c := range calls {
		start := time.Now()
		err := c.fn(t.Context())
		took := time.Since(start)
		t.Logf("%s while down: %v after %v", c.name, err, took.Round(time.Millisecond))
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while down: error = %v, want ErrUnavailable", c.name, err)
		}
		if errors.Is(err, context.Canceled) {
			t.Errorf("%s while down: error = %v wraps context.Canceled, but nobody cancelled", c.name, err)
		}
		if took > bound {
			t.Errorf("%s while down took %v, want at most %v", c.name, took, bound)
		}
	}

	// The caller's own deadline and cancellation are honoured, and tell
	// apart: a missed deadline is also ErrUnavailable, a cancel is not.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	start := time.Now()
	_, err = s.UserByID(ctx, u.ID)
	cancel()
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, store.ErrUnavailable) || took > time.Second {
		t.Errorf("UserByID with a 300ms deadline while down: error = %v after %v, want DeadlineExceeded and ErrUnavailable", err, took)
	}
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	_, _, err = s.ListPosts(ctx, 0, 2)
	if took := time.Since(start); !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable) || took > time.Second {
		t.Errorf("ListPosts cancelled while down: error = %v after %v, want context.Canceled only", err, took)
	}

	if err := srv.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	// The driver finds the server again by itself; no new Store.
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := s.Ping(t.Context())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ping still failing 15s after the restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // polling the condition
	}
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil || got.Email != u.Email || len(got.Posts) != 1 || got.Posts[0] != p.ID {
		t.Errorf("UserByID after the restart = %+v, %v; want the user from before", got, err)
	}
	after := storetest.MustCreatePost(t, s, u.ID, "After")
	posts, total, err := s.ListPosts(t.Context(), 0, 10)
	if err != nil || total != 2 || len(posts) != 2 || posts[0].ID != after.ID || posts[1].ID != p.ID {
		t.Errorf("ListPosts after the restart = %d posts, total %d, %v; want After, Before "+
			"(nothing written while down)", len(posts), total, err)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The driver's monitors and pools are gone after Close.
	noLeaks()
}

// TestPausedServer: a database that stops answering without closing its
// connections (a stopped process, a stalled host) makes every call fail
// with store.ErrUnavailable within its call timeout, however the driver
// reports it (a timeout, a connection pool it cleared because another
// call failed, ...), even with calls queued for a small pool; once it
// answers again the same store works again.
func TestPausedServer(t *testing.T) {
	srv := ferretdbtest.StartServer(t)
	proxy := storetest.StartProxy(t, srv.Addr())
	const callTimeout = time.Second
	s, err := mongostore.Open(t.Context(), "mongodb://"+proxy.Addr()+"/?maxPoolSize=2", "paused",
		mongostore.WithCallTimeout(callTimeout), mongostore.WithServerSelectionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	u := storetest.MustCreateUser(t, s, "paused@example.com", "Paula")

	proxy.Pause()
	for round := range 3 { // the first calls time out; later ones meet a cleared pool
		var wg sync.WaitGroup
		errs := make([]error, 12)
		for i := range errs {
			wg.Go(func() {
				if i%2 == 0 {
					_, errs[i] = s.UserByID(t.Context(), u.ID)
				} else {
					errs[i] = s.UpdateUserStatus(t.Context(), u.ID, "paused")
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("round %d, call %d while paused: %v, want ErrUnavailable", round, i, err)
			}
		}
	}

	proxy.Resume()
	storetest.WaitFor(t, "the store answering again", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
		defer cancel()
		return s.Ping(ctx) == nil
	})
	if got, err := s.UserByID(t.Context(), u.ID); err != nil || got.Email != u.Email {
		t.Errorf("UserByID after the pause: %+v, %v", got, err)
	}
}
