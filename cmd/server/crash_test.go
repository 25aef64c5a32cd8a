package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"feedrt/server/servertest"
	"feedrt/store"
	"feedrt/store/boltstore"
	"feedrt/store/storetest"
)

// TestCrashLeavesNoOrphanImages: kill -9 in the middle of a burst of
// creates leaves image files whose post was never stored. After a restart
// the server's sweep removes them once they are older than
// IMAGE_SWEEP_AGE, and keeps every image a post references (one stored
// by the Node app included), a file too young to judge, and what is not a
// plain image file.
func TestCrashLeavesNoOrphanImages(t *testing.T) {
	bin := servertest.BuildServer(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	images := filepath.Join(dataDir, "images")

	// Crash mid-burst until a crash has left orphans (most do: a create
	// waiting for the store's write lock has its file on disk already).
	var crashOrphans []string
	for attempt := 1; attempt <= 5 && len(crashOrphans) == 0; attempt++ {
		p := startServer(t, bin, dataDir)
		token := p.signupAndLogin(fmt.Sprintf("crash%d@example.com", attempt))
		created := p.burstThenKill(token, 20)
		crashOrphans = orphans(t, dataDir)
		t.Logf("crash %d: %d posts created in the burst, %d orphan files left", attempt, created, len(crashOrphans))
	}
	if len(crashOrphans) == 0 {
		t.Log("no crash left an orphan; the planted ones below still test the sweep")
	}

	// While the process is down: a post the Node app stored, its file, a
	// file the Node app left without a post, a fresh orphan, a hidden file.
	st, err := boltstore.Open(filepath.Join(dataDir, "feed.db"))
	if err != nil {
		t.Fatal(err)
	}
	owner, err := st.UserByEmail(t.Context(), "crash1@example.com")
	if err != nil {
		t.Fatal(err)
	}
	nodeImage := "2019-05-01T10:00:00.000Z-my cat.png"
	node := store.Post{Title: "From Node", Content: "Old post", ImageURL: "images/" + nodeImage, Creator: store.Creator{ID: owner.ID}}
	if err := st.CreatePost(t.Context(), &node); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{nodeImage, "2019-05-01T10:00:01.000Z-gone.png", ".hidden.png", "fresh.png"} {
		if err := os.WriteFile(filepath.Join(images, name), pngFile(), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	wantGone := append(slices.Clone(crashOrphans), "2019-05-01T10:00:01.000Z-gone.png")

	// Everything but fresh.png is two hours old: past the one-hour age.
	old := time.Now().Add(-2 * time.Hour)
	entries, err := os.ReadDir(images)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "fresh.png" {
			if err := os.Chtimes(filepath.Join(images, e.Name()), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}

	p := startServer(t, bin, dataDir)
	deadline := time.Now().Add(20 * time.Second)
	sweepLine := regexp.MustCompile(`msg="image sweep" removed=(\d+)`)
	var m []string
	for m = sweepLine.FindStringSubmatch(p.Log.String()); m == nil; m = sweepLine.FindStringSubmatch(p.Log.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no sweep logged after the restart; log:\n%s", p.Log.String())
		}
		time.Sleep(10 * time.Millisecond) // polling the condition: the sweep's report
	}
	if want := fmt.Sprint(len(wantGone)); m[1] != want {
		t.Errorf("sweep logged removed=%s, want %s", m[1], want)
	}
	for _, name := range wantGone {
		if _, err := os.Stat(filepath.Join(images, name)); !os.IsNotExist(err) {
			t.Errorf("orphan %s still there (stat: %v)", name, err)
		}
	}
	for _, name := range []string{"fresh.png", ".hidden.png"} {
		if _, err := os.Stat(filepath.Join(images, name)); err != nil {
			t.Errorf("%s was removed: %v", name, err)
		}
	}

	// Every post's image still serves.
	token := p.login("crash1@example.com")
	// Five crashes without an orphan leave over 100 posts: more than a
	// page (POSTS_PER_PAGE is at most 100).
	type listed struct {
		ImageURL string `json:"imageUrl"`
	}
	var posts []listed
	total := 0
	for page := 1; page == 1 || len(posts) < total; page++ {
		var list struct {
			Posts      []listed `json:"posts"`
			TotalItems int      `json:"totalItems"`
		}
		p.getJSON(fmt.Sprintf("/feed/posts?page=%d", page), token, &list)
		if len(list.Posts) == 0 {
			break
		}
		posts, total = append(posts, list.Posts...), list.TotalItems
	}
	if len(posts) != total || total < 2 {
		t.Fatalf("listed %d of %d posts", len(posts), total)
	}
	for _, post := range posts {
		resp, err := http.Get(p.URL + "/" + (&url.URL{Path: post.ImageURL}).EscapedPath())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /%s: %d", post.ImageURL, resp.StatusCode)
		}
	}
	p.stop()
	if left := orphans(t, dataDir, "fresh.png", ".hidden.png"); len(left) != 0 {
		t.Errorf("orphans left after the sweep: %q", left)
	}
}

// orphans lists the files of the images folder that no post in the
// stopped server's store references, except those named in except.
func orphans(t *testing.T, dataDir string, except ...string) []string {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(dataDir, "feed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	urls, err := st.ImageURLs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dataDir, "images"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !slices.Contains(urls, "images/"+e.Name()) && !slices.Contains(except, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// signupAndLogin creates a user and returns its token.
func (p *serverProcess) signupAndLogin(email string) string {
	p.t.Helper()
	body := fmt.Sprintf(`{"email":%q,"password":"secret1","name":"Crash"}`, email)
	req, _ := http.NewRequest("PUT", p.URL+"/auth/signup", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		p.t.Fatalf("signup: %d", resp.StatusCode)
	}
	return p.login(email)
}

// login returns a token for email.
func (p *serverProcess) login(email string) string {
	p.t.Helper()
	resp, err := http.Post(p.URL+"/auth/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"email":%q,"password":"secret1"}`, email)))
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		p.t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return out.Token
}

// getJSON decodes the 200 answer of an authenticated GET into v.
func (p *serverProcess) getJSON(path, token string, v any) {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		p.t.Fatal(err)
	}
}

// burstThenKill creates posts from 16 clients at once and kills the
// process with SIGKILL once n creates have succeeded, while the others
// are in flight. It returns how many succeeded.
func (p *serverProcess) burstThenKill(token string, n int64) int64 {
	p.t.Helper()
	var created atomic.Int64
	killed := make(chan struct{})
	var once sync.Once
	kill := func() {
		once.Do(func() {
			_ = p.Cmd.Process.Signal(syscall.SIGKILL)
			close(killed)
		})
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-killed:
					return
				default:
				}
				body, ctype := postForm()
				req, _ := http.NewRequest("POST", p.URL+"/feed/post", body)
				req.Header.Set("Content-Type", ctype)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					return // the process is gone
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					p.t.Errorf("create: %d", resp.StatusCode)
					return
				}
				if created.Add(1) >= n {
					kill()
				}
			}
		})
	}
	wg.Wait()
	kill() // if every client stopped first
	storetest.Receive(p.t, "the process to end after SIGKILL", p.Exited)
	return created.Load()
}

// postForm is a create's multipart body.
func postForm() (io.Reader, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("title", "Burst post")
	_ = w.WriteField("content", "Written just before a crash")
	fw, _ := w.CreateFormFile("image", "photo.png")
	_, _ = fw.Write(pngFile())
	_ = w.Close()
	return &buf, w.FormDataContentType()
}

// pngFile is a small real PNG.
func pngFile() []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4)))
	return buf.Bytes()
}
