package handlers

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"feedrt/store"
)

func TestFeedUpdateAPI(t *testing.T) {
	newPNG := file("image", "new.png", "image/png", pngBytes(4, 4))
	keep := func(post string, extra map[string]string) func(*env) body {
		return func(e *env) body {
			fields := validPost(extra)
			fields["image"] = e.posts[post].ImageURL
			return form(fields, nil)
		}
	}
	keptImage := func(post, title string) string {
		return `{"message":"Post updated!","post":{"_id":"<` + post + `>","title":"` + title + `","content":"Some fine content",
			"imageUrl":"images/<generated>.png","creator":{"_id":"<alice>","name":"Alice"},"createdAt":"<time>","updatedAt":"<time>"}}`
	}
	cases := []apiCase{
		{
			name: "update with a new image", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body:       f(map[string]string{"title": " New title ", "content": " New content "}, newPNG),
			wantStatus: 200, want: "golden:post_update", wantEvent: "event_update",
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				checkNewImage(pngBytes(4, 4), ".png")(t, e, w)
				checkGone(t, e, "alice1")
				if n := len(e.imageFiles()); n != 3 {
					t.Errorf("%d image files, want 3", n)
				}
			},
		},
		{
			name: "update with a new jpeg", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body:       f(validPost(nil), file("image", "new.jpg", "image/jpeg", jpegBytes())),
			wantStatus: 200, wantEvent: "action:update",
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				checkNewImage(jpegBytes(), ".jpg")(t, e, w)
				checkGone(t, e, "alice1")
			},
		},
		{
			name: "update keeping the image", method: "PUT", url: "/feed/post/{alice2}", caller: "alice",
			body: keep("alice2", nil), wantStatus: 200, wantEvent: "action:update",
			want: `{"message":"Post updated!","post":{"_id":"<alice2>","title":"A fine title","content":"Some fine content",
				"imageUrl":"images/<generated>.png","creator":{"_id":"<alice>","name":"Alice"},"createdAt":"<time>","updatedAt":"<time>"}}`,
			check: func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
				p, err := e.store.PostByID(t.Context(), e.posts["alice2"].ID)
				if err != nil || p.ImageURL != e.posts["alice2"].ImageURL || p.Title != "A fine title" {
					t.Errorf("stored %+v, %v", p, err)
				}
				if !slices.Contains(e.imageFiles(), fileOf(p)) {
					t.Error("kept image was removed")
				}
			},
		},
		{
			// The course front end sends the text "undefined" when its
			// author edits a post that arrived through a posts event.
			name: "update a live post from the course front end", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body:       f(map[string]string{"title": "Only the title changed", "content": "Some fine content", "image": "undefined"}, nil),
			wantStatus: 200, wantEvent: "action:update", want: keptImage("alice1", "Only the title changed"),
			check: imageKept("alice1", "Only the title changed"),
		},
		{
			name: "update with another post's image", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body: keep("bob1", nil), wantStatus: 200, wantEvent: "action:update", want: keptImage("alice1", "A fine title"),
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				imageKept("alice1", "A fine title")(t, e, w)
				unchanged("bob1")(t, e, w)
			},
		},
		{
			name: "update with a path as image", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body:       f(validPost(map[string]string{"image": "images/../../../etc/passwd"}), nil),
			wantStatus: 200, wantEvent: "action:update", want: keptImage("alice1", "A fine title"),
			check: imageKept("alice1", "A fine title"),
		},
		{
			name: "update without image", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body: f(validPost(nil), nil), wantStatus: 422, want: noFilePicked, check: unchanged("alice1"),
		},
		{
			name: "update with empty image text", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body: f(validPost(map[string]string{"image": ""}), nil), wantStatus: 422, want: noFilePicked,
		},
		{
			name: "update with a text file named png", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body:       f(validPost(nil), file("image", "x.png", "image/png", []byte("plain text\n"))),
			wantStatus: 422, want: noFilePicked, check: unchanged("alice1"),
		},
		{
			name: "update with PNG magic and no image", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body: f(validPost(nil), file("image", "x.png", "image/png", fakePNG())), wantStatus: 422, want: noFilePicked,
		},
		{
			name: "update with short title", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body: keep("alice1", map[string]string{"title": "abcd"}), wantStatus: 422,
			want: `{"message":"Validation failed, entered data is incorrect.","data":[
				{"type":"field","path":"title","msg":"Invalid value","value":"abcd","location":"body"}]}`,
			check: unchanged("alice1"),
		},
		{
			name: "update with image over the cap", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body:       f(validPost(nil), file("image", "big.png", "image/png", noisyPNG(160))),
			wantStatus: 413, want: tooLarge, check: unchanged("alice1"),
		},
		{
			name: "update with a PNG of too many pixels", method: "PUT", url: "/feed/post/{alice1}", caller: "alice",
			body:       f(validPost(nil), file("image", "huge.png", "image/png", blankPNG(10000, 10000))),
			wantStatus: 422, want: noFilePicked, check: unchanged("alice1"),
		},
		{
			name: "update another user's post", method: "PUT", url: "/feed/post/{bob1}", caller: "alice",
			body: f(validPost(nil), newPNG), wantStatus: 403, want: forbidden, check: unchanged("bob1"),
		},
		{
			name: "update another user's post keeping its image", method: "PUT", url: "/feed/post/{bob1}", caller: "alice",
			body: keep("bob1", nil), wantStatus: 403, want: forbidden, check: unchanged("bob1"),
		},
		{
			name: "update unknown post", method: "PUT", url: "/feed/post/{unknown}", caller: "alice",
			body: f(validPost(nil), newPNG), wantStatus: 404, want: notFound,
		},
		{
			name: "update malformed id", method: "PUT", url: "/feed/post/123", caller: "alice",
			body: f(validPost(nil), newPNG), wantStatus: 404, want: notFound,
		},
	}
	cases = append(cases, unauthorized("PUT", "/feed/post/{alice1}", f(validPost(nil), newPNG))...)
	runCases(t, cases)
}

