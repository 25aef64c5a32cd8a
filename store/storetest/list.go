package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"feedrt/store"
)

func testListPostsEmpty(t *testing.T, s store.Store, _ *Clock) {
	posts, total, err := s.ListPosts(t.Context(), 0, 2)
	if err != nil {
		t.Fatalf("ListPosts: %v", err)
	}
	if posts == nil || len(posts) != 0 || total != 0 {
		t.Errorf("ListPosts on an empty store = %#v, total %d; want a non-nil empty slice (it is JSON []), 0", posts, total)
	}
}

func testListPostsPagination(t *testing.T, s store.Store, c *Clock) {
	ctx := t.Context()
	authors := []store.User{
		MustCreateUser(t, s, "quinn@example.com", "Quinn"),
		MustCreateUser(t, s, "rosa@example.com", "Rosa"),
	}
	var created []store.Post
	for i := range 5 {
		if i > 0 {
			c.Advance(gap)
		}
		created = append(created, MustCreatePost(t, s, authors[i%2].ID, fmt.Sprint("post", i)))
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)

	for _, tc := range []struct{ skip, limit, from, to int }{
		{0, 2, 0, 2}, {2, 2, 2, 4}, {4, 2, 4, 5}, {6, 2, 5, 5}, {5, 2, 5, 5},
		{0, 10, 0, 5}, {1, 3, 1, 4},
	} {
		posts, total, err := s.ListPosts(ctx, tc.skip, tc.limit)
		if err != nil {
			t.Fatalf("ListPosts(%d, %d): %v", tc.skip, tc.limit, err)
		}
		want := newestFirst[tc.from:tc.to]
		if total != 5 {
			t.Errorf("ListPosts(%d, %d) total = %d, want 5", tc.skip, tc.limit, total)
		}
		if posts == nil || len(posts) != len(want) {
			t.Errorf("ListPosts(%d, %d) = %v, want %v", tc.skip, tc.limit, titles(posts), titles(want))
			continue
		}
		for i := range want {
			if d := diff(posts[i], want[i]); d != "" {
				t.Errorf("ListPosts(%d, %d)[%d]: %s", tc.skip, tc.limit, i, d)
			}
		}
	}
}

func testConcurrentCreatePost(t *testing.T, s store.Store, c *Clock) {
	ctx := t.Context()
	// Each write gets a time of its own, so that "newest first" below has
	// something to check.
	c.Step(time.Millisecond)
	const users, perUser = 5, 10
	var authors []store.User
	for i := range users {
		authors = append(authors, MustCreateUser(t, s, fmt.Sprintf("user%d@example.com", i), fmt.Sprint("User ", i)))
	}
	created := make([]store.Post, users*perUser)
	errs := make([]error, len(created))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range created {
		wg.Go(func() {
			<-start
			created[i] = store.Post{Title: fmt.Sprint("p", i), Content: "c", ImageURL: "images/i.png",
				Creator: store.Creator{ID: authors[i%users].ID}}
			errs[i] = s.CreatePost(ctx, &created[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreatePost #%d: %v", i, err)
		}
	}

	posts, total, err := s.ListPosts(ctx, 0, 2*len(created))
	if err != nil {
		t.Fatalf("ListPosts: %v", err)
	}
	if total != len(created) || len(posts) != len(created) {
		t.Fatalf("ListPosts = %d posts, total %d; want %d of each", len(posts), total, len(created))
	}
	byID := map[store.ID]store.Post{}
	for _, p := range created {
		byID[p.ID] = p
	}
	for i, p := range posts {
		if d := diff(p, byID[p.ID]); d != "" {
			t.Errorf("listed post %s: %s", p.ID.Hex(), d)
		}
		delete(byID, p.ID) // a second listing of one id then shows as a diff
		if i > 0 && p.CreatedAt.After(posts[i-1].CreatedAt) {
			t.Errorf("ListPosts not newest first at %d: %v after %v", i, p.CreatedAt, posts[i-1].CreatedAt)
		}
	}
	for i, a := range authors {
		u, err := s.UserByID(ctx, a.ID)
		if err != nil {
			t.Fatalf("UserByID: %v", err)
		}
		var want []store.ID
		for j := i; j < len(created); j += users {
			want = append(want, created[j].ID)
		}
		// Concurrent creates may append in any order; compare as sets.
		slices.SortFunc(want, compareIDs)
		got := slices.SortedFunc(slices.Values(u.Posts), compareIDs)
		if !slices.Equal(got, want) {
			t.Errorf("user %d has %d posts %v, want %d %v", i, len(got), got, len(want), want)
		}
	}
}

func compareIDs(a, b store.ID) int { return bytes.Compare(a[:], b[:]) }
