package handlers

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"feedrt/store"
)

const (
	notFound     = `{"message":"Could not find post.","data":[]}`
	forbidden    = `{"message":"Not authorized!","data":[]}`
	noImage      = `{"message":"No image provided.","data":[]}`
	noFilePicked = `{"message":"No file picked.","data":[]}`
	tooLarge     = `{"message":"File too large (the limit is 65536 bytes).","data":[]}`
	bodyTooLarge = `{"message":"Request body too large.","data":[]}`
)

var generatedName = regexp.MustCompile(`^[0-9a-f]{32}\.(png|jpg|webp)$`)

func TestFeedListAPI(t *testing.T) {
	page1 := "golden:posts_page1"
	cases := []apiCase{
		{name: "first page", method: "GET", url: "/feed/posts", caller: "bob", wantStatus: 200, want: page1},
		{name: "page 1", method: "GET", url: "/feed/posts?page=1", caller: "bob", wantStatus: 200, want: page1},
		{name: "page 2", method: "GET", url: "/feed/posts?page=2", caller: "bob", wantStatus: 200, want: "golden:posts_page2"},
		{
			name: "page past the end", method: "GET", url: "/feed/posts?page=3", caller: "bob", wantStatus: 200,
			want: `{"message":"Fetched posts successfully.","posts":[],"totalItems":3}`,
		},
		{
			name: "page near MaxInt", method: "GET", url: "/feed/posts?page=9223372036854775807", caller: "bob", wantStatus: 200,
			want: `{"message":"Fetched posts successfully.","posts":[],"totalItems":3}`,
		},
		{name: "page 0", method: "GET", url: "/feed/posts?page=0", caller: "bob", wantStatus: 200, want: page1},
		{name: "page -1", method: "GET", url: "/feed/posts?page=-1", caller: "bob", wantStatus: 200, want: page1},
		{name: "page abc", method: "GET", url: "/feed/posts?page=abc", caller: "bob", wantStatus: 200, want: page1},
		{name: "page 1.5", method: "GET", url: "/feed/posts?page=1.5", caller: "bob", wantStatus: 200, want: page1},
		{name: "page empty", method: "GET", url: "/feed/posts?page=", caller: "bob", wantStatus: 200, want: page1},
		{name: "page overflowing int", method: "GET", url: "/feed/posts?page=99999999999999999999", caller: "bob", wantStatus: 200, want: page1},
	}
	cases = append(cases, unauthorized("GET", "/feed/posts", nil)...)
	runCases(t, cases)
}

