package server

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/server/servertest"
	"feedrt/store/storetest"
)

// TestFeedEndToEnd: two official socket.io-client apps (4.x and 2.x)
// watch while a user signs up, logs in, creates, updates and deletes a
// post over HTTP; both receive the three `posts` events, in order, with
// the contract's payloads.
func TestFeedEndToEnd(t *testing.T) { forEachStore(t, feedEndToEnd) }

func feedEndToEnd(t *testing.T, useStore func(*Config)) {
	env := mustStart(t, useStore)
	watchers := servertest.Connected(
		servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4}),
		servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 2}),
	)

	api, userID := mustUser(t, env.url, "Ada@Example.com", "Ada")
	created := api.mustCreatePost("First post", "Hello, feed!", 1)
	post := created["post"].(map[string]any)
	wantCreator := map[string]any{"_id": userID, "name": "Ada"}
	if fmt.Sprint(post["creator"]) != fmt.Sprint(wantCreator) || fmt.Sprint(created["creator"]) != fmt.Sprint(wantCreator) {
		t.Errorf("creator %v / %v, want %v", post["creator"], created["creator"], wantCreator)
	}

	// The image is served where the front end will look for it.
	imgURL := env.url + "/" + post["imageUrl"].(string)
	if res, err := http.Get(imgURL); err != nil || res.StatusCode != 200 {
		t.Errorf("GET %s: %v %v", imgURL, res, err)
	} else {
		res.Body.Close()
	}

	updated := editThenDelete(t, api, post, "First post, edited", "Hello again!")
	checkLifecycle(t, watchers, post, updated)
}

// mustWatchers connects a client of each kind the server must serve:
// socket.io-client 4.x over WebSocket, 4.x over long-polling, and 2.x.
func mustWatchers(t *testing.T, url string) []*servertest.NodeClient {
	t.Helper()
	return servertest.Connected(
		servertest.MustNodeClient(t, map[string]any{"url": url, "version": 4, "transports": []string{"websocket"}}),
		servertest.MustNodeClient(t, map[string]any{"url": url, "version": 4, "transports": []string{"polling"}}),
		servertest.MustNodeClient(t, map[string]any{"url": url, "version": 2}),
	)
}

// editThenDelete updates post (keeping its image) and deletes it through
// api, and returns the updated post.
func editThenDelete(t *testing.T, api *apiClient, post map[string]any, title, content string) map[string]any {
	t.Helper()
	id := post["_id"].(string)
	status, updated := api.form("PUT", "/feed/post/"+id, map[string]string{"title": title, "content": content, "image": post["imageUrl"].(string)}, nil)
	if status != 200 {
		t.Fatalf("update: %d %v", status, updated)
	}
	if status, body := api.call("DELETE", "/feed/post/"+id, nil, ""); status != 200 {
		t.Fatalf("delete: %d %v", status, body)
	}
	return updated["post"].(map[string]any)
}

// checkLifecycle checks that the next three `posts` events of every
// watcher are the create of post, its update to updated, and its delete.
func checkLifecycle(t *testing.T, watchers []*servertest.NodeClient, post, updated map[string]any) {
	t.Helper()
	for i, w := range watchers {
		ev := decodeArg(t, waitEvent(t, w, "posts").Args[0])
		if ev["action"] != "create" || fmt.Sprint(ev["post"]) != fmt.Sprint(post) {
			t.Errorf("watcher %d create event %v, want post %v", i, ev, post)
		}
		ev = decodeArg(t, waitEvent(t, w, "posts").Args[0])
		if ev["action"] != "update" || fmt.Sprint(ev["post"]) != fmt.Sprint(updated) {
			t.Errorf("watcher %d update event %v, want post %v", i, ev, updated)
		}
		ev = decodeArg(t, waitEvent(t, w, "posts").Args[0])
		if fmt.Sprint(ev) != fmt.Sprint(map[string]any{"action": "delete", "post": post["_id"]}) {
			t.Errorf("watcher %d delete event %v", i, ev)
		}
	}
}

// TestFeedRestart: everything written before a restart is there after it.
func TestFeedRestart(t *testing.T) { forEachStore(t, feedRestart) }

func feedRestart(t *testing.T, useStore func(*Config)) {
	dir := t.TempDir()
	secret := strings.Repeat("s", 32)
	edit := func(c *Config) { useStore(c); c.Store.DataDir, c.Auth.JWTSecret = dir, secret }

	env := mustStart(t, edit)
	api, _ := mustUser(t, env.url, "bob@example.com", "Bob")
	var ids []string
	for i := range 5 {
		body := api.mustCreatePost(fmt.Sprintf("Post %d", i), "content", uint8(i))
		ids = append(ids, body["post"].(map[string]any)["_id"].(string))
	}
	_, before := api.call("GET", "/feed/posts?page=1", nil, "")
	env.stop(t)

	env = mustStart(t, edit)
	api.base = env.url
	// The token still works (same secret), the user can log in again.
	status, after := api.call("GET", "/feed/posts?page=1", nil, "")
	if status != 200 || fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("page 1 after restart: %d %v, want %v", status, after, before)
	}
	if after["totalItems"] != float64(5) {
		t.Errorf("totalItems %v, want 5", after["totalItems"])
	}
	for _, id := range ids {
		if status, body := api.call("GET", "/feed/post/"+id, nil, ""); status != 200 {
			t.Errorf("post %s after restart: %d %v", id, status, body)
		}
	}
	if status, _ := (&apiClient{t: t, base: env.url}).json("POST", "/auth/login", map[string]string{"email": "bob@example.com", "password": "secret1"}); status != 200 {
		t.Errorf("login after restart: %d", status)
	}
}

