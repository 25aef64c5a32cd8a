package nodewire

import (
	"encoding/hex"
	"reflect"
	"testing"
)

// TestDecodeNotepack: a Node server's msgpack, as notepack.io writes its
// values (3.x, the Redis adapters'; 2.x, socket.io-msgpack-parser's: the
// bytes taken from them with Node), read as a cluster peer's data:
// objects in order, notepack's extensions as it reads them, integers
// exact. notepack 2's undefined and Date (type 0) failed the whole
// message before.
func TestDecodeNotepack(t *testing.T) {
	for _, c := range []struct {
		name, hex string
		want      any
	}{
		{"undefined field left out", "83a161d40000a16201a163d40000", Obj("b", 1.0)},
		{"undefined in an array is null", "92d4000001", []any{nil, 1.0}},
		{"notepack 2 Date is its ISO string", "81a164d7000000018cc820d88e", Obj("d", "2024-01-02T03:04:05.006Z")},
		{"timestamp 32", "d6ff65937d25", "2024-01-02T03:04:05.000Z"},
		{"timestamp 64", "d7ff016e360065937d25", "2024-01-02T03:04:05.006Z"},
		{"timestamp 96", "c70cff005b8d80ffffffff7ffffffd", "1901-12-13T20:45:49.006Z"},
		{"ArrayBuffer is binary", "c7020001ff", []byte{1, 0xff}},
		{"other extension is [type, binary]", "d50501ff", []any{5.0, []byte{1, 0xff}}},
		{"keys in the sender's order", "82a16201a16102", Obj("b", 1.0, "a", 2.0)},
		{"repeated key keeps its place, takes the last value", "83a16101a16202a16103", Obj("a", 3.0, "b", 2.0)},
		{"integer past 2^53 exact", "cf0020000000000001", int64(1<<53 + 1)},
		{"negative integer past -2^53 exact", "d3ffdfffffffffffff", int64(-(1<<53 + 1))},
		{"number key is its text", "8201a161cb3ff8000000000000a162", Obj("1", "a", "1.5", "b")},
		{"invalid UTF-8 replaced", "a2ff61", "\uFFFDa"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, _ := hex.DecodeString(c.hex)
			got, err := DecodeMsgpack(raw)
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, c.want)
			}
		})
	}
	for _, h := range []string{"", "c1", "81c3c0", "91", "dbffffffff", "0000"} {
		raw, _ := hex.DecodeString(h)
		if v, err := DecodeMsgpack(raw); err == nil {
			t.Errorf("%q decoded to %#v", h, v)
		}
	}
}

// FuzzDecodeMsgpack: whatever a peer sends, reading it ends in a value or
// an error, and a value read is written again without an error. Run
// longer with:
//
//	go test ./server/nodewire -run '^$' -fuzz FuzzDecodeMsgpack -fuzztime 5m
func FuzzDecodeMsgpack(f *testing.F) {
	for _, h := range []string{"83a161d40000a16201a163d40000", "d7ff016e360065937d25", "c70cff005b8d80ffffffff7ffffffd", "8201a161cb3ff8000000000000a162", "92c4020102dc0001c0"} {
		raw, _ := hex.DecodeString(h)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := DecodeMsgpack(raw)
		if err != nil {
			return
		}
		if _, err := AppendValue(nil, v); err != nil {
			t.Fatalf("%x read as %#v, which does not write: %v", raw, v, err)
		}
	})
}
