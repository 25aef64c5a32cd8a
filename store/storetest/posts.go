package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"feedrt/store"
)

// gap is how far a test moves the clock between writes it orders: stores
// keep milliseconds, so posts made within one millisecond have no defined
// order.
const gap = 2 * time.Millisecond

func testCreatePost(t *testing.T, s store.Store, c *Clock) {
	ctx := t.Context()
	u := MustCreateUser(t, s, "kate@example.com", "Kate")
	before := c.Now()
	p := store.Post{Title: "First post", Content: "Hello", ImageURL: "images/x.png", Creator: store.Creator{ID: u.ID}}
	if err := s.CreatePost(ctx, &p); err != nil {
		t.Fatalf("CreatePost: %v", err)
	}
	if p.ID.IsZero() {
		t.Error("CreatePost left the ID zero")
	}
	if p.Creator != (store.Creator{ID: u.ID, Name: "Kate"}) {
		t.Errorf("Creator = %+v, want the id and name of Kate", p.Creator)
	}
	checkTime(t, c, "CreatedAt", p.CreatedAt, before)
	checkTime(t, c, "UpdatedAt", p.UpdatedAt, before)

	got, err := s.PostByID(ctx, p.ID)
	wantRead(t, "PostByID", got, err, p, "PostByID differs from what CreatePost returned")
}

func testCreatePostUnknownCreator(t *testing.T, s store.Store, _ *Clock) {
	p := store.Post{Title: "Orphan", Content: "x", ImageURL: "images/x.png", Creator: store.Creator{ID: store.NewID()}}
	if err := s.CreatePost(t.Context(), &p); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreatePost by an unknown user: error = %v, want ErrNotFound", err)
	}
	if _, total, err := s.ListPosts(t.Context(), 0, 10); err != nil || total != 0 {
		t.Errorf("after a refused CreatePost: total = %d, error = %v; want 0, nil", total, err)
	}
}

func testUpdatePost(t *testing.T, s store.Store, c *Clock) {
	ctx := t.Context()
	u := MustCreateUser(t, s, "liam@example.com", "Liam")
	p := MustCreatePost(t, s, u.ID, "Before")
	c.Advance(gap)

	// Creator and CreatedAt are set to nonsense: UpdatePost must ignore them.
	upd := store.Post{
		ID:        p.ID,
		Title:     "After",
		Content:   "New content",
		ImageURL:  "images/new.png",
		Creator:   store.Creator{ID: store.NewID(), Name: "Mallory"},
		CreatedAt: time.Unix(0, 0),
	}
	replaced, err := s.UpdatePost(ctx, &upd)
	if err != nil {
		t.Fatalf("UpdatePost: %v", err)
	}
	if replaced != p.ImageURL {
		t.Errorf("UpdatePost replaced image %q, want %q", replaced, p.ImageURL)
	}
	want := p
	want.Title, want.Content, want.ImageURL = "After", "New content", "images/new.png"
	want.UpdatedAt = upd.UpdatedAt
	if d := diff(upd, want); d != "" {
		t.Errorf("UpdatePost filled p wrongly: %s", d)
	}
	if !upd.UpdatedAt.After(p.UpdatedAt) {
		t.Errorf("UpdatedAt = %v, want after the creation time %v", upd.UpdatedAt, p.UpdatedAt)
	}
	checkTime(t, c, "UpdatedAt", upd.UpdatedAt, p.CreatedAt)

	got, err := s.PostByID(ctx, p.ID)
	wantRead(t, "PostByID", got, err, upd, "PostByID after UpdatePost")
	posts, total, err := s.ListPosts(ctx, 0, 10)
	if err != nil || total != 1 || len(posts) != 1 {
		t.Fatalf("ListPosts = %d posts, total %d, error %v; want 1, 1, nil", len(posts), total, err)
	}
	if d := diff(posts[0], upd); d != "" {
		t.Errorf("ListPosts after UpdatePost: %s", d)
	}

	// No image URL, or the same one: the image stays and nothing is
	// reported replaced.
	for _, image := range []string{"", "images/new.png"} {
		again := store.Post{ID: p.ID, Title: "Again", Content: "Same image", ImageURL: image}
		replaced, err := s.UpdatePost(ctx, &again)
		if err != nil {
			t.Fatalf("UpdatePost(image %q): %v", image, err)
		}
		if replaced != "" || again.ImageURL != "images/new.png" || again.Title != "Again" {
			t.Errorf("UpdatePost(image %q) = replaced %q, post %+v; want nothing replaced, images/new.png kept", image, replaced, again)
		}
		if got, err := s.PostByID(ctx, p.ID); err != nil || got.ImageURL != "images/new.png" {
			t.Errorf("PostByID after UpdatePost(image %q) = %+v, %v; want images/new.png kept", image, got, err)
		}
	}
}

