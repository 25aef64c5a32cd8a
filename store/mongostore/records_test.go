package mongostore

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"feedrt/store"
	"feedrt/store/storetest"
)

// encode writes v as a BSON document with the registry Open gives the
// driver.
func encode(v any) (bson.Raw, error) {
	var buf bytes.Buffer
	enc := bson.NewEncoder(bson.NewDocumentWriter(&buf))
	enc.SetRegistry(registry())
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// TestIDsAreObjectIDs holds store.ID to the ObjectID it replaced: the same
// ids parse, to the same bytes, with the same text and JSON, so converting
// at the store's edge loses nothing and old data and links keep working.
func TestIDsAreObjectIDs(t *testing.T) {
	for _, tc := range storetest.IDTexts() {
		s := tc.In
		id, err := store.ParseID(s)
		oid, oerr := bson.ObjectIDFromHex(s)
		if (err == nil) != (oerr == nil) {
			t.Errorf("ParseID(%q) error = %v, ObjectIDFromHex error = %v; want both or neither", s, err, oerr)
			continue
		}
		if err != nil {
			continue
		}
		if bson.ObjectID(id) != oid || id.Hex() != oid.Hex() {
			t.Errorf("%q: store.ID %s, ObjectID %s", s, id.Hex(), oid.Hex())
		}
		sj, _ := json.Marshal(id)
		oj, _ := json.Marshal(oid)
		if !bytes.Equal(sj, oj) {
			t.Errorf("%q: JSON %s, ObjectID's %s", s, sj, oj)
		}
	}

	at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	if got := bson.ObjectID(store.NewIDAt(at)).Timestamp(); !got.Equal(at) {
		t.Errorf("ObjectID timestamp of a new id = %v, want %v", got, at)
	}
}

// TestRegistryRefusesStoreIDs: a store.ID handed to the driver unconverted
// would be written as binary data, not an ObjectId; the store's registry
// makes that mistake an error instead of a filter that matches nothing.
func TestRegistryRefusesStoreIDs(t *testing.T) {
	for name, v := range map[string]any{
		"id":    store.NewID(),
		"slice": []store.ID{store.NewID()},
	} {
		if _, err := encode(bson.D{{Key: "_id", Value: v}}); err == nil {
			t.Errorf("%s: a store.ID was encoded", name)
		}
	}
	if _, err := encode(bson.D{{Key: "_id", Value: bson.ObjectID(store.NewID())}}); err != nil {
		t.Errorf("a converted id: %v", err)
	}
}

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
		raw, err := encode(tc.doc)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		elems, err := raw.Elements()
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
