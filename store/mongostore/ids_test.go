package mongostore_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"feedrt/store"
	"feedrt/store/mongostore"
	"feedrt/store/storetest"
)

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
		enc := bson.NewEncoder(bson.NewDocumentWriter(new(bytes.Buffer)))
		enc.SetRegistry(mongostore.Registry())
		if err := enc.Encode(bson.D{{Key: "_id", Value: v}}); err == nil {
			t.Errorf("%s: a store.ID was encoded", name)
		}
	}
	enc := bson.NewEncoder(bson.NewDocumentWriter(new(bytes.Buffer)))
	enc.SetRegistry(mongostore.Registry())
	if err := enc.Encode(bson.D{{Key: "_id", Value: bson.ObjectID(store.NewID())}}); err != nil {
		t.Errorf("a converted id: %v", err)
	}
}
