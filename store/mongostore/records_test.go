package mongostore

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestWrittenFieldOrder pins the order in which the written documents put
// their fields, which layout_test.go (a set of names and types) does not:
// the inlined read document first, in its order, then __v.
func TestWrittenFieldOrder(t *testing.T) {
	id, now, status := bson.NewObjectID(), time.Now(), "Hi"
	for _, tc := range []struct {
		name string
		doc  any
		want []string
	}{
		{"user", newUserDoc{Doc: userDoc{ID: id, Status: &status, Posts: []bson.ObjectID{}, CreatedAt: now, UpdatedAt: now}},
			[]string{fID, fEmail, "password", fName, fStatus, fPosts, fCreatedAt, fUpdatedAt, fVersion}},
		{"post", newPostDoc{Doc: postDoc{ID: id, Creator: id, CreatedAt: now, UpdatedAt: now}},
			[]string{fID, fTitle, fImageURL, fContent, fCreator, fCreatedAt, fUpdatedAt, fVersion}},
	} {
		var buf bytes.Buffer
		enc := bson.NewEncoder(bson.NewDocumentWriter(&buf))
		enc.SetRegistry(registry())
		if err := enc.Encode(tc.doc); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		elems, err := bson.Raw(buf.Bytes()).Elements()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, e := range elems {
			got = append(got, e.Key())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s fields are written as %q, want %q", tc.name, got, tc.want)
		}
	}
}