// TestFeedConcurrentCreates: 50 concurrent creates from several users are
// each stored once, and every watching client sees every event once.
func TestFeedConcurrentCreates(t *testing.T) { forEachStore(t, feedConcurrentCreates) }

func feedConcurrentCreates(t *testing.T, useStore func(*Config)) {
	env := mustStart(t, useStore)
	watchers := mustWatchers(t, env.url)
	const users, perUser = 5, 10
	var apis []*apiClient
	for u := range users {
		a, _ := mustUser(t, env.url, fmt.Sprintf("user%d@example.com", u), fmt.Sprintf("User %d", u))
		apis = append(apis, a)
	}
	img := pngBytes(t, 9)
	var mu sync.Mutex
	created := map[string]bool{}
	var wg sync.WaitGroup
	for u := range users {
		for i := range perUser {
			wg.Go(func() {
				status, body := apis[u].form("POST", "/feed/post", map[string]string{"title": fmt.Sprintf("u%d post %d", u, i), "content": "concurrent"}, img)
				if status != 201 {
					t.Errorf("create: %d %v", status, body)
					return
				}
				mu.Lock()
				created[body["post"].(map[string]any)["_id"].(string)] = true
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if len(created) != users*perUser {
		t.Fatalf("%d distinct posts created, want %d", len(created), users*perUser)
	}
	_, page := apis[0].call("GET", "/feed/posts?page=1", nil, "")
	if page["totalItems"] != float64(users*perUser) {
		t.Errorf("totalItems %v, want %d", page["totalItems"], users*perUser)
	}
	for i, w := range watchers {
		seen := map[string]int{}
		for range users * perUser {
			ev := decodeArg(t, waitEvent(t, w, "posts").Args[0])
			id, _ := ev["post"].(map[string]any)["_id"].(string)
			seen[id]++
		}
		for id := range created {
			if seen[id] != 1 {
				t.Errorf("watcher %d saw post %s %d times", i, id, seen[id])
			}
		}
		// Nothing extra trails behind.
		for _, m := range w.Extra(200*time.Millisecond, "event") {
			t.Errorf("watcher %d got an extra event %v", i, m)
		}
	}
}

// TestRecoveryAfterDrop: a client whose connection drops for 2 s and that
// reconnects gets its session back and the `posts` events it missed, as
// with Node's connection state recovery.
func TestRecoveryAfterDrop(t *testing.T) {
	env := mustStart(t, nil)
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "transports": []string{"websocket"}})
	first := c.MustConnect()
	api, _ := mustUser(t, env.url, "carol@example.com", "Carol")
	// Recovery resumes after the last event the client got (its offset),
	// so, as with Node, the client must have received one before the drop.
	api.mustCreatePost("Seen post", "before the drop", 2)
	waitEvent(t, c, "posts")

	mustRecoverMissedPosts(t, env.srv.SocketIO(), api, c, first, 2000)
}

// mustRecoverMissedPosts drops c's connection for ms milliseconds, while
// two posts are created, and checks that c comes back as the session it
// connected as (first) and gets both posts' events.
func mustRecoverMissedPosts(t *testing.T, io *socket.Server, api *apiClient, c *servertest.NodeClient, first servertest.NodeMsg, ms int) {
	t.Helper()
	c.Send(map[string]any{"op": "drop", "ms": ms})
	c.Next(5*time.Second, "disconnect")
	storetest.WaitFor(t, "the server to see the drop", func() bool { return io.Sockets().Sockets().Len() == 0 })
	var titles []string
	for i := range 2 {
		title := fmt.Sprintf("Missed post %d", i)
		api.mustCreatePost(title, "while away", 3)
		titles = append(titles, title)
	}
	again := c.MustConnect()
	if !again.Recovered || again.ID != first.ID {
		t.Errorf("reconnect: recovered=%v id %v (was %v), want the same session back", again.Recovered, again.ID, first.ID)
	}
	for _, title := range titles {
		ev := decodeArg(t, waitEvent(t, c, "posts").Args[0])
		if post, _ := ev["post"].(map[string]any); ev["action"] != "create" || post["title"] != title {
			t.Errorf("missed event %v, want the create of %q", ev, title)
		}
	}
}
