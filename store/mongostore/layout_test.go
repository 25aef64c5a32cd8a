package mongostore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"feedrt/store"
	"feedrt/store/mongostore"
	"feedrt/store/mongostore/ferretdbtest"
	"feedrt/store/storetest"
)

// rawDoc reads one document as BSON, bypassing the store.
func rawDoc(tb testing.TB, c *mongo.Collection, id store.ID) bson.Raw {
	tb.Helper()
	doc, err := c.FindOne(tb.Context(), bson.D{{Key: "_id", Value: bson.ObjectID(id)}}).Raw()
	if err != nil {
		tb.Fatalf("read %s %s: %v", c.Name(), id.Hex(), err)
	}
	return doc
}

// wantFields checks that doc has exactly the given fields with the given
// BSON types, as mongoose writes them, and returns doc for value checks.
func wantFields(tb testing.TB, what string, doc bson.Raw, want map[string]bson.Type) {
	tb.Helper()
	elems, err := doc.Elements()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	seen := map[string]bool{}
	for _, e := range elems {
		k := e.Key()
		seen[k] = true
		wt, ok := want[k]
		switch {
		case !ok:
			tb.Errorf("%s has a field %q that mongoose does not write", what, k)
		case e.Value().Type != wt:
			tb.Errorf("%s.%s is a BSON %v, want %v", what, k, e.Value().Type, wt)
		}
	}
	for k := range want {
		if !seen[k] {
			tb.Errorf("%s has no field %q", what, k)
		}
	}
}

// TestDocumentLayout reads what the store writes as raw BSON: the field
// names and types must be those of the Node app's mongoose models, so that
// the Node app can read the data too.
func TestDocumentLayout(t *testing.T) {
	ctx := t.Context()
	s, db := mustOpen(t)
	u := storetest.MustCreateUser(t, s, "layout@example.com", "Layla")

	userFields := map[string]bson.Type{
		"_id": bson.TypeObjectID, "email": bson.TypeString, "password": bson.TypeString,
		"name": bson.TypeString, "status": bson.TypeString, "posts": bson.TypeArray,
		"createdAt": bson.TypeDateTime, "updatedAt": bson.TypeDateTime, "__v": bson.TypeInt32,
	}
	doc := rawDoc(t, db.Collection("users"), u.ID)
	wantFields(t, "new user", doc, userFields)
	if got := doc.Lookup("status").StringValue(); got != store.DefaultStatus {
		t.Errorf("status = %q, want the default %q", got, store.DefaultStatus)
	}
	if got := doc.Lookup("email").StringValue(); got != "layout@example.com" {
		t.Errorf("email = %q", got)
	}
	if got, _ := doc.Lookup("posts").Array().Values(); len(got) != 0 {
		t.Errorf("posts of a new user = %v, want []", got)
	}
	if got := doc.Lookup("__v").Int32(); got != 0 {
		t.Errorf("__v of a new user = %d, want 0", got)
	}
	if got := doc.Lookup("createdAt").Time(); !got.Equal(u.CreatedAt) {
		t.Errorf("createdAt = %v, want %v", got, u.CreatedAt)
	}

	p := storetest.MustCreatePost(t, s, u.ID, "Layout")
	postDoc := rawDoc(t, db.Collection("posts"), p.ID)
	wantFields(t, "post", postDoc, map[string]bson.Type{
		"_id": bson.TypeObjectID, "title": bson.TypeString, "imageUrl": bson.TypeString,
		"content": bson.TypeString, "creator": bson.TypeObjectID,
		"createdAt": bson.TypeDateTime, "updatedAt": bson.TypeDateTime, "__v": bson.TypeInt32,
	})
	if got := postDoc.Lookup("creator").ObjectID(); got != bson.ObjectID(u.ID) {
		t.Errorf("creator = %s, want %s", got.Hex(), u.ID.Hex())
	}
	if got := postDoc.Lookup("imageUrl").StringValue(); got != "images/Layout.png" {
		t.Errorf("imageUrl = %q", got)
	}
	if got := postDoc.Lookup("createdAt").Time(); !got.Equal(p.CreatedAt) {
		t.Errorf("post createdAt = %v, want %v", got, p.CreatedAt)
	}

	// The user now lists the post, by ObjectID, and the array change bumped
	// __v as mongoose's save does.
	doc = rawDoc(t, db.Collection("users"), u.ID)
	wantFields(t, "user with a post", doc, userFields)
	vals, err := doc.Lookup("posts").Array().Values()
	if err != nil || len(vals) != 1 || vals[0].Type != bson.TypeObjectID || vals[0].ObjectID() != bson.ObjectID(p.ID) {
		t.Errorf("posts = %v (%v), want [ObjectId(%s)]", vals, err, p.ID.Hex())
	}
	if got := doc.Lookup("__v").Int32(); got != 1 {
		t.Errorf("__v after a push = %d, want 1", got)
	}

	if err := s.UpdateUserStatus(ctx, u.ID, "Busy"); err != nil {
		t.Fatal(err)
	}
	if got := rawDoc(t, db.Collection("users"), u.ID).Lookup("status").StringValue(); got != "Busy" {
		t.Errorf("status after UpdateUserStatus = %q", got)
	}

	checkIndexes(t, db)
}

