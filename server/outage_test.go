package server

import (
	"fmt"
	"net/http"
	"testing"

	"feedrt/server/servertest"
	"feedrt/store/mongostore/ferretdbtest"
	"feedrt/store/storetest"
)

// TestMongoOutage stops the database under a running server: requests get
// 503 JSON, no `posts` event goes out for a write that did not happen,
// readiness turns 503; once the database is back, the same server serves
// again without a restart, and no goroutines are left behind.
func TestMongoOutage(t *testing.T) {
	db := ferretdbtest.StartServer(t) // its own, to stop it
	uri := ferretdbtest.WithDatabase(db.URI(), ferretdbtest.DBName(t))
	env := mustStart(t, func(c *Config) { c.Store.MongoURI = uri })
	watcher := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}})
	watcher.MustConnect()
	api, _ := mustUser(t, env.url, "dora@example.com", "Dora")
	create := func(title string) (int, map[string]any) {
		return api.form("POST", "/feed/post", map[string]string{"title": title, "content": "outage test"}, pngBytes(t, 4))
	}
	if status, body := create("Before the outage"); status != 201 {
		t.Fatalf("create: %d %v", status, body)
	}
	waitEvent(t, watcher, "posts")
	noLeaks := storetest.LeakCheck(t)

	db.Stop()
	for _, req := range []struct{ method, path string }{{"GET", "/feed/posts"}, {"POST", "/feed/post"}, {"GET", "/auth/status"}} {
		var status int
		var body map[string]any
		if req.method == "POST" {
			status, body = create("During the outage")
		} else {
			status, body = api.call(req.method, req.path, nil, "")
		}
		if status != 503 || body["message"] == nil || fmt.Sprint(body["data"]) != "[]" {
			t.Errorf("%s %s during the outage: %d %v, want 503 {message, data: []}", req.method, req.path, status, body)
		}
	}
	if status, _ := servertest.Do(t, "GET", env.url+"/readyz", ""); status != 503 {
		t.Errorf("/readyz during the outage: %d", status)
	}
	if status, _ := servertest.Do(t, "GET", env.url+"/healthz", ""); status != 200 {
		t.Errorf("/healthz during the outage: %d", status)
	}

	if err := db.Restart(); err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "/readyz 200 after the database came back", func() bool { return readyz(t, env) == 200 })
	if status, body := create("After the outage"); status != 201 {
		t.Fatalf("create after the outage: %d %v", status, body)
	}
	// The next event is the post after the outage: none was sent for the
	// write that failed.
	ev := decodeArg(t, waitEvent(t, watcher, "posts").Args[0])
	if post, _ := ev["post"].(map[string]any); post["title"] != "After the outage" {
		t.Errorf("event after the outage %v", ev)
	}
	_, page := api.call("GET", "/feed/posts", nil, "")
	if page["totalItems"] != float64(2) {
		t.Errorf("totalItems %v, want 2 (the failed create stored nothing)", page["totalItems"])
	}

	closeIdleHTTP()
	noLeaks()
}

// closeIdleHTTP closes the test's idle keep-alive connections, whose
// goroutines (and the server's at the other end) would count as leaks.
func closeIdleHTTP() {
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}
