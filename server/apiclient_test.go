package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"
)

// apiClient talks to the REST API the way the feed front end does.
type apiClient struct {
	t      testing.TB
	base   string
	token  string
	client *http.Client // nil: http.DefaultClient
}

// call sends a request and decodes the JSON answer into a map.
func (a *apiClient) call(method, path string, body io.Reader, contentType string) (int, map[string]any) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	client := a.client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("%s %s: %d, body %q is not a JSON object", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

func (a *apiClient) json(method, path string, v any) (int, map[string]any) {
	a.t.Helper()
	raw, _ := json.Marshal(v)
	return a.call(method, path, bytes.NewReader(raw), "application/json")
}

// form sends multipart/form-data with the given fields and, if img is
// not nil, an "image" file.
func (a *apiClient) form(method, path string, fields map[string]string, img []byte) (int, map[string]any) {
	a.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if img != nil {
		fw, _ := w.CreateFormFile("image", "photo.png")
		_, _ = fw.Write(img)
	}
	_ = w.Close()
	return a.call(method, path, &buf, w.FormDataContentType())
}

// mustCreatePost creates a post with a PNG of the given shade and returns
// the answer, stopping the test unless the post was created.
func (a *apiClient) mustCreatePost(title, content string, shade uint8) map[string]any {
	a.t.Helper()
	status, body := a.form("POST", "/feed/post", map[string]string{"title": title, "content": content}, pngBytes(a.t, shade))
	if status != 201 {
		a.t.Fatalf("create %q: %d %v", title, status, body)
	}
	return body
}

// mustCreatePostWithin is mustCreatePost, and the test fails (going on)
// if it took longer than d: a write must not stall on a dependency.
func (a *apiClient) mustCreatePostWithin(d time.Duration, title, content string, shade uint8) {
	a.t.Helper()
	start := time.Now()
	a.mustCreatePost(title, content, shade)
	if took := time.Since(start); took > d {
		a.t.Errorf("create %q took %v", title, took)
	}
}

// mustUser signs a user up and logs in; the returned client carries the token.
func mustUser(t testing.TB, base, email, name string) (*apiClient, string) {
	t.Helper()
	return mustUserWith(t, base, nil, email, name)
}

// mustUserWith is mustUser through client (nil: http.DefaultClient).
func mustUserWith(t testing.TB, base string, client *http.Client, email, name string) (*apiClient, string) {
	t.Helper()
	a := &apiClient{t: t, base: base, client: client}
	status, body := a.json("PUT", "/auth/signup", map[string]string{"email": email, "password": "secret1", "name": name})
	if status != 201 {
		t.Fatalf("signup %s: %d %v", email, status, body)
	}
	status, body = a.json("POST", "/auth/login", map[string]string{"email": email, "password": "secret1"})
	if status != 200 {
		t.Fatalf("login %s: %d %v", email, status, body)
	}
	a.token, _ = body["token"].(string)
	userID, _ := body["userId"].(string)
	return a, userID
}
