package server

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
)

// TestRESTOnPollingConnection: a browser sends its REST requests on the
// same keep-alive connections as its long-polling, which the engine moves
// off net/http; every REST answer there is what net/http would give:
// signup, login, a post with its image, the feed, the image itself, and
// the contract's errors (an oversized upload, bad JSON, a body past what
// the poller reads, answered with CORS headers too).
func TestRESTOnPollingConnection(t *testing.T) {
	const origin = "http://app.example.test:3000" // a page of another origin, allowed
	env := mustStart(t, func(c *Config) {
		c.Images.MaxBytes = 64 << 10
		c.CORS.Origins = []string{origin}
	})
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	conns := map[string]bool{}
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conns[i.Conn.LocalAddr().String()] = true }}
	do := func(method, path, contentType string, body io.Reader, header ...string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), method, env.url+path, body)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	if status, body, _ := do("GET", "/socket.io/?EIO=4&transport=polling", "", nil); status != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %d %q", status, body)
	}

	api, _ := mustUserWith(t, env.url, client, "moved@example.com", "Moved")
	img := pngBytes(t, 7)
	status, post := api.form("POST", "/feed/post", map[string]string{"title": "On a moved connection", "content": "served by the poller"}, img)
	if status != 201 {
		t.Fatalf("create: %d %v", status, post)
	}
	status, feed := api.call("GET", "/feed/posts?page=1", nil, "")
	if status != 200 || feed["totalItems"] != float64(1) {
		t.Fatalf("feed: %d %v", status, feed)
	}
	imageURL, _ := post["post"].(map[string]any)["imageUrl"].(string)
	status, got, h := do("GET", "/"+imageURL, "", nil)
	if status != 200 || got != string(img) || h.Get("Content-Type") != "image/png" {
		t.Errorf("image %s: %d, %d bytes (%s), want the %d bytes uploaded", imageURL, status, len(got), h.Get("Content-Type"), len(img))
	}
	big := bytes.Repeat([]byte{0}, 80<<10)
	if status, body := api.form("POST", "/feed/post", map[string]string{"title": "Too big", "content": "an image past the limit"}, big); status != 413 || body["message"] == nil {
		t.Errorf("oversized upload: %d %v, want 413 with a message", status, body)
	}
	if status, body, _ := do("POST", "/auth/login", "application/json", strings.NewReader("{not json")); status != 400 && status != 422 || !strings.Contains(body, `"message"`) {
		t.Errorf("bad JSON: %d %q", status, body)
	}
	// Past what the poller reads of a body: still the contract's 413,
	// with the CORS headers the REST routes give a page of an allowed
	// origin (else a browser keeps the answer from the page).
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("title", "Huge")
	fw, _ := mw.CreateFormFile("image", "huge.png")
	_, _ = fw.Write(bytes.Repeat([]byte{0}, 3<<20))
	_ = mw.Close()
	status, body, h := do("POST", "/feed/post", mw.FormDataContentType(), &form, "Authorization", "Bearer "+api.token, "Origin", origin)
	if status != 413 || !strings.Contains(body, `"message":"Request body too large."`) {
		t.Errorf("huge upload: %d %q, want 413 with the message", status, body)
	}
	if h.Get("Access-Control-Allow-Origin") != origin || h.Get("Vary") != "Origin" {
		t.Errorf("huge upload from %s: Access-Control-Allow-Origin %q, Vary %q; want the origin echoed, as the REST routes do", origin, h.Get("Access-Control-Allow-Origin"), h.Get("Vary"))
	}
	if len(conns) != 1 {
		t.Errorf("the requests used %d connections, want one", len(conns))
	}
}
