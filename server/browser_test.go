package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webappDir holds the React feed app that TestBrowser builds and drives.
const webappDir = "../testdata/webapp"

// chromiumPath is Debian's Chromium (apt-get install -y chromium).
const chromiumPath = "/usr/bin/chromium"

// webappClients are the two builds: the same app bundling socket.io-client
// 4.x and 2.x.
var webappClients = []string{"v4", "v2"}

// TestBrowser runs the feed's React front end, unchanged but for the
// server address, in headless Chromium against the real server: the page
// is served from another origin than the API, so every REST call, image
// and Socket.IO handshake is a real cross-origin request. With the page's
// origin allowed, user A creates, edits and deletes a post in one browser
// context while user B's page, in another, follows each change live and
// never reloads. With the origin not allowed, the browser must block the
// data and the socket must not connect.
func TestBrowser(t *testing.T) {
	needChromium(t)
	mustBuildWebapp(t)
	pageOrigin := mustServeWebapp(t)

	for _, tc := range []struct {
		name, client, mode string
		origins            []string
	}{
		{"live/v4", "v4", "live", []string{pageOrigin}},
		{"live/v2", "v2", "live", []string{pageOrigin}},
		// The same port under another host name is another origin.
		{"cors-refused/v4", "v4", "cors-refused", []string{strings.Replace(pageOrigin, "127.0.0.1", "localhost", 1)}},
		{"cors-refused/v2", "v2", "cors-refused", []string{strings.Replace(pageOrigin, "127.0.0.1", "localhost", 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := mustStart(t, func(c *Config) { c.CORS.Origins = tc.origins })
			// The script stops itself after its timeoutMs; 80 s is the backstop.
			runNodeScript(t, webappDir, "e2e/browser.mjs", browserScenario(t, env, pageOrigin, tc.client, tc.mode), 80*time.Second)
		})
	}
}

// browserScenario creates the two users and B's two older posts over
// REST, writes A's upload files, and returns the script's config.
func browserScenario(t *testing.T, env *testEnv, pageOrigin, client, mode string) map[string]any {
	t.Helper()
	a, aID := mustUser(t, env.url, "ada@example.com", "Ada")
	b, bID := mustUser(t, env.url, "bob@example.com", "Bob")
	var seeded []string
	for _, title := range []string{"Older post one", "Older post two"} {
		body := b.mustCreatePost(title, "Seeded over REST.", 9)
		seeded = append([]string{title}, seeded...) // the feed is newest first
		// The feed's order is by createdAt (milliseconds in JSON and
		// MongoDB): the next post must be created in a later millisecond.
		created, err := time.Parse(time.RFC3339Nano, fmt.Sprint(body["post"].(map[string]any)["createdAt"]))
		if err != nil {
			t.Fatal(err)
		}
		for time.Now().Before(created.Add(time.Millisecond)) {
			time.Sleep(time.Millisecond) // polling the condition
		}
	}
	dir := t.TempDir()
	var images []string
	for i, shade := range []uint8{60, 200} {
		p := filepath.Join(dir, fmt.Sprintf("upload%d.png", i+1))
		if err := os.WriteFile(p, pngBytes(t, shade), 0o600); err != nil {
			t.Fatal(err)
		}
		images = append(images, p)
	}
	user := func(c *apiClient, id, email, name string) map[string]string {
		// mustUser signs every user up with the password "secret1".
		return map[string]string{"email": email, "password": "secret1", "name": name, "id": id, "token": c.token}
	}
	return map[string]any{
		"mode":      mode,
		"client":    client,
		"api":       env.url,
		"page":      pageOrigin + "/" + client + "/?api=" + url.QueryEscape(env.url),
		"users":     []any{user(a, aID, "ada@example.com", "Ada"), user(b, bID, "bob@example.com", "Bob")},
		"seeded":    seeded,
		"images":    images,
		"artifacts": artifactsDir("feedrt-browser"),
		"chromium":  chromiumPath,
		"timeoutMs": 60_000,
	}
}

// needChromium skips the test when Debian's Chromium is missing, or
// fails it on CI, which must install it.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; CI must install it (apt-get install -y chromium)", chromiumPath)
		}
		t.Skipf("skipping: %s not found; install Debian's chromium (apt-get install -y chromium) to run the browser tests", chromiumPath)
	}
}

// artifactsDir is where a browser script writes its screenshots:
// $BROWSER_ARTIFACTS, or a fresh folder named after prefix in the temp
// directory.
func artifactsDir(prefix string) string {
	if dir := os.Getenv("BROWSER_ARTIFACTS"); dir != "" {
		return dir
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()))
}

// runNodeScript runs `node script '<cfg as JSON>'` in dir, killed after
// timeout, and fails the test with its output (which names any
// screenshots) if a check failed.
func runNodeScript(t *testing.T, dir, script string, cfg map[string]any, timeout time.Duration) {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, string(raw))
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s (%v, after %v):\n%s", script, err, time.Since(start).Round(time.Millisecond), out)
	}
	t.Logf("%s passed in %v:\n%s", script, time.Since(start).Round(time.Millisecond), out)
}

// mustServeWebapp serves dist-v4 under /v4/ and dist-v2 under /v2/ on a
// port of its own, and returns that origin (http://127.0.0.1:port).
func mustServeWebapp(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	for _, c := range webappClients {
		dir := http.Dir(filepath.Join(webappDir, "dist-"+c))
		mux.Handle("/"+c+"/", http.StripPrefix("/"+c+"/", http.FileServer(dir)))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// mustBuildWebapp installs the app's packages and builds dist-v4 and
// dist-v2 when they are missing or older than their sources, so repeated
// runs cost nothing.
func mustBuildWebapp(t *testing.T) {
	t.Helper()
	lock := filepath.Join(webappDir, "package-lock.json")
	installed := filepath.Join(webappDir, "node_modules", ".package-lock.json")
	if olderThan(t, installed, []string{lock}) {
		npm(t, webappDir, 5*time.Minute, "ci", "--no-audit", "--no-fund")
	}
	sources := []string{lock, filepath.Join(webappDir, "index.html"), filepath.Join(webappDir, "vite.config.js")}
	err := filepath.WalkDir(filepath.Join(webappDir, "src"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			sources = append(sources, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range webappClients {
		if olderThan(t, filepath.Join(webappDir, "dist-"+c, "index.html"), sources) {
			npm(t, webappDir, 2*time.Minute, "exec", "--", "vite", "build", "--mode", c)
		}
	}
}

// olderThan reports whether target is missing or older than any source.
func olderThan(t *testing.T, target string, sources []string) bool {
	t.Helper()
	ti, err := os.Stat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	} else if err != nil {
		t.Fatal(err)
	}
	for _, s := range sources {
		si, err := os.Stat(s)
		if err != nil {
			t.Fatal(err)
		}
		if si.ModTime().After(ti.ModTime()) {
			return true
		}
	}
	return false
}

// npm runs an npm command in dir within timeout.
func npm(t *testing.T, dir string, timeout time.Duration, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	t.Logf("npm %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
}
