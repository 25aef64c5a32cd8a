package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"feedrt/store"
)

// MustCreateUser creates a user or stops the test. It is exported so that
// implementation-specific tests can set up data the same way the suite does.
func MustCreateUser(tb testing.TB, s store.Store, email, name string) store.User {
	tb.Helper()
	u := store.User{Email: email, Password: "$2a$12$not-a-real-hash", Name: name}
	if err := s.CreateUser(tb.Context(), &u); err != nil {
		tb.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

// MustCreatePost creates a post by creator or stops the test; the content
// and image URL are derived from title, so tests name only what they check.
func MustCreatePost(tb testing.TB, s store.Store, creator store.ID, title string) store.Post {
	tb.Helper()
	p := store.Post{
		Title:    title,
		Content:  "Content of " + title,
		ImageURL: "images/" + title + ".png",
		Creator:  store.Creator{ID: creator},
	}
	if err := s.CreatePost(tb.Context(), &p); err != nil {
		tb.Fatalf("CreatePost(%s): %v", title, err)
	}
	return p
}

// checkTime holds a store timestamp to the API's needs: set, UTC (the JSON
// ends in Z) and whole milliseconds (what ISO-8601 with ms and MongoDB keep),
// and taken from the store's clock c during the test.
func checkTime(tb testing.TB, c *Clock, name string, got, notBefore time.Time) {
	tb.Helper()
	switch {
	case got.IsZero():
		tb.Errorf("%s is zero", name)
	case got.Location() != time.UTC:
		tb.Errorf("%s = %v is in %v, want UTC", name, got, got.Location())
	case got.Nanosecond()%int(time.Millisecond) != 0:
		tb.Errorf("%s = %v has sub-millisecond digits", name, got)
	case got.Before(notBefore.Truncate(time.Millisecond)) || got.After(c.current()):
		tb.Errorf("%s = %v is not the time of the write (test started %v)", name, got, notBefore)
	}
}

// diffUser returns "" if the users are equal, else what differs. Times are
// compared with Equal because representations of one instant may differ.
func diffUser(got, want store.User) string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	if got.ID != want.ID {
		add("ID", got.ID.Hex(), want.ID.Hex())
	}
	if got.Email != want.Email {
		add("Email", got.Email, want.Email)
	}
	if got.Password != want.Password {
		add("Password", got.Password, want.Password)
	}
	if got.Name != want.Name {
		add("Name", got.Name, want.Name)
	}
	if got.Status != want.Status {
		add("Status", got.Status, want.Status)
	}
	if !slices.Equal(got.Posts, want.Posts) {
		add("Posts", got.Posts, want.Posts)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		add("CreatedAt", got.CreatedAt, want.CreatedAt)
	}
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		add("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	}
	return strings.Join(d, "; ")
}

// diffPost returns "" if the posts are equal, else what differs.
func diffPost(got, want store.Post) string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	if got.ID != want.ID {
		add("ID", got.ID.Hex(), want.ID.Hex())
	}
	if got.Title != want.Title {
		add("Title", got.Title, want.Title)
	}
	if got.Content != want.Content {
		add("Content", got.Content, want.Content)
	}
	if got.ImageURL != want.ImageURL {
		add("ImageURL", got.ImageURL, want.ImageURL)
	}
	if got.Creator != want.Creator {
		add("Creator", got.Creator, want.Creator)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		add("CreatedAt", got.CreatedAt, want.CreatedAt)
	}
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		add("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	}
	return strings.Join(d, "; ")
}

// titles lists the titles of posts, for readable failure messages.
func titles(posts []store.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = p.Title
	}
	return out
}
