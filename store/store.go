// Package store holds the domain types of the feed and the Store interface
// that every persistence back end implements. It knows nothing of HTTP,
// Socket.IO or any database driver; implementations live in sub-packages
// and convert to and from their drivers' types at their edge.
package store

import (
	"context"
	"errors"
	"time"
)

// DefaultStatus is the status of a new user, as in the Node app.
const DefaultStatus = "I am new!"

// Sentinel errors. Implementations wrap them with %w; callers test with errors.Is.
var (
	// ErrNotFound: the user or post does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique value (the e-mail address) is already taken.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database cannot be reached right now.
	ErrUnavailable = errors.New("store unavailable")
)

// User is an account. Password holds the bcrypt hash, never the password.
type User struct {
	ID        ID
	Email     string
	Password  string
	Name      string
	Status    string
	Posts     []ID
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Creator is the public part of a post's author: what clients may see.
type Creator struct {
	ID   ID
	Name string
}

// Post is a feed entry. Reads fill Creator.Name from the user (like
// mongoose's populate); writes only use Creator.ID.
type Post struct {
	ID        ID
	Title     string
	Content   string
	ImageURL  string
	Creator   Creator
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store is the persistence the handlers need. Every method honours ctx.
type Store interface {
	// CreateUser stores u, setting u.ID, u.Status (if empty) and the
	// timestamps. ErrConflict if the e-mail is taken; the store enforces it.
	CreateUser(ctx context.Context, u *User) error
	// UserByEmail finds a user by exact (already normalised) e-mail.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID finds a user by id.
	UserByID(ctx context.Context, id ID) (User, error)
	// UpdateUserStatus sets a user's status.
	UpdateUserStatus(ctx context.Context, id ID, status string) error

	// CreatePost stores p, setting p.ID, the timestamps and p.Creator.Name,
	// and appends the id to the creator's Posts. ErrNotFound if the creator
	// does not exist.
	CreatePost(ctx context.Context, p *Post) error
	// PostByID finds a post, creator name filled in.
	PostByID(ctx context.Context, id ID) (Post, error)
	// ListPosts returns up to limit posts, newest first by CreatedAt, after
	// skipping skip of them, and the total number of posts.
	ListPosts(ctx context.Context, skip, limit int) ([]Post, int, error)
	// UpdatePost replaces title and content of p.ID and, unless
	// p.ImageURL is empty, its image URL; it sets p.UpdatedAt and fills p
	// from the stored post. replaced is the image URL the update took out
	// of the stored post ("" if the image did not change), read in the same
	// atomic step, so that concurrent updates each clean up the right file.
	UpdatePost(ctx context.Context, p *Post) (replaced string, err error)
	// DeletePost removes a post and its id from the creator's Posts, and
	// returns the image URL the post had when it was deleted.
	DeletePost(ctx context.Context, id ID) (imageURL string, err error)
	// ImageURLs returns the image URL of every post, in no particular
	// order, reading nothing else of them. The image sweep keeps every
	// file these name; an error means "unknown", never "none".
	ImageURLs(ctx context.Context) ([]string, error)

	// Ping reports whether the store is reachable (for readiness).
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}
