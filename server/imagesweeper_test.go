package server

import (
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"feedrt/store"
	"feedrt/store/boltstore"
)

// TestImageSweepLoop: the server sweeps at start and then every interval,
// measuring age with its clock, and the loop ends with Shutdown.
func TestImageSweepLoop(t *testing.T) {
	dataDir := t.TempDir()
	images := filepath.Join(dataDir, "images")
	var clock atomic.Int64 // the server's time, Unix nanoseconds
	clock.Store(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }

	// One post, stored before the server starts, keeps its old file.
	st, err := boltstore.Open(filepath.Join(dataDir, "feed.db"))
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{Email: "sam@example.com", Password: "x", Name: "Sam"}
	p := store.Post{Title: "Kept post", Content: "Its image stays", ImageURL: "images/kept.png"}
	if err := st.CreateUser(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	p.Creator.ID = u.ID
	if err := st.CreatePost(t.Context(), &p); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	write := func(name string, age time.Duration) string {
		t.Helper()
		path := filepath.Join(images, name)
		if err := os.MkdirAll(images, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("\x89PNG\r\n\x1a\nnot decoded by the sweep"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now().Add(-age), now().Add(-age)); err != nil {
			t.Fatal(err)
		}
		return path
	}
	kept := write("kept.png", 48*time.Hour)
	orphan := write("orphan.png", 2*time.Hour)
	young := write("young.png", 0)

	env := mustStart(t, func(c *Config) {
		c.Store.DataDir = dataDir
		c.Images.SweepInterval = 20 * time.Millisecond
	}, WithClock(now))
	waitGone(t, orphan)

	clock.Add(int64(2 * time.Hour)) // young.png is now past the age
	waitGone(t, young)
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("referenced image removed: %v", err)
	}
	resp, err := http.Get(env.url + "/images/kept.png")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /images/kept.png: %d", resp.StatusCode)
	}

	env.stop(t)
	select {
	case <-env.srv.sweeper.done:
	default:
		t.Error("the sweep loop still runs after Shutdown")
	}
}

// waitGone polls until path no longer exists, for at most 10 seconds.
func waitGone(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := os.Stat(path)
		if os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still there after 10s (stat: %v)", filepath.Base(path), err)
		}
		time.Sleep(10 * time.Millisecond) // polling the condition
	}
}
