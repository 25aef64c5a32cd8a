package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"feedrt/store"
)

// userRecord is the on-disk form of a user. It is separate from store.User so
// that renaming or retyping a domain field cannot silently change the file
// format; ids are hex strings, as they are everywhere else in the app.
type userRecord struct {
	Email     string    `json:"email"`
	Password  string    `json:"password"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Posts     []string  `json:"posts"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// postRecord is the on-disk form of a post. The creator's name is not stored:
// it is read from the user on every read, as mongoose's populate does, so a
// renamed user never leaves stale names behind.
type postRecord struct {
	Title     string    `json:"title"`
	Content   string    `json:"content"`
	ImageURL  string    `json:"imageUrl"`
	Creator   string    `json:"creator"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func encodeUser(u store.User) ([]byte, error) {
	rec := userRecord{
		Email:     u.Email,
		Password:  u.Password,
		Name:      u.Name,
		Status:    u.Status,
		Posts:     make([]string, len(u.Posts)),
		CreatedAt: u.CreatedAt,
		UpdatedAt: u.UpdatedAt,
	}
	for i, id := range u.Posts {
		rec.Posts[i] = id.Hex()
	}
	return json.Marshal(rec)
}

func decodeUser(id store.ID, data []byte) (store.User, error) {
	var rec userRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return store.User{}, fmt.Errorf("boltstore: decode user %s: %w", id.Hex(), err)
	}
	u := store.User{
		ID:        id,
		Email:     rec.Email,
		Password:  rec.Password,
		Name:      rec.Name,
		Status:    rec.Status,
		Posts:     make([]store.ID, len(rec.Posts)),
		CreatedAt: store.StoredTime(rec.CreatedAt),
		UpdatedAt: store.StoredTime(rec.UpdatedAt),
	}
	for i, hex := range rec.Posts {
		pid, err := store.ParseID(hex)
		if err != nil {
			return store.User{}, fmt.Errorf("boltstore: decode user %s: bad post id %q", id.Hex(), hex)
		}
		u.Posts[i] = pid
	}
	return u, nil
}

func encodePost(p store.Post) ([]byte, error) {
	return json.Marshal(postRecord{
		Title:     p.Title,
		Content:   p.Content,
		ImageURL:  p.ImageURL,
		Creator:   p.Creator.ID.Hex(),
		CreatedAt: p.CreatedAt,
		UpdatedAt: p.UpdatedAt,
	})
}

// decodePost returns the post without the creator's name; the caller fills
// it in from the users bucket.
func decodePost(id store.ID, data []byte) (store.Post, error) {
	var rec postRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return store.Post{}, fmt.Errorf("boltstore: decode post %s: %w", id.Hex(), err)
	}
	creator, err := store.ParseID(rec.Creator)
	if err != nil {
		return store.Post{}, fmt.Errorf("boltstore: decode post %s: bad creator id %q", id.Hex(), rec.Creator)
	}
	return store.Post{
		ID:        id,
		Title:     rec.Title,
		Content:   rec.Content,
		ImageURL:  rec.ImageURL,
		Creator:   store.Creator{ID: creator},
		CreatedAt: store.StoredTime(rec.CreatedAt),
		UpdatedAt: store.StoredTime(rec.UpdatedAt),
	}, nil
}

// timeKeyLen is the length of a posts_by_created key: 8 bytes of time, then
// the 12-byte post id, which breaks ties between posts of the same instant.
const timeKeyLen = 8 + len(store.ID{})

// timeKey builds the index key of a post. The sign bit of the nanoseconds is
// flipped so that byte order equals time order even before 1970; bbolt keeps
// keys in byte order, so a cursor walks posts in time order.
func timeKey(createdAt time.Time, id store.ID) []byte {
	k := make([]byte, timeKeyLen)
	binary.BigEndian.PutUint64(k, uint64(createdAt.UnixNano())^(1<<63))
	copy(k[8:], id[:])
	return k
}

// idFromTimeKey extracts the post id from an index key. It copies, because
// bbolt's key slices are only valid inside the transaction.
func idFromTimeKey(k []byte) (store.ID, error) {
	var id store.ID
	if len(k) != timeKeyLen {
		return id, fmt.Errorf("boltstore: index key of length %d, want %d", len(k), timeKeyLen)
	}
	copy(id[:], k[8:])
	return id, nil
}

func encodeCount(n uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, n)
}

// decodeCount reads the post counter; a missing counter means no posts yet.
func decodeCount(v []byte) (uint64, error) {
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("boltstore: post counter of length %d, want 8", len(v))
}
