package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"feedrt/store"
	"feedrt/store/boltstore"
)

func TestServeImages(t *testing.T) {
	e := newEnv(t, nil).seed()
	seeded := fileOf(e.posts["alice1"])
	outside := filepath.Join(filepath.Dir(e.images.Dir), "secret.png")
	mustWrite(t, outside, pngBytes(1, 1))
	mustWrite(t, filepath.Join(e.images.Dir, "2019-05-01T10:00:00.000Z-cat.png"), pngBytes(1, 1))
	mustWrite(t, filepath.Join(e.images.Dir, "page.html"), []byte("<script>alert(1)</script>"))
	if err := os.Symlink(outside, filepath.Join(e.images.Dir, "link.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(e.images.Dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, method, url string
		wantStatus        int
		wantType          string
		wantBody          []byte
	}{
		{"uploaded image", "GET", "/images/" + seeded, 200, "image/png", pngBytes(2, 2)},
		{"head", "HEAD", "/images/" + seeded, 200, "image/png", nil},
		{"file stored by the Node app", "GET", "/images/2019-05-01T10:00:00.000Z-cat.png", 200, "image/png", pngBytes(1, 1)},
		{"non-image is never rendered", "GET", "/images/page.html", 200, "application/octet-stream", nil},
		{"missing file", "GET", "/images/nothere.png", 404, "application/json", nil},
		{"directory listing", "GET", "/images/", 404, "application/json", nil},
		{"subdirectory", "GET", "/images/sub", 404, "application/json", nil},
		{"dot dot", "GET", "/images/..", 404, "application/json", nil},
		{"encoded traversal", "GET", "/images/..%2fsecret.png", 404, "application/json", nil},
		{"traversal", "GET", "/images/../secret.png", 404, "application/json", nil},
		{"symlink out of the directory", "GET", "/images/link.png", 404, "application/json", nil},
		{"hidden file", "GET", "/images/.keep", 404, "application/json", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(tc.method, tc.url, "", body{})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.wantType)
			}
			if tc.wantStatus == 200 && w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			if tc.wantBody != nil && !bytes.Equal(w.Body.Bytes(), tc.wantBody) {
				t.Errorf("body of %d bytes differs from the file", w.Body.Len())
			}
			if tc.wantStatus == 404 {
				e.checkJSON(w.Body.Bytes(), `{"message":"Not found.","data":[]}`)
			}
		})
	}
}

func TestImagesRemoveRefusesOtherPaths(t *testing.T) {
	dir := t.TempDir()
	im := Images{Dir: filepath.Join(dir, "images")}
	mustWrite(t, filepath.Join(dir, "keep.png"), pngBytes(1, 1))
	mustWrite(t, filepath.Join(im.Dir, "x.png"), pngBytes(1, 1))
	for _, url := range []string{"images/../keep.png", "../keep.png", "keep.png", "images/", "images/sub/x.png", "/etc/passwd", "images\\..\\keep.png"} {
		if err := im.Remove(url); err == nil {
			t.Errorf("Remove(%q) succeeded", url)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.png")); err != nil {
		t.Errorf("file outside the directory touched: %v", err)
	}
	if err := im.Remove("images/x.png"); err != nil {
		t.Errorf("Remove of an own file: %v", err)
	}
}

// failing makes chosen store calls fail with err, as a database would,
// once armed (after seeding).
type failing struct {
	*boltstore.Store
	err                          error
	list, create, update, delete bool
	armed                        bool
}

func (f *failing) ListPosts(ctx context.Context, skip, limit int) ([]store.Post, int, error) {
	if f.armed && f.list {
		return nil, 0, f.err
	}
	return f.Store.ListPosts(ctx, skip, limit)
}

func (f *failing) CreatePost(ctx context.Context, p *store.Post) error {
	if f.armed && f.create {
		return f.err
	}
	return f.Store.CreatePost(ctx, p)
}

func (f *failing) UpdatePost(ctx context.Context, p *store.Post) (string, error) {
	if f.armed && f.update {
		return "", f.err
	}
	return f.Store.UpdatePost(ctx, p)
}

func (f *failing) DeletePost(ctx context.Context, id store.ID) (string, error) {
	if f.armed && f.delete {
		return "", f.err
	}
	return f.Store.DeletePost(ctx, id)
}

// TestStoreFailures: 5xx answers carry no detail, failed writes leave no
// new file and keep the old one, and nothing is broadcast.
func TestStoreFailures(t *testing.T) {
	internal := errors.New("disk on fire at /var/lib/secret")
	unavailable := `{"message":"Service unavailable, try again later.","data":[]}`
	generic := `{"message":"An internal error occurred.","data":[]}`
	for _, tc := range []struct {
		name       string
		fail       failing
		method     string
		url        string
		body       func(*env) body
		wantStatus int
		want       string
	}{
		{"list internal", failing{err: internal, list: true}, "GET", "/feed/posts", nil, 500, generic},
		{"list unavailable", failing{err: store.ErrUnavailable, list: true}, "GET", "/feed/posts", nil, 503, unavailable},
		{"create", failing{err: store.ErrUnavailable, create: true}, "POST", "/feed/post",
			f(validPost(nil), file("image", "a.png", "image/png", pngBytes(2, 2))), 503, unavailable},
		{"update with new image", failing{err: internal, update: true}, "PUT", "/feed/post/{alice1}",
			f(validPost(nil), file("image", "a.png", "image/png", pngBytes(2, 2))), 500, generic},
		{"delete", failing{err: internal, delete: true}, "DELETE", "/feed/post/{alice1}", nil, 500, generic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl := tc.fail
			e := newEnv(t, func(s *boltstore.Store) interface {
				UserStore
				PostStore
			} {
				fl.Store = s
				return &fl
			}).seed()
			fl.armed = true
			before := e.imageFiles()
			var b body
			if tc.body != nil {
				b = tc.body(e)
			}
			w := e.do(tc.method, e.expand(tc.url), "alice", b)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			e.checkJSON(w.Body.Bytes(), tc.want)
			if after := e.imageFiles(); !slices.Equal(before, after) {
				t.Errorf("images changed: %v -> %v", before, after)
			}
			e.checkEvents("", nil)
		})
	}
}