func TestFeedDeleteAPI(t *testing.T) {
	cases := []apiCase{
		{
			name: "delete own post", method: "DELETE", url: "/feed/post/{bob1}", caller: "bob",
			wantStatus: 200, want: "golden:post_delete", wantEvent: "event_delete",
			check: func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
				checkGone(t, e, "bob1")
				if _, err := e.store.PostByID(t.Context(), e.posts["bob1"].ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("post still there: %v", err)
				}
				if u, _ := e.store.UserByID(t.Context(), e.users["bob"].ID); len(u.Posts) != 0 {
					t.Errorf("bob still lists posts %v", u.Posts)
				}
			},
		},
		{
			name: "delete another user's post", method: "DELETE", url: "/feed/post/{bob1}", caller: "alice",
			wantStatus: 403, want: forbidden, check: unchanged("bob1"),
		},
		{name: "delete unknown post", method: "DELETE", url: "/feed/post/{unknown}", caller: "alice", wantStatus: 404, want: notFound},
		{name: "delete malformed id", method: "DELETE", url: "/feed/post/xyz", caller: "alice", wantStatus: 404, want: notFound},
	}
	cases = append(cases, unauthorized("DELETE", "/feed/post/{alice1}", nil)...)
	runCases(t, cases)
}

// checkGone checks that the seeded post's original image file was removed.
func checkGone(t *testing.T, e *env, post string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(e.images.Dir, fileOf(e.posts[post]))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old image of %s still there (%v)", post, err)
	}
}

// unchanged checks that a failed request left the seeded post as it was.
func unchanged(post string) func(*testing.T, *env, *httptest.ResponseRecorder) {
	return func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
		p, err := e.store.PostByID(t.Context(), e.posts[post].ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := e.posts[post]; p.Title != want.Title || p.Content != want.Content || p.ImageURL != want.ImageURL || !p.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("post changed: %+v, was %+v", p, want)
		}
	}
}

// imageKept checks that the seeded post now has title, still has its own
// image, and that the image file is still there.
func imageKept(post, title string) func(*testing.T, *env, *httptest.ResponseRecorder) {
	return func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
		p, err := e.store.PostByID(t.Context(), e.posts[post].ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Title != title || p.ImageURL != e.posts[post].ImageURL {
			t.Errorf("stored %+v, want title %q and image %s", p, title, e.posts[post].ImageURL)
		}
		if !slices.Contains(e.imageFiles(), fileOf(p)) {
			t.Error("kept image was removed")
		}
	}
}
