package mongostore

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"feedrt/store"
)

// store.ID and bson.ObjectID are the same 12 bytes, so a conversion
// (bson.ObjectID(id), store.ID(oid)) is all that crosses the edge. The
// documents below hold bson.ObjectID so that ids are BSON ObjectIds, as
// mongoose writes them; a store.ID handed to the driver as it is would be
// written as binary data, which is why Open's registry refuses it.

// oids converts ids for the driver.
func oids(ids []store.ID) []bson.ObjectID {
	out := make([]bson.ObjectID, len(ids))
	for i, id := range ids {
		out[i] = bson.ObjectID(id)
	}
	return out
}

// fromOIDs converts ids read from a document; the result is never nil,
// since a user with no posts has an empty list, as mongoose gives it.
func fromOIDs(oids []bson.ObjectID) []store.ID {
	out := make([]store.ID, len(oids))
	for i, id := range oids {
		out[i] = store.ID(id)
	}
	return out
}

// Field names, as the mongoose schemas spell them.
const (
	fID        = "_id"
	fEmail     = "email"
	fName      = "name"
	fStatus    = "status"
	fPosts     = "posts"
	fTitle     = "title"
	fContent   = "content"
	fImageURL  = "imageUrl"
	fCreator   = "creator"
	fCreatedAt = "createdAt"
	fUpdatedAt = "updatedAt"
	fVersion   = "__v" // mongoose's version key
)

// userDoc is a users document as read. It leaves out __v, whose numeric
// type this store does not care about, and has Status as a pointer to tell
// a missing status (mongoose fills in the schema default) from an empty one.
// Fields it does not name are ignored.
type userDoc struct {
	ID        bson.ObjectID   `bson:"_id"`
	Email     string          `bson:"email"`
	Password  string          `bson:"password"`
	Name      string          `bson:"name"`
	Status    *string         `bson:"status"`
	Posts     []bson.ObjectID `bson:"posts"`
	CreatedAt time.Time       `bson:"createdAt"`
	UpdatedAt time.Time       `bson:"updatedAt"`
}

// newUserDoc is a users document as mongoose's save writes it for a new
// user: every field present, posts an empty array (never null), __v 0. The
// inlined userDoc writes its fields first and in its order, then __v, which
// is mongoose's order; Status must not be nil, or status would be null.
type newUserDoc struct {
	Doc     userDoc `bson:",inline"` // exported: the driver skips an unexported embedded field
	Version int32   `bson:"__v"`
}

func (d userDoc) user() store.User {
	u := store.User{
		ID:        store.ID(d.ID),
		Email:     d.Email,
		Password:  d.Password,
		Name:      d.Name,
		Status:    store.DefaultStatus,
		Posts:     fromOIDs(d.Posts),
		CreatedAt: readTime(d.CreatedAt, d.ID),
		UpdatedAt: readTime(d.UpdatedAt, d.ID),
	}
	if d.Status != nil {
		u.Status = *d.Status
	}
	return u
}

// postDoc is a posts document as read; see userDoc.
type postDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	Title     string        `bson:"title"`
	ImageURL  string        `bson:"imageUrl"`
	Content   string        `bson:"content"`
	Creator   bson.ObjectID `bson:"creator"`
	CreatedAt time.Time     `bson:"createdAt"`
	UpdatedAt time.Time     `bson:"updatedAt"`
}

// newPostDoc is a posts document as mongoose's save writes it: postDoc's
// fields in its order, then __v 0.
type newPostDoc struct {
	Doc     postDoc `bson:",inline"`
	Version int32   `bson:"__v"`
}

// post converts d; the creator's name is filled in by the caller.
func (d postDoc) post() store.Post {
	return store.Post{
		ID:        store.ID(d.ID),
		Title:     d.Title,
		Content:   d.Content,
		ImageURL:  d.ImageURL,
		Creator:   store.Creator{ID: store.ID(d.Creator)},
		CreatedAt: readTime(d.CreatedAt, d.ID),
		UpdatedAt: readTime(d.UpdatedAt, d.ID),
	}
}

// postProjection reads only the fields postDoc has.
var postProjection = bson.D{
	{Key: fTitle, Value: 1}, {Key: fImageURL, Value: 1}, {Key: fContent, Value: 1},
	{Key: fCreator, Value: 1}, {Key: fCreatedAt, Value: 1}, {Key: fUpdatedAt, Value: 1},
}

// readTime returns a stored time in UTC. A document written before the
// schema had timestamps has none; the creation time in its ObjectID is then
// the best answer, and better than the year 1 in the API.
func readTime(t time.Time, id bson.ObjectID) time.Time {
	if t.IsZero() {
		return id.Timestamp().UTC()
	}
	return store.StoredTime(t)
}
