package boltstore

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"feedrt/store"
)

// CreateUser checks and claims the e-mail in the same write transaction that
// stores the user. bbolt runs one writer at a time, so of two concurrent
// sign-ups with one address exactly one sees it free. u is changed only if
// the user was stored.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	nu := *u
	nu.CreatedAt = s.clock.Now()
	nu.ID = store.NewIDAt(nu.CreatedAt)
	if nu.Status == "" {
		nu.Status = store.DefaultStatus
	}
	nu.UpdatedAt = nu.CreatedAt
	nu.Posts = append([]store.ID(nil), u.Posts...)

	err := s.update(ctx, func(tx *bolt.Tx) error {
		byEmail := tx.Bucket(bucketUserByEmail)
		if byEmail.Get([]byte(nu.Email)) != nil {
			return fmt.Errorf("boltstore: e-mail %q: %w", nu.Email, store.ErrConflict)
		}
		data, err := encodeUser(nu)
		if err != nil {
			return fmt.Errorf("boltstore: encode user: %w", err)
		}
		if err := tx.Bucket(bucketUsers).Put(nu.ID[:], data); err != nil {
			return err
		}
		return byEmail.Put([]byte(nu.Email), nu.ID[:])
	})
	if err != nil {
		return err
	}
	*u = nu
	return nil
}

// UserByEmail looks the address up in the e-mail index, so it costs two
// key lookups rather than a scan.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return viewValue(ctx, s, func(tx *bolt.Tx) (store.User, error) {
		v := tx.Bucket(bucketUserByEmail).Get([]byte(email))
		if v == nil {
			return store.User{}, fmt.Errorf("boltstore: user with e-mail %q: %w", email, store.ErrNotFound)
		}
		var id store.ID
		if len(v) != len(id) {
			return store.User{}, fmt.Errorf("boltstore: e-mail index entry of length %d for %q", len(v), email)
		}
		copy(id[:], v)
		return getUser(tx, id)
	})
}

// UserByID returns the user with the given id, or an error wrapping
// store.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id store.ID) (store.User, error) {
	return viewValue(ctx, s, func(tx *bolt.Tx) (store.User, error) { return getUser(tx, id) })
}

// UpdateUserStatus rewrites the whole record in one write transaction; the
// read-modify-write cannot interleave with another writer.
func (s *Store) UpdateUserStatus(ctx context.Context, id store.ID, status string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		u, err := getUser(tx, id)
		if err != nil {
			return err
		}
		u.Status = status
		u.UpdatedAt = s.clock.Now()
		return putUser(tx, u)
	})
}

// getUser reads a user inside a transaction.
func getUser(tx *bolt.Tx, id store.ID) (store.User, error) {
	v := tx.Bucket(bucketUsers).Get(id[:])
	if v == nil {
		return store.User{}, fmt.Errorf("boltstore: user %s: %w", id.Hex(), store.ErrNotFound)
	}
	return decodeUser(id, v)
}

// putUser writes a user back inside a write transaction. It does not touch
// the e-mail index: no method changes an e-mail address.
func putUser(tx *bolt.Tx, u store.User) error {
	data, err := encodeUser(u)
	if err != nil {
		return fmt.Errorf("boltstore: encode user %s: %w", u.ID.Hex(), err)
	}
	return tx.Bucket(bucketUsers).Put(u.ID[:], data)
}

// userName returns the name of a post's creator, or "" if the user is gone:
// a post outliving its author should still be readable.
func userName(tx *bolt.Tx, id store.ID) (string, error) {
	u, err := getUser(tx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return "", err
	}
	return u.Name, nil
}