// TestClosedStore: a store that is gone answers 503 on every route.
func TestClosedStore(t *testing.T) {
	e := newEnv(t, nil).seed()
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		method, url, caller string
		body                body
	}{
		{"PUT", "/auth/signup", "", jsonBody(`{"email":"c@example.com","password":"secret1","name":"C"}`)},
		{"POST", "/auth/login", "", jsonBody(`{"email":"alice@example.com","password":"secret1"}`)},
		{"GET", "/auth/status", "alice", body{}},
		{"GET", "/feed/posts", "alice", body{}},
		{"GET", "/feed/post/" + e.posts["alice1"].ID.Hex(), "alice", body{}},
		{"POST", "/feed/post", "alice", form(validPost(nil), file("image", "a.png", "image/png", pngBytes(2, 2)))},
		{"DELETE", "/feed/post/" + e.posts["alice1"].ID.Hex(), "alice", body{}},
	} {
		w := e.do(r.method, r.url, r.caller, r.body)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s: status %d: %s", r.method, r.url, w.Code, w.Body)
		}
	}
	if n := len(e.imageFiles()); n != 3 {
		t.Errorf("%d image files, want the 3 seeded", n)
	}
	e.checkEvents("", nil)
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentImageEdits: concurrent edits of one post, with new images,
// with the image kept, and a delete at the end, leave exactly the files
// still in use: no orphan, and the post never points at a removed file.
func TestConcurrentImageEdits(t *testing.T) {
	e := newEnv(t, nil).seed()
	post := e.posts["alice1"]
	url := "/feed/post/" + post.ID.Hex()
	others := len(e.imageFiles()) - 1 // bob1's and alice2's images
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			fields := map[string]string{"title": fmt.Sprintf("Edit %d", i), "content": "Edited content"}
			var up *upload
			if i%3 == 0 {
				current, err := e.store.PostByID(context.Background(), post.ID)
				if err != nil {
					t.Error(err)
					return
				}
				fields["image"] = current.ImageURL // keep it (may be stale: 422 then)
			} else {
				up = file("image", "photo.png", "image/png", pngBytes(3, 3))
			}
			w := e.do("PUT", url, "alice", form(fields, up))
			if w.Code != http.StatusOK && w.Code != http.StatusUnprocessableEntity {
				t.Errorf("edit %d: %d %s", i, w.Code, w.Body)
			}
		})
	}
	wg.Wait()
	current, err := e.store.PostByID(t.Context(), post.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := e.imageFiles()
	if len(got) != others+1 || !slices.Contains(got, fileOf(current)) {
		t.Fatalf("image files %v; want the post's %s and %d others", got, fileOf(current), others)
	}
	if w := e.do("DELETE", url, "alice", body{}); w.Code != http.StatusOK {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if got := e.imageFiles(); len(got) != others || slices.Contains(got, fileOf(current)) {
		t.Errorf("after delete, image files %v; want %d others", got, others)
	}
	// The observer saw every file written and removed: what it counts
	// still stored is what is on disk.
	stored, removed, storedBytes, removedBytes := e.imageCount.totals()
	if onDisk := int64(len(e.imageFiles())); stored-removed != onDisk {
		t.Errorf("observer: %d stored - %d removed, %d files on disk", stored, removed, onDisk)
	}
	if size := int64(len(pngBytes(2, 2))); storedBytes-removedBytes != int64(others)*size {
		t.Errorf("observer: %d bytes stored - %d removed, want %d left", storedBytes, removedBytes, int64(others)*size)
	}
}

// imageCounter is an ImageObserver that adds up what it is told.
type imageCounter struct {
	mu                                         sync.Mutex
	stored, removed, storedBytes, removedBytes int64
}

func (c *imageCounter) ImageStored(size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stored++
	c.storedBytes += size
}

func (c *imageCounter) ImageRemoved(size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removed++
	c.removedBytes += size
}

func (c *imageCounter) totals() (stored, removed, storedBytes, removedBytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stored, c.removed, c.storedBytes, c.removedBytes
}

// TestPostsRegisterNeedsPixelCap: a zero pixel cap is a wiring bug (it
// would refuse every upload), so Register refuses it at start.
func TestPostsRegisterNeedsPixelCap(t *testing.T) {
	tokens, err := NewTokens(testSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Register accepted Images.MaxPixels = 0")
		}
	}()
	Posts{Tokens: tokens, Images: Images{Dir: t.TempDir()}}.Register(gin.New())
}
