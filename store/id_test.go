package store_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"feedrt/store"
	"feedrt/store/storetest"
)

func TestParseID(t *testing.T) {
	for _, tc := range storetest.IDTexts() {
		id, err := store.ParseID(tc.In)
		switch {
		case tc.Want == "" && !errors.Is(err, store.ErrNotFound):
			t.Errorf("ParseID(%q) = %v, %v; want ErrNotFound", tc.In, id, err)
		case tc.Want == "" && !id.IsZero():
			t.Errorf("ParseID(%q) returned %v with its error, want the zero ID", tc.In, id)
		case tc.Want != "" && (err != nil || id.Hex() != tc.Want):
			t.Errorf("ParseID(%q) = %v, %v; want %s", tc.In, id, err, tc.Want)
		}
	}
}

func TestIDText(t *testing.T) {
	id, err := store.ParseID("65b3f7edd9bfca00daa6e3b3")
	if err != nil {
		t.Fatal(err)
	}
	if id.Hex() != "65b3f7edd9bfca00daa6e3b3" || id.String() != id.Hex() {
		t.Errorf("Hex = %s, String = %s", id.Hex(), id.String())
	}
	if id.IsZero() || !(store.ID{}).IsZero() {
		t.Error("IsZero is wrong")
	}

	// JSON: a string of the hex digits, as a value and as a map key.
	v := struct {
		ID    store.ID            `json:"id"`
		Names map[store.ID]string `json:"names"`
	}{id, map[store.ID]string{id: "ann"}}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"65b3f7edd9bfca00daa6e3b3","names":{"65b3f7edd9bfca00daa6e3b3":"ann"}}`
	if string(data) != want {
		t.Errorf("JSON = %s, want %s", data, want)
	}
	var back struct {
		ID    store.ID            `json:"id"`
		Names map[store.ID]string `json:"names"`
	}
	if err := json.Unmarshal(data, &back); err != nil || back.ID != id || back.Names[id] != "ann" {
		t.Errorf("JSON round trip = %+v, %v", back, err)
	}
	for _, bad := range []string{`"65b3"`, `"65b3f7edd9bfca00daa6e3bz"`, `12`, `{"$oid":"65b3f7edd9bfca00daa6e3b3"}`} {
		var got store.ID
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("json.Unmarshal(%s) = %v, want an error", bad, got)
		}
	}
}

func TestNewIDLayout(t *testing.T) {
	at := time.Date(2024, 3, 1, 10, 0, 0, 999e6, time.UTC)
	a, b := store.NewIDAt(at), store.NewIDAt(at)
	if got := binary.BigEndian.Uint32(a[:4]); int64(got) != at.Unix() {
		t.Errorf("time part = %d, want %d", got, at.Unix())
	}
	if a == b || !bytes.Equal(a[:9], b[:9]) {
		t.Errorf("two ids of one second: %s, %s; want the same first 9 bytes and different counters", a, b)
	}
	next := binary.BigEndian.Uint32(append([]byte{0}, a[9:]...)) + 1
	if got := binary.BigEndian.Uint32(append([]byte{0}, b[9:]...)); got != next&0xffffff {
		t.Errorf("counter went from %x to %x, want +1", a[9:], b[9:])
	}
	later := store.NewIDAt(at.Add(time.Second))
	if bytes.Compare(later[:], b[:]) <= 0 {
		t.Errorf("id of a later second %s does not sort after %s", later, b)
	}
	if now := store.NewID(); now.IsZero() ||
		time.Since(time.Unix(int64(binary.BigEndian.Uint32(now[:4])), 0)) > time.Minute {
		t.Errorf("NewID = %s, want one made now", now)
	}
}
