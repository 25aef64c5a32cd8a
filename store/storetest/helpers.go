package storetest

import (
	"fmt"
	"reflect"
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

// wantRead stops the test if the read op failed, and reports under label
// how what it read differs from want.
func wantRead[T any](tb testing.TB, op string, got T, err error, want T, label string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", op, err)
	}
	if d := diff(got, want); d != "" {
		tb.Errorf("%s: %s", label, d)
	}
}

// diff compares two structs field by field, in declaration order, and
// returns "" if they are equal, else what differs. Times are compared with
// Equal because representations of one instant may differ; slices element
// by element, so that nil and empty are equal.
func diff[T any](got, want T) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	var d []string
	for i := range g.NumField() {
		gf, wf := g.Field(i), w.Field(i)
		if !sameValue(gf, wf) {
			d = append(d, fmt.Sprintf("%s = %v, want %v", g.Type().Field(i).Name, gf.Interface(), wf.Interface()))
		}
	}
	return strings.Join(d, "; ")
}

// sameValue reports whether two field values are equal, as diff counts it.
func sameValue(g, w reflect.Value) bool {
	if t, ok := g.Interface().(time.Time); ok {
		return t.Equal(w.Interface().(time.Time))
	}
	if g.Kind() != reflect.Slice {
		return reflect.DeepEqual(g.Interface(), w.Interface())
	}
	if g.Len() != w.Len() {
		return false
	}
	for i := range g.Len() {
		if !sameValue(g.Index(i), w.Index(i)) {
			return false
		}
	}
	return true
}

// titles lists the titles of posts, for readable failure messages.
func titles(posts []store.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = p.Title
	}
	return out
}