func TestFeedCreateAPI(t *testing.T) {
	png := file("image", "photo.png", "image/png", pngBytes(3, 3))
	cases := []apiCase{
		{
			name: "create png", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(map[string]string{"title": "  My first post ", "content": " Hello there, world "}, png),
			wantStatus: 201, want: "golden:post_create", wantEvent: "event_create",
			check: checkNewImage(pngBytes(3, 3), ".png"),
		},
		{
			name: "create jpeg", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "photo.jpeg", "image/jpeg", jpegBytes())),
			wantStatus: 201, wantEvent: "action:create", check: checkNewImage(jpegBytes(), ".jpg"),
		},
		{
			name: "create webp", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "photo.webp", "image/webp", webpBytes())),
			wantStatus: 201, wantEvent: "action:create", check: checkNewImage(webpBytes(), ".webp"),
		},
		{
			name: "create with a declared type that lies", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "photo.gif", "application/octet-stream", pngBytes(3, 3))),
			wantStatus: 201, wantEvent: "action:create", check: checkNewImage(pngBytes(3, 3), ".png"),
		},
		{
			name: "create with a path traversal file name", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "../../evil.png", "image/png", pngBytes(3, 3))),
			wantStatus: 201, wantEvent: "action:create",
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				checkNewImage(pngBytes(3, 3), ".png")(t, e, w)
				for _, dir := range []string{e.images.Dir, filepath.Dir(e.images.Dir), filepath.Dir(filepath.Dir(e.images.Dir))} {
					if _, err := os.Stat(filepath.Join(dir, "evil.png")); err == nil {
						t.Errorf("evil.png written in %s", dir)
					}
				}
			},
		},
		{
			name: "create short title and content", method: "POST", url: "/feed/post", caller: "alice",
			body: f(map[string]string{"title": " abc ", "content": "    "}, png), wantStatus: 422,
			want: `{"message":"Validation failed, entered data is incorrect.","data":[
				{"type":"field","path":"title","msg":"Invalid value","value":"abc","location":"body"},
				{"type":"field","path":"content","msg":"Invalid value","value":"","location":"body"}]}`,
		},
		{
			name: "create short content", method: "POST", url: "/feed/post", caller: "alice",
			body: f(map[string]string{"title": "Long enough", "content": "four"}, png), wantStatus: 422,
			want: `{"message":"Validation failed, entered data is incorrect.","data":[
				{"type":"field","path":"content","msg":"Invalid value","value":"four","location":"body"}]}`,
		},
		{
			// JavaScript counts "😀" as two characters, as the Node app's
			// express-validator would.
			name: "create at the length caps", method: "POST", url: "/feed/post", caller: "alice",
			body: f(map[string]string{
				"title": " " + strings.Repeat("t", testMaxTitle-2) + "😀 ", "content": strings.Repeat("c", testMaxContent),
			}, png),
			wantStatus: 201, wantEvent: "action:create",
		},
		{
			name: "create past the length caps", method: "POST", url: "/feed/post", caller: "alice",
			body: f(map[string]string{
				"title": strings.Repeat("t", testMaxTitle-1) + "😀", "content": strings.Repeat("c", testMaxContent+1),
			}, png),
			wantStatus: 422,
			want: `{"message":"Validation failed, entered data is incorrect.","data":[
				{"type":"field","path":"title","msg":"Invalid value","value":"` + strings.Repeat("t", testMaxTitle-1) + `😀","location":"body"},
				{"type":"field","path":"content","msg":"Invalid value","value":"` + strings.Repeat("c", testMaxContent+1) + `","location":"body"}]}`,
			check: func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
				if n := len(e.imageFiles()); n != 3 {
					t.Errorf("%d image files, want the 3 seeded", n)
				}
			},
		},
		{
			name: "create JSON instead of multipart", method: "POST", url: "/feed/post", caller: "alice",
			body: j(`{"title":"A fine title","content":"Some fine content"}`), wantStatus: 422,
			want: `{"message":"Validation failed, entered data is incorrect.","data":[
				{"type":"field","path":"title","msg":"Invalid value","value":"","location":"body"},
				{"type":"field","path":"content","msg":"Invalid value","value":"","location":"body"}]}`,
		},
		{
			name: "create without image", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), nil), wantStatus: 422, want: noImage,
		},
		{
			name: "create with image as text", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(map[string]string{"image": "images/x.png"}), nil), wantStatus: 422, want: noImage,
		},
		{
			name: "create with text file named png", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "x.png", "image/png", []byte("just some text, not an image\n"))),
			wantStatus: 422, want: noImage,
		},
		{
			name: "create with PNG magic and no image", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "x.png", "image/png", fakePNG())), wantStatus: 422, want: noImage,
		},
		{
			name: "create with a PNG header and random bytes", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "x.png", "image/png", pngHeaderThen(noise(2000)))),
			wantStatus: 422, want: noImage,
		},
		{
			name: "create with a PNG header and a page", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "x.png", "image/png", pngHeaderThen([]byte("<html><script>alert(1)</script></html>")))),
			wantStatus: 422, want: noImage,
		},
		{
			name: "create with a WebP VP8X header and garbage", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "x.webp", "image/webp", webpVP8XThen(noise(2000)))),
			wantStatus: 422, want: noImage,
		},
		{
			name: "create with a truncated PNG", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "x.png", "image/png", cut(pngBytes(2, 2), 13))), wantStatus: 422, want: noImage,
		},
		{
			name: "create with bytes after a PNG's end", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "x.png", "image/png", plus(pngBytes(2, 2), "<html>"))), wantStatus: 422, want: noImage,
		},
		{
			name: "create with a truncated JPEG", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "x.jpg", "image/jpeg", cut(jpegBytes(), 30))), wantStatus: 422, want: noImage,
		},
		{
			name: "create with bytes after a JPEG's end", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "x.jpg", "image/jpeg", plus(jpegBytes(), "<html>"))), wantStatus: 422, want: noImage,
		},
		{
			name: "create with bytes after a WebP's container", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "x.webp", "image/webp", plus(webpBytes(), "<html>"))), wantStatus: 422, want: noImage,
		},
		{
			name: "create with a truncated WebP", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "x.webp", "image/webp", cut(webpBytes(), 4))), wantStatus: 422, want: noImage,
		},
		{
			name: "create with empty file", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "x.png", "image/png", nil)), wantStatus: 422, want: noImage,
		},
		{
			name: "create with image over the cap", method: "POST", url: "/feed/post", caller: "alice",
			body: f(validPost(nil), file("image", "big.png", "image/png", noisyPNG(160))), wantStatus: 413, want: tooLarge,
		},
		{
			name: "create with a PNG of too many pixels", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "huge.png", "image/png", blankPNG(10000, 10000))),
			wantStatus: 422, want: noImage,
		},
		{
			name: "create with a PNG one pixel over the cap", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "huge.png", "image/png", blankPNG(8000, 5000+1))),
			wantStatus: 422, want: noImage,
		},
		{
			name: "create with a PNG at the pixel cap", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "big.png", "image/png", blankPNG(8000, 5000))),
			wantStatus: 201, wantEvent: "action:create", check: checkNewImage(blankPNG(8000, 5000), ".png"),
		},
		{
			name: "create with body over the limit", method: "POST", url: "/feed/post", caller: "alice",
			body:       f(validPost(nil), file("image", "big.png", "image/png", bytes.Repeat([]byte{'x'}, 2<<20))),
			wantStatus: 413, want: bodyTooLarge,
		},
		{
			name: "create broken multipart", method: "POST", url: "/feed/post", caller: "alice",
			body: func(*env) body {
				return body{"multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nabc")}
			},
			wantStatus: 400, want: `{"message":"Invalid multipart body.","data":[]}`,
		},
		{
			// The token's user was deleted: the store refuses the post, and
			// the image saved for it must go too (runCases checks the dir).
			name: "create fails in the store", method: "POST", url: "/feed/post", caller: "ghost",
			body: f(validPost(nil), png), wantStatus: 404, want: `{"message":"User not found.","data":[]}`,
		},
	}
	cases = append(cases, unauthorized("POST", "/feed/post", f(validPost(nil), png))...)
	runCases(t, cases)
}