// checkIndexes checks the indexes Open creates: a unique one on
// users.email and one led by posts.createdAt.
func checkIndexes(t *testing.T, db *mongo.Database) {
	t.Helper()
	type index struct {
		Key    bson.D `bson:"key"`
		Unique bool   `bson:"unique"`
	}
	list := func(coll string) []index {
		cur, err := db.Collection(coll).Indexes().List(t.Context())
		if err != nil {
			t.Fatalf("list indexes of %s: %v", coll, err)
		}
		var out []index
		if err := cur.All(t.Context(), &out); err != nil {
			t.Fatalf("list indexes of %s: %v", coll, err)
		}
		return out
	}
	if !slices.ContainsFunc(list("users"), func(i index) bool {
		return len(i.Key) == 1 && i.Key[0].Key == "email" && i.Unique
	}) {
		t.Errorf("users has no unique index on email: %+v", list("users"))
	}
	if !slices.ContainsFunc(list("posts"), func(i index) bool {
		return len(i.Key) > 0 && i.Key[0].Key == "createdAt"
	}) {
		t.Errorf("posts has no index on createdAt: %+v", list("posts"))
	}
}

// TestOpenTwice checks that creating the indexes again is harmless, so
// every server start (and several servers) may call Open.
func TestOpenTwice(t *testing.T) {
	s, db := mustOpen(t)
	u := storetest.MustCreateUser(t, s, "again@example.com", "Again")
	s2, err := mongostore.Open(t.Context(), serverURI, db.Name())
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s2.Close()
	if got, err := s2.UserByID(t.Context(), u.ID); err != nil || got.Email != u.Email {
		t.Errorf("second store reads %+v, %v", got, err)
	}
}

// TestOpenDatabaseFromURI checks that a database in the URI path wins over
// the dbName argument, as for the Node app, whose URI names the database.
func TestOpenDatabaseFromURI(t *testing.T) {
	name := useDatabase(t)
	s, err := mongostore.Open(t.Context(), ferretdbtest.WithDatabase(serverURI, name), "not_this_one")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	u := storetest.MustCreateUser(t, s, "path@example.com", "Path")
	rawDoc(t, raw.Database(name).Collection("users"), u.ID)

	if _, err := mongostore.Open(t.Context(), serverURI, ""); err == nil {
		t.Error("Open with no database anywhere succeeded")
	}
	if _, err := mongostore.Open(t.Context(), "http://example.com", "db"); err == nil {
		t.Error("Open with a non-MongoDB URI succeeded")
	}
}

// TestOpenReportsDuplicateEmails: the Node app's schema has no unique
// index, so an old database may hold two users with one e-mail. Open must
// then fail and say why, not start without the index.
func TestOpenReportsDuplicateEmails(t *testing.T) {
	name := useDatabase(t)
	users := raw.Database(name).Collection("users")
	for range 2 {
		if _, err := users.InsertOne(t.Context(), bson.D{{Key: "email", Value: "twice@example.com"}}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := mongostore.Open(t.Context(), serverURI, name)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open over duplicate e-mails succeeded")
	}
	if !strings.Contains(err.Error(), "duplicate") || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open error = %v, want one that names the duplicates", err)
	}
	t.Logf("Open: %v", err)
}

// TestOpenUnreachable: with no server, Open fails within its timeouts with
// an error wrapping store.ErrUnavailable.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// A port nobody listens on: a listener's, closed again.
	uri := "mongodb://" + closedAddr(t) + "/"
	start := time.Now()
	s, err := mongostore.Open(ctx, uri, "nowhere", mongostore.WithServerSelectionTimeout(500*time.Millisecond))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Open took %v without a server, want about the server selection timeout", took)
	}
	if err == nil {
		_ = s.Close()
		t.Fatal("Open without a server succeeded")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open error = %v, want ErrUnavailable", err)
	}
}
