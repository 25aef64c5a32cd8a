package handlers

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"feedrt/store"
	"feedrt/store/storetest"
)

// sweepAge is the age of the sweeps under test.
const sweepAge = time.Hour

// mustAge sets a file's modification time to now - age.
func mustAge(t *testing.T, path string, now time.Time, age time.Duration) {
	t.Helper()
	if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
		t.Fatal(err)
	}
}

// TestImageSweep: with the real store and files made through the API, a
// sweep removes the old files no post names and nothing else; a young
// orphan goes once the clock has moved past the age.
func TestImageSweep(t *testing.T) {
	e := newEnv(t, nil).seed()
	clock := storetest.NewClock(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC))
	sweep := ImageSweep{Images: e.images, Store: e.store, Age: sweepAge, Now: clock.Now}
	dir := e.images.Dir
	now := clock.Now()

	// Files of the Node app: one a post still shows, one it no longer does.
	nodeKept := "2019-05-01T10:00:00.000Z-my cat.png"
	nodeOrphan := "2019-05-01T10:00:01.000Z-dog.png"
	// A post whose URL has the backslash of a Windows multer path.
	winKept := "2020-01-01T00:00:00.000Z-win.png"
	for _, u := range []string{"images/" + nodeKept, `images\` + winKept} {
		p := store.Post{Title: "From Node", Content: "Old post", ImageURL: u, Creator: store.Creator{ID: e.users["alice"].ID}}
		if err := e.store.CreatePost(t.Context(), &p); err != nil {
			t.Fatal(err)
		}
	}
	oldOrphan := "0123456789abcdef0123456789abcdef.png" // a crash's leftover
	youngOrphan := "fedcba9876543210fedcba9876543210.png"
	for name, age := range map[string]time.Duration{
		nodeKept: 3 * 365 * 24 * time.Hour, nodeOrphan: 3 * 365 * 24 * time.Hour, winKept: 2 * sweepAge,
		oldOrphan: sweepAge + time.Second, youngOrphan: sweepAge - time.Second, ".hidden.png": 2 * sweepAge,
	} {
		mustWrite(t, filepath.Join(dir, name), pngBytes(1, 1))
		mustAge(t, filepath.Join(dir, name), now, age)
	}
	// Not regular files: left alone whatever their age and name.
	outside := filepath.Join(filepath.Dir(dir), "outside.png")
	mustWrite(t, outside, pngBytes(1, 1))
	if err := os.Symlink(outside, filepath.Join(dir, "link.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	seeded := []string{fileOf(e.posts["alice1"]), fileOf(e.posts["bob1"]), fileOf(e.posts["alice2"])}
	for _, name := range seeded { // old, but in use
		mustAge(t, filepath.Join(dir, name), now, 2*sweepAge)
	}

	_, removedBefore, _, removedBytesBefore := e.imageCount.totals()
	res, err := sweep.Sweep(t.Context())
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if res.Removed != 2 || res.Skipped {
		t.Errorf("first sweep %+v, want 2 removed", res)
	}
	if _, removed, _, removedBytes := e.imageCount.totals(); removed-removedBefore != 2 ||
		removedBytes-removedBytesBefore != 2*int64(len(pngBytes(1, 1))) {
		t.Errorf("observer told of %d removals, %d bytes; want the sweep's 2", removed-removedBefore, removedBytes-removedBytesBefore)
	}
	want := append([]string{nodeKept, winKept, youngOrphan, ".hidden.png", "link.png", "sub.png"}, seeded...)
	slices.Sort(want)
	if got := e.imageFiles(); !slices.Equal(got, want) {
		t.Errorf("after the first sweep: files %q, want %q", got, want)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the symlink's target: %v", err)
	}
	for _, name := range append([]string{nodeKept}, seeded...) {
		if w := e.do("GET", "/images/"+url.PathEscape(name), "", body{}); w.Code != 200 {
			t.Errorf("GET /images/%s after the sweep: %d", name, w.Code)
		}
	}

	clock.Advance(2 * time.Second) // the young orphan is now past the age
	if res, err := sweep.Sweep(t.Context()); err != nil || res.Removed != 1 {
		t.Errorf("second sweep %+v, %v; want 1 removed", res, err)
	}
	if slices.Contains(e.imageFiles(), youngOrphan) {
		t.Error("the orphan past the age was kept")
	}
}

// refsFunc adapts a function to ImageRefs.
type refsFunc func(context.Context) ([]string, error)

func (f refsFunc) ImageURLs(ctx context.Context) ([]string, error) { return f(ctx) }

// TestImageSweepRemovesNothingInDoubt: a failing store, a store listing
// no image at all (an empty database next to a full folder: likely the
// wrong one) and a missing directory remove nothing; a sweep that is not
// set up refuses to run.
func TestImageSweepRemovesNothingInDoubt(t *testing.T) {
	clock := storetest.NewClock(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC))
	dir := filepath.Join(t.TempDir(), "images")
	orphan := filepath.Join(dir, "0123456789abcdef0123456789abcdef.png")
	mustWrite(t, orphan, pngBytes(1, 1))
	mustAge(t, orphan, clock.Now(), 2*sweepAge)
	im := Images{Dir: dir}

	down := refsFunc(func(context.Context) ([]string, error) { return nil, store.ErrUnavailable })
	if _, err := (ImageSweep{Images: im, Store: down, Age: sweepAge, Now: clock.Now}).Sweep(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("store down: error %v, want ErrUnavailable", err)
	}
	empty := refsFunc(func(context.Context) ([]string, error) { return []string{}, nil })
	res, err := ImageSweep{Images: im, Store: empty, Age: sweepAge, Now: clock.Now}.Sweep(t.Context())
	if err != nil || !res.Skipped || res.Removed != 0 || res.Candidates != 1 {
		t.Errorf("no image in the store: %+v, %v; want skipped with 1 candidate", res, err)
	}
	if _, err := os.Stat(orphan); err != nil {
		t.Errorf("file removed in doubt: %v", err)
	}

	other := refsFunc(func(context.Context) ([]string, error) { return []string{"images/other.png"}, nil })
	missing := Images{Dir: filepath.Join(t.TempDir(), "none")}
	if res, err := (ImageSweep{Images: missing, Store: other, Age: sweepAge, Now: clock.Now}).Sweep(t.Context()); err != nil || res != (SweepResult{}) {
		t.Errorf("missing directory: %+v, %v; want nothing, nil", res, err)
	}
	for _, bad := range []ImageSweep{
		{Images: im, Store: other, Now: clock.Now},
		{Images: im, Store: other, Age: sweepAge},
		{Images: im, Age: sweepAge, Now: clock.Now},
	} {
		if _, err := bad.Sweep(t.Context()); err == nil {
			t.Errorf("Sweep with %+v ran", bad)
		}
	}
	if _, err := os.Stat(orphan); err != nil {
		t.Errorf("file removed by a sweep that should not run: %v", err)
	}
	// Once the store names something else, the orphan goes.
	if res, err := (ImageSweep{Images: im, Store: other, Age: sweepAge, Now: clock.Now}).Sweep(t.Context()); err != nil || res.Removed != 1 {
		t.Errorf("sweep with the store up: %+v, %v; want 1 removed", res, err)
	}
}