func testDeletePost(t *testing.T, s store.Store, c *Clock) {
	ctx := t.Context()
	u := MustCreateUser(t, s, "mia@example.com", "Mia")
	keep := MustCreatePost(t, s, u.ID, "Keep")
	c.Advance(gap)
	gone := MustCreatePost(t, s, u.ID, "Gone")

	image, err := s.DeletePost(ctx, gone.ID)
	if err != nil {
		t.Fatalf("DeletePost: %v", err)
	}
	if image != gone.ImageURL {
		t.Errorf("DeletePost returned image %q, want %q", image, gone.ImageURL)
	}
	if _, err := s.PostByID(ctx, gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PostByID of a deleted post: error = %v, want ErrNotFound", err)
	}
	if _, err := s.DeletePost(ctx, gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeletePost twice: error = %v, want ErrNotFound", err)
	}
	posts, total, err := s.ListPosts(ctx, 0, 10)
	if err != nil {
		t.Fatalf("ListPosts: %v", err)
	}
	if total != 1 || len(posts) != 1 || posts[0].ID != keep.ID {
		t.Errorf("ListPosts after delete = %v, total %d; want [Keep], 1", titles(posts), total)
	}
	if _, err := s.PostByID(ctx, keep.ID); err != nil {
		t.Errorf("PostByID of the other post: %v", err)
	}
}

func testUnknownPost(t *testing.T, s store.Store, _ *Clock) {
	ctx := t.Context()
	u := MustCreateUser(t, s, "noah@example.com", "Noah")
	MustCreatePost(t, s, u.ID, "Exists")
	id := store.NewID()
	if _, err := s.PostByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PostByID(unknown) error = %v, want ErrNotFound", err)
	}
	p := store.Post{ID: id, Title: "x", Content: "y", ImageURL: "images/z.png"}
	if _, err := s.UpdatePost(ctx, &p); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdatePost(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.DeletePost(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeletePost(unknown) error = %v, want ErrNotFound", err)
	}
	if _, total, err := s.ListPosts(ctx, 0, 10); err != nil || total != 1 {
		t.Errorf("ListPosts total = %d, error = %v; want 1, nil", total, err)
	}
}

func testCreatorPosts(t *testing.T, s store.Store, _ *Clock) {
	ctx := t.Context()
	u := MustCreateUser(t, s, "olga@example.com", "Olga")
	other := MustCreateUser(t, s, "paul@example.com", "Paul")
	p1 := MustCreatePost(t, s, u.ID, "One")
	MustCreatePost(t, s, other.ID, "Paul's")
	p2 := MustCreatePost(t, s, u.ID, "Two")

	wantPosts := func(want ...store.ID) {
		t.Helper()
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("UserByID: %v", err)
		}
		if !slices.Equal(got.Posts, want) {
			t.Errorf("user's Posts = %v, want %v", got.Posts, want)
		}
	}
	wantPosts(p1.ID, p2.ID)
	if _, err := s.DeletePost(ctx, p1.ID); err != nil {
		t.Fatalf("DeletePost: %v", err)
	}
	wantPosts(p2.ID)
	if _, err := s.DeletePost(ctx, p2.ID); err != nil {
		t.Fatalf("DeletePost: %v", err)
	}
	wantPosts()
}

func testTimes(t *testing.T, s store.Store, c *Clock) {
	ctx := t.Context()
	before := c.Now()
	u := MustCreateUser(t, s, "sam@example.com", "Sam")
	p := MustCreatePost(t, s, u.ID, "Timed")
	c.Advance(gap)
	if err := s.UpdateUserStatus(ctx, u.ID, "later"); err != nil {
		t.Fatalf("UpdateUserStatus: %v", err)
	}

	gotU, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	gotP, err := s.PostByID(ctx, p.ID)
	if err != nil {
		t.Fatalf("PostByID: %v", err)
	}
	for _, tc := range []struct {
		name      string
		got, want time.Time
	}{
		{"user CreatedAt", gotU.CreatedAt, u.CreatedAt},
		{"post CreatedAt", gotP.CreatedAt, p.CreatedAt},
		{"post UpdatedAt", gotP.UpdatedAt, p.UpdatedAt},
	} {
		checkTime(t, c, tc.name, tc.got, before)
		if !tc.got.Equal(tc.want) {
			t.Errorf("%s read back as %v, written as %v", tc.name, tc.got, tc.want)
		}
	}
	checkTime(t, c, "user UpdatedAt", gotU.UpdatedAt, before)
	if !gotU.UpdatedAt.After(u.UpdatedAt) {
		t.Errorf("user UpdatedAt = %v after a status change, want later than %v", gotU.UpdatedAt, u.UpdatedAt)
	}
}
