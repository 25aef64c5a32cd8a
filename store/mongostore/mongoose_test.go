package mongostore_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"feedrt/store"
	"feedrt/store/mongostore"
	"feedrt/store/storetest"
)

// TestReadsMongooseDocuments writes documents exactly as the Node app's
// mongoose models save them (field order, __v, a user from before the
// status field existed, fields this store does not know) and then works on
// them through the store, as during a migration from the Node back end.
func TestReadsMongooseDocuments(t *testing.T) {
	ctx := t.Context()
	name := useDatabase(t)
	db := raw.Database(name)

	ms := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	annID, bobID := store.NewID(), store.NewID()
	p1, p2, p3 := store.NewID(), store.NewID(), store.NewID()
	t1, t2, t3 := ms("2024-03-01T10:00:00.123Z"), ms("2024-03-02T10:00:00.456Z"), ms("2024-03-03T10:00:00.789Z")

	// new User({email, password, name}).save(), then two posts pushed with
	// user.save(): __v counts the array changes.
	ann := bson.D{
		{Key: "email", Value: "ann@example.com"}, {Key: "password", Value: "$2a$12$annhash"},
		{Key: "name", Value: "Ann"}, {Key: "status", Value: "Writing"},
		{Key: "posts", Value: bson.A{bson.ObjectID(p1), bson.ObjectID(p3)}}, {Key: "_id", Value: bson.ObjectID(annID)},
		{Key: "createdAt", Value: t1.Add(-time.Hour)}, {Key: "updatedAt", Value: t3},
		{Key: "__v", Value: int32(2)},
	}
	// A user saved before the schema had status, with a field it no longer has.
	bob := bson.D{
		{Key: "email", Value: "bob@example.com"}, {Key: "password", Value: "$2a$12$bobhash"},
		{Key: "name", Value: "Bob"}, {Key: "posts", Value: bson.A{bson.ObjectID(p2)}},
		{Key: "resetToken", Value: "abc"}, {Key: "_id", Value: bson.ObjectID(bobID)},
		{Key: "createdAt", Value: t1.Add(-2 * time.Hour)}, {Key: "updatedAt", Value: t2},
		{Key: "__v", Value: int32(1)},
	}
	post := func(id, creator store.ID, title string, at time.Time) bson.D {
		return bson.D{
			{Key: "title", Value: title}, {Key: "imageUrl", Value: "images/" + title + ".png"},
			{Key: "content", Value: "Content of " + title}, {Key: "creator", Value: bson.ObjectID(creator)},
			{Key: "_id", Value: bson.ObjectID(id)}, {Key: "createdAt", Value: at}, {Key: "updatedAt", Value: at},
			{Key: "__v", Value: int32(0)},
		}
	}
	if _, err := db.Collection("users").InsertMany(ctx, []any{ann, bob}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("posts").InsertMany(ctx, []any{
		post(p1, annID, "first", t1), post(p2, bobID, "second", t2), post(p3, annID, "third", t3),
	}); err != nil {
		t.Fatal(err)
	}

	s, err := mongostore.Open(ctx, serverURI, name)
	if err != nil {
		t.Fatalf("Open over mongoose data: %v", err)
	}
	defer s.Close()

	// Users.
	gotAnn, err := s.UserByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	if gotAnn.ID != annID || gotAnn.Name != "Ann" || gotAnn.Password != "$2a$12$annhash" || gotAnn.Status != "Writing" ||
		!slices.Equal(gotAnn.Posts, []store.ID{p1, p3}) || !gotAnn.CreatedAt.Equal(t1.Add(-time.Hour)) ||
		!gotAnn.UpdatedAt.Equal(t3) || gotAnn.CreatedAt.Location() != time.UTC {
		t.Errorf("Ann = %+v", gotAnn)
	}
	gotBob, err := s.UserByID(ctx, bobID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if gotBob.Status != store.DefaultStatus || gotBob.Email != "bob@example.com" || !slices.Equal(gotBob.Posts, []store.ID{p2}) {
		t.Errorf("Bob (no status field) = %+v, want the default status", gotBob)
	}
	dup := store.User{Email: "ann@example.com", Password: "x", Name: "Impostor"}
	if err := s.CreateUser(ctx, &dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser with a mongoose user's e-mail: error = %v, want ErrConflict", err)
	}

	// Posts, newest first, with creator names.
	posts, total, err := s.ListPosts(ctx, 0, 2)
	if err != nil {
		t.Fatalf("ListPosts: %v", err)
	}
	if total != 3 || len(posts) != 2 || posts[0].ID != p3 || posts[1].ID != p2 {
		t.Fatalf("ListPosts = %+v, total %d; want third, second of 3", posts, total)
	}
	if posts[0].Creator != (store.Creator{ID: annID, Name: "Ann"}) || posts[1].Creator != (store.Creator{ID: bobID, Name: "Bob"}) ||
		posts[0].Title != "third" || posts[0].ImageURL != "images/third.png" || posts[0].Content != "Content of third" ||
		!posts[0].CreatedAt.Equal(t3) || !posts[0].UpdatedAt.Equal(t3) {
		t.Errorf("ListPosts page = %+v", posts)
	}
	got, err := s.PostByID(ctx, p1)
	if err != nil || got.Title != "first" || got.Creator.Name != "Ann" || !got.CreatedAt.Equal(t1) {
		t.Errorf("PostByID = %+v, %v", got, err)
	}

	// Update keeps what the store does not touch, mongoose's __v included.
	upd := store.Post{ID: p1, Title: "first, edited", Content: "new", ImageURL: "images/new.png"}
	if _, err := s.UpdatePost(ctx, &upd); err != nil {
		t.Fatalf("UpdatePost: %v", err)
	}
	if upd.Creator.Name != "Ann" || !upd.CreatedAt.Equal(t1) || !upd.UpdatedAt.After(t3) {
		t.Errorf("UpdatePost result = %+v", upd)
	}
	doc := rawDoc(t, db.Collection("posts"), p1)
	if doc.Lookup("title").StringValue() != "first, edited" || doc.Lookup("__v").Int32() != 0 ||
		doc.Lookup("creator").ObjectID() != bson.ObjectID(annID) || !doc.Lookup("createdAt").Time().Equal(t1) {
		t.Errorf("updated post document = %v", doc)
	}

	// Delete pulls the id from the creator, bumping __v like user.save().
	if _, err := s.DeletePost(ctx, p1); err != nil {
		t.Fatalf("DeletePost: %v", err)
	}
	annDoc := rawDoc(t, db.Collection("users"), annID)
	if ids, _ := annDoc.Lookup("posts").Array().Values(); len(ids) != 1 || ids[0].ObjectID() != bson.ObjectID(p3) {
		t.Errorf("Ann's posts after delete = %v, want [%s]", ids, p3.Hex())
	}
	if v := annDoc.Lookup("__v").Int32(); v != 3 {
		t.Errorf("Ann's __v after delete = %d, want 3", v)
	}

	// A new post by the status-less user; the unknown field survives.
	np := storetest.MustCreatePost(t, s, bobID, "fourth")
	if np.Creator.Name != "Bob" {
		t.Errorf("new post's creator = %+v", np.Creator)
	}
	bobDoc := rawDoc(t, db.Collection("users"), bobID)
	if ids, _ := bobDoc.Lookup("posts").Array().Values(); len(ids) != 2 || ids[1].ObjectID() != bson.ObjectID(np.ID) {
		t.Errorf("Bob's posts = %v, want [%s %s]", ids, p2.Hex(), np.ID.Hex())
	}
	if bobDoc.Lookup("resetToken").StringValue() != "abc" || bobDoc.Lookup("__v").Int32() != 2 {
		t.Errorf("Bob's document = %v", bobDoc)
	}
	if posts, total, err := s.ListPosts(ctx, 0, 1); err != nil || total != 3 || posts[0].ID != np.ID {
		t.Errorf("ListPosts after create = %+v, %d, %v", posts, total, err)
	}
}