func TestFeedReadAPI(t *testing.T) {
	cases := []apiCase{
		{name: "get own post", method: "GET", url: "/feed/post/{alice1}", caller: "alice", wantStatus: 200, want: "golden:post_get"},
		{
			name: "get another user's post", method: "GET", url: "/feed/post/{bob1}", caller: "alice", wantStatus: 200,
			want: `{"message":"Post fetched.","post":{"_id":"<bob1>","title":"Title of bob1","content":"Content of bob1",
				"imageUrl":"images/<generated>.png","creator":{"_id":"<bob>","name":"Bob"},"createdAt":"<time>","updatedAt":"<time>"}}`,
		},
		{name: "get unknown post", method: "GET", url: "/feed/post/{unknown}", caller: "alice", wantStatus: 404, want: notFound},
		{name: "get malformed id", method: "GET", url: "/feed/post/not-an-id", caller: "alice", wantStatus: 404, want: notFound},
		{name: "get 24 non-hex chars", method: "GET", url: "/feed/post/zzzzzzzzzzzzzzzzzzzzzzzz", caller: "alice", wantStatus: 404, want: notFound},
	}
	cases = append(cases, unauthorized("GET", "/feed/post/{alice1}", nil)...)
	runCases(t, cases)
}

// checkNewImage checks that the created or updated post's image is a file
// with a generated name holding exactly the upload.
func checkNewImage(want []byte, ext string) func(*testing.T, *env, *httptest.ResponseRecorder) {
	return func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
		var resp struct{ Post PostView }
		mustUnmarshal(t, w.Body.Bytes(), &resp)
		name, ok := strings.CutPrefix(resp.Post.ImageURL, imageURLPrefix)
		if !ok || !generatedName.MatchString(name) || filepath.Ext(name) != ext {
			t.Fatalf("imageUrl %q, want images/<32 hex>%s", resp.Post.ImageURL, ext)
		}
		got, err := os.ReadFile(filepath.Join(e.images.Dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("stored image: %v, equal %v", err, bytes.Equal(got, want))
		}
		id, _ := store.ParseID(resp.Post.ID)
		stored, err := e.store.PostByID(t.Context(), id)
		if err != nil || stored.ImageURL != resp.Post.ImageURL {
			t.Errorf("stored post %+v, %v", stored, err)
		}
		if files := e.imageFiles(); !slices.Contains(files, name) {
			t.Errorf("images directory holds %v, not %s", files, name)
		}
	}
}
