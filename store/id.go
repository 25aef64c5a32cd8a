package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"
)

// ID identifies a user or a post: 12 bytes, written as 24 lower-case hex
// digits in text and JSON. It has the layout of a MongoDB ObjectID, the id
// the Node back end used, so ids stay interchangeable with data written by
// mongoose (store/mongostore converts at its edge; this package knows no
// driver):
//
//	bytes 0-3   seconds since the Unix epoch, big-endian
//	bytes 4-8   random, fixed for the process
//	bytes 9-11  a counter, big-endian, starting at a random value
//
// So ids made in a later second sort after earlier ones, and within a
// second and a process by creation order (until the counter wraps). The
// stores order posts by creation time and use the id only to break ties;
// mongostore also reads the creation time out of the id of a mongoose
// document that has no createdAt.
type ID [12]byte

// idProcess and idCounter are the random and the counting part of new ids,
// chosen once per process as MongoDB's drivers do.
var (
	idProcess [5]byte
	idCounter atomic.Uint32
)

func init() {
	// crypto/rand.Read never returns an error; it crashes the program
	// instead if the system has no randomness to give.
	_, _ = rand.Read(idProcess[:])
	var start [4]byte
	_, _ = rand.Read(start[:])
	idCounter.Store(binary.BigEndian.Uint32(start[:]))
}

// NewID returns a fresh id made now.
func NewID() ID { return NewIDAt(time.Now()) }

// NewIDAt returns a fresh id whose time part is t, to the second. Stores
// pass their own clock's time, so a post's id and its CreatedAt agree.
func NewIDAt(t time.Time) ID {
	var id ID
	binary.BigEndian.PutUint32(id[0:4], uint32(t.Unix()))
	copy(id[4:9], idProcess[:])
	n := idCounter.Add(1)
	id[9], id[10], id[11] = byte(n>>16), byte(n>>8), byte(n)
	return id
}

// ParseID parses a 24-hex id. A malformed id is reported as ErrNotFound,
// because to a client an id that cannot exist is an id that does not exist.
func ParseID(s string) (ID, error) {
	id, err := parseHex(s)
	if err != nil {
		return ID{}, ErrNotFound
	}
	return id, nil
}

// parseHex accepts exactly 24 hex digits. Upper-case digits are accepted
// too (hex.Decode takes them, and so did the ObjectID parser this replaces);
// Hex always writes lower case.
func parseHex(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return ID{}, fmt.Errorf("store: id %q is not 24 hex digits", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("store: id %q is not 24 hex digits: %w", s, err)
	}
	return id, nil
}

// Hex returns the id as 24 lower-case hex digits.
func (id ID) Hex() string { return hex.EncodeToString(id[:]) }

// String returns the id as Hex does, so ids print readably with %v.
func (id ID) String() string { return id.Hex() }

// IsZero reports whether id is the zero ID, which no store hands out.
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText returns the 24 hex digits. encoding/json uses it too, so an
// ID is a JSON string and can be a JSON object key.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.Hex()), nil }

// UnmarshalText parses 24 hex digits, as ParseID does, but with an error
// that says what was wrong rather than ErrNotFound.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := parseHex(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
