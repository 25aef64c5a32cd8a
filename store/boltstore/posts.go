package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"feedrt/store"
)

// CreatePost stores the post, its index key, the creator's new Posts entry
// and the incremented counter in one write transaction, so a crash or a
// concurrent reader never sees a post without its index or owner. p is
// changed only if the post was stored.
func (s *Store) CreatePost(ctx context.Context, p *store.Post) error {
	np := *p
	np.CreatedAt = s.clock.Now()
	np.ID = store.NewIDAt(np.CreatedAt)
	np.UpdatedAt = np.CreatedAt

	err := s.update(ctx, func(tx *bolt.Tx) error {
		u, err := getUser(tx, np.Creator.ID)
		if err != nil {
			return fmt.Errorf("boltstore: creator of new post: %w", err)
		}
		np.Creator.Name = u.Name
		if err := putPost(tx, np); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPostByTime).Put(timeKey(np.CreatedAt, np.ID), nil); err != nil {
			return err
		}
		u.Posts = append(u.Posts, np.ID)
		if err := putUser(tx, u); err != nil {
			return err
		}
		return addPostCount(tx, +1)
	})
	if err != nil {
		return err
	}
	*p = np
	return nil
}

// PostByID returns the post with its creator's current name.
func (s *Store) PostByID(ctx context.Context, id store.ID) (store.Post, error) {
	return viewValue(ctx, s, func(tx *bolt.Tx) (store.Post, error) {
		p, err := getPost(tx, id)
		if err != nil {
			return store.Post{}, err
		}
		p.Creator.Name, err = userName(tx, p.Creator.ID)
		return p, err
	})
}

// ListPosts walks the time index backwards from the newest key, so it reads
// only skip index keys and limit posts, never the whole collection. A limit
// of zero or less returns no posts, only the total. The slice is never nil,
// so an empty page encodes as [] rather than null.
func (s *Store) ListPosts(ctx context.Context, skip, limit int) ([]store.Post, int, error) {
	skip = max(skip, 0)
	posts := []store.Post{}
	var total int
	err := s.view(ctx, func(tx *bolt.Tx) error {
		n, err := decodeCount(tx.Bucket(bucketMeta).Get(keyPostCount))
		if err != nil {
			return err
		}
		total = int(n)
		if limit <= 0 || skip >= total {
			return nil
		}
		posts = make([]store.Post, 0, min(limit, total-skip))
		names := map[store.ID]string{} // one lookup per author per page
		c := tx.Bucket(bucketPostByTime).Cursor()
		k, _ := c.Last()
		for i := 0; k != nil && i < skip; i++ {
			k, _ = c.Prev()
		}
		for ; k != nil && len(posts) < limit; k, _ = c.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id, err := idFromTimeKey(k)
			if err != nil {
				return err
			}
			p, err := getPost(tx, id)
			if err != nil {
				return fmt.Errorf("boltstore: time index points at a missing post: %w", err)
			}
			name, ok := names[p.Creator.ID]
			if !ok {
				if name, err = userName(tx, p.Creator.ID); err != nil {
					return err
				}
				names[p.Creator.ID] = name
			}
			p.Creator.Name = name
			posts = append(posts, p)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return posts, total, nil
}

// UpdatePost changes only the editable fields; CreatedAt and the creator are
// kept from the stored post whatever p holds, so the index key stays valid.
// On success p holds the post as stored, creator name included.
func (s *Store) UpdatePost(ctx context.Context, p *store.Post) (replaced string, err error) {
	var stored store.Post
	err = s.update(ctx, func(tx *bolt.Tx) error {
		var err error
		stored, err = getPost(tx, p.ID)
		if err != nil {
			return err
		}
		replaced = ""
		stored.Title = p.Title
		stored.Content = p.Content
		if p.ImageURL != "" && p.ImageURL != stored.ImageURL {
			replaced, stored.ImageURL = stored.ImageURL, p.ImageURL
		}
		stored.UpdatedAt = s.clock.Now()
		if err := putPost(tx, stored); err != nil {
			return err
		}
		stored.Creator.Name, err = userName(tx, stored.Creator.ID)
		return err
	})
	if err != nil {
		return "", err
	}
	*p = stored
	return replaced, nil
}

// DeletePost removes the post, its index key, its id from the creator's
// Posts and one from the counter in one write transaction.
func (s *Store) DeletePost(ctx context.Context, id store.ID) (imageURL string, err error) {
	err = s.update(ctx, func(tx *bolt.Tx) error {
		p, err := getPost(tx, id)
		if err != nil {
			return err
		}
		imageURL = p.ImageURL
		if err := tx.Bucket(bucketPosts).Delete(id[:]); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPostByTime).Delete(timeKey(p.CreatedAt, id)); err != nil {
			return err
		}
		if err := addPostCount(tx, -1); err != nil {
			return err
		}
		u, err := getUser(tx, p.Creator.ID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil // the author is gone; nothing to unlink
			}
			return err
		}
		u.Posts = slices.DeleteFunc(u.Posts, func(x store.ID) bool { return x == id })
		return putUser(tx, u)
	})
	if err != nil {
		return "", err
	}
	return imageURL, nil
}

// getPost reads a post inside a transaction, without the creator's name.
func getPost(tx *bolt.Tx, id store.ID) (store.Post, error) {
	v := tx.Bucket(bucketPosts).Get(id[:])
	if v == nil {
		return store.Post{}, fmt.Errorf("boltstore: post %s: %w", id.Hex(), store.ErrNotFound)
	}
	return decodePost(id, v)
}

// putPost writes a post inside a write transaction; the index is the
// caller's business because only CreatePost and DeletePost change it.
func putPost(tx *bolt.Tx, p store.Post) error {
	data, err := encodePost(p)
	if err != nil {
		return fmt.Errorf("boltstore: encode post %s: %w", p.ID.Hex(), err)
	}
	return tx.Bucket(bucketPosts).Put(p.ID[:], data)
}

// addPostCount keeps the post total in the meta bucket, so ListPosts can
// report it without walking the posts.
func addPostCount(tx *bolt.Tx, delta int) error {
	meta := tx.Bucket(bucketMeta)
	n, err := decodeCount(meta.Get(keyPostCount))
	if err != nil {
		return err
	}
	if delta < 0 && n < uint64(-delta) {
		return fmt.Errorf("boltstore: post counter would go below zero")
	}
	return meta.Put(keyPostCount, encodeCount(uint64(int64(n)+int64(delta))))
}

// ImageURLs reads the imageUrl of every post in one read transaction. Only
// that field is decoded; the slice is never nil.
func (s *Store) ImageURLs(ctx context.Context) ([]string, error) {
	urls := []string{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPosts).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var rec struct {
				ImageURL string `json:"imageUrl"`
			}
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("boltstore: decode post %x: %w", k, err)
			}
			urls = append(urls, rec.ImageURL)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return urls, nil
}
