package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"feedrt/store"
)

// testImageURLs: ImageURLs names the current image of every post and
// nothing else. The sweep deletes every file it does not name, so a
// missing URL here is a lost image; an image the Node app stored (ISO
// date and original name, with spaces and colons) must come back exactly.
func testImageURLs(t *testing.T, s store.Store, _ *Clock) {
	ctx := t.Context()
	if urls, err := s.ImageURLs(ctx); err != nil || len(urls) != 0 {
		t.Fatalf("ImageURLs of an empty store = %q, %v; want none, nil", urls, err)
	}

	u := MustCreateUser(t, s, "uma@example.com", "Uma")
	kept := MustCreatePost(t, s, u.ID, "kept")
	node := store.Post{Title: "From Node", Content: "Old post", Creator: store.Creator{ID: u.ID},
		ImageURL: "images/2023-04-05T06:07:08.910Z-my cat.png"}
	if err := s.CreatePost(ctx, &node); err != nil {
		t.Fatalf("CreatePost: %v", err)
	}
	edited := MustCreatePost(t, s, u.ID, "edited")
	edited.ImageURL = "images/replacement.webp"
	if _, err := s.UpdatePost(ctx, &edited); err != nil {
		t.Fatalf("UpdatePost: %v", err)
	}
	gone := MustCreatePost(t, s, u.ID, "gone")
	if _, err := s.DeletePost(ctx, gone.ID); err != nil {
		t.Fatalf("DeletePost: %v", err)
	}

	got, err := s.ImageURLs(ctx)
	if err != nil {
		t.Fatalf("ImageURLs: %v", err)
	}
	want := []string{kept.ImageURL, node.ImageURL, "images/replacement.webp"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ImageURLs = %q, want %q (the replaced images/edited.png and the deleted images/gone.png must not be there)", got, want)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if urls, err := s.ImageURLs(canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("ImageURLs with a canceled context = %q, %v; want context.Canceled", urls, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if urls, err := s.ImageURLs(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("ImageURLs after Close = %q, %v; want ErrUnavailable", urls, err)
	}
}
