package nodewire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

type creator struct {
	ID   string `json:"_id"`
	Name string `json:"name"`
}

type post struct {
	ID        string  `json:"_id"`
	Title     string  `json:"title"`
	Content   string  `json:"content"`
	ImageURL  string  `json:"imageUrl"`
	Creator   creator `json:"creator"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
	skipped   int
	Hidden    string `json:"-"`
	Empty     string `json:"empty,omitempty"`
}

type embedded struct {
	creator
	Extra int `json:"extra"`
}

// ordered is an Ordered object with keys out of alphabetical order.
type ordered struct {
	keys   []string
	values []any
}

func (o ordered) Len() int                  { return len(o.keys) }
func (o ordered) Entry(i int) (string, any) { return o.keys[i], o.values[i] }

// TestAppendValue holds the writer (the adapters' and the msgpack
// parser's, alike) to the bytes notepack.io 2.2.0
// (socket.io-msgpack-parser 3.0.2's) writes for the same JavaScript
// values, taken from it with Node.
func TestAppendValue(t *testing.T) {
	hexRepeat := func(prefix, unit string, n int) string { return prefix + strings.Repeat(unit, n) }
	postHex := "87a35f6964a3356631a57469746c65a7512641203c623ea7636f6e74656e74a178a8696d61676555726cac696d616765732f612e706e67a763726561746f7282a35f6964a27531a46e616d65a3416e6ea9637265617465644174b8323032342d30312d30325430333a30343a30352e3030365aa9757064617465644174b8323032342d30312d30325430333a30343a30352e3030365a"
	p := post{ID: "5f1", Title: "Q&A <b>", Content: "x", ImageURL: "images/a.png", Creator: creator{"u1", "Ann"},
		CreatedAt: "2024-01-02T03:04:05.006Z", UpdatedAt: "2024-01-02T03:04:05.006Z", skipped: 1, Hidden: "h"}
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"zero", 0, "00"},
		{"negative zero", math.Copysign(0, -1), "00"},
		{"fixint", 127, "7f"},
		{"uint8", 128.0, "cc80"},
		{"uint8 max", uint8(255), "ccff"},
		{"uint16", 256, "cd0100"},
		{"uint16 max", 65535.0, "cdffff"},
		{"uint32", int32(65536), "ce00010000"},
		{"uint32 max", uint32(4294967295), "ceffffffff"},
		{"uint64", int64(4294967296), "cf0000000100000000"},
		{"2^53 as float", float64(1 << 53), "cf0020000000000000"},
		{"negative fixint", -32, "e0"},
		{"int8", -33.0, "d0df"},
		{"int8 min", int8(-128), "d080"},
		{"int16", -129, "d1ff7f"},
		{"int16 min", int16(-32768), "d18000"},
		{"int32", -32769, "d2ffff7fff"},
		{"int32 min", -2147483648.0, "d280000000"},
		{"int64", int64(-2147483649), "d3ffffffff7fffffff"},
		{"-2^53 as float", -float64(1 << 53), "d3ffe0000000000000"},
		{"float", 1.5, "cb3ff8000000000000"},
		{"negative float", -0.25, "cbbfd0000000000000"},
		{"pi", math.Pi, "cb400921fb54442d18"},
		{"NaN", math.NaN(), "cb7ff8000000000000"},
		{"Infinity", math.Inf(1), "cb7ff0000000000000"},
		{"float32 as its shortest text", float32(1.1), "cb3ff199999999999a"},
		{"empty string", "", "a0"},
		{"fixstr 31", strings.Repeat("a", 31), hexRepeat("bf", "61", 31)},
		{"str8 32", strings.Repeat("a", 32), hexRepeat("d920", "61", 32)},
		{"str8 255", strings.Repeat("b", 255), hexRepeat("d9ff", "62", 255)},
		{"str16 256", strings.Repeat("c", 256), hexRepeat("da0100", "63", 256)},
		{"utf-8", "héllo €𝄞", "ae68c3a96c6c6f20e282acf09d849e"},
		{"true", true, "c3"},
		{"false", false, "c2"},
		{"nil", nil, "c0"},
		{"array", []any{1, "a", []any{2}, map[string]any{}}, "9401a161910280"},
		{"array16", make([]any, 16), hexRepeat("dc0010", "c0", 16)},
		{"int array16", make([]int, 16), hexRepeat("dc0010", "00", 16)},
		{"map keys sorted", map[string]any{"b": 1, "a": 2}, "82a16102a16201"},
		{"ordered keys kept", ordered{[]string{"b", "a"}, []any{1, 2}}, "82a16201a16102"},
		{"bin", []byte{1, 2, 3}, "c403010203"},
		{"bin16", bytes.Repeat([]byte{7}, 256), hexRepeat("c50100", "07", 256)},
		{"library buffer", types.NewBytesBuffer([]byte{1, 2, 3}), "c403010203"},
		{"string buffer", types.NewStringBufferString("ab"), "a26162"},
		{"strings.Reader", strings.NewReader("ab"), "a26162"},
		{"struct by json tags", p, postHex},
		{"pointer to struct", &p, postHex},
		{"nil pointer", (*post)(nil), "c0"},
		{"nil pointers with methods", []any{(*bytes.Buffer)(nil), (*strings.Reader)(nil), (*time.Time)(nil), (*ordered)(nil)}, "94c0c0c0c0"},
		{"nil []any is []", []any(nil), "90"},
		{"nil []any inside is null", []any{[]any(nil), map[string]any{"a": []any(nil)}}, "92c081a161c0"},
		{"nil []any field is null", struct {
			A []any `json:"a"`
		}{}, "81a161c0"},
		{"nil other slice is null", []string(nil), "c0"},
		{"int-keyed map", map[int]string{10: "a", 9: "b"}, "82a23130a161a139a162"},
		{"embedded struct through JSON", embedded{creator{"u1", "Ann"}, 3}, "83a35f6964a27531a46e616d65a3416e6ea5657874726103"},
		{"json.Number integer past 2^53, exact", json.Number("9007199254740993"), "cf0020000000000001"},
		{"json.Number negative", json.Number("-33"), "d0df"},
		{"json.Number fraction", json.Number("1.5"), "cb3ff8000000000000"},
		{"time.Time through JSON", time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC), "b8323032342d30312d30325430333a30343a30352e3030365a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, appendValue := range []func([]byte, any) ([]byte, error){AppendValue, AppendValueReading} {
				got, err := appendValue(nil, c.v)
				if err != nil {
					t.Fatal(err)
				}
				if h := hex.EncodeToString(got); h != c.want {
					t.Errorf("got  %s\nwant %s", h, c.want)
				}
			}
		})
	}
}

// TestEncodeCycle: a cycle ends in an error, not a stack overflow.
func TestAppendCycle(t *testing.T) {
	loop := []any{nil}
	loop[0] = loop
	if _, err := AppendValue(nil, loop); err != ErrDepth {
		t.Fatalf("err %v, want ErrDepth", err)
	}
}

// TestAppendReader: a reader other than text is read as binary by the
// parser's writer only; the adapters' refuse it, since reading it would
// leave nothing for the local delivery of the same packet.
func TestAppendReader(t *testing.T) {
	r := io.MultiReader(bytes.NewReader([]byte{1, 2}))
	if _, err := AppendValue(nil, []any{r}); err == nil {
		t.Error("AppendValue read a reader")
	}
	if got, err := AppendValueReading(nil, r); err != nil || hex.EncodeToString(got) != "c4020102" {
		t.Errorf("AppendValueReading: %x %v, want c4020102", got, err)
	}
}

// BenchmarkAppendPost: the data of one post broadcast, the feed's
// payload as a struct, as the adapters and the msgpack parser write it
// (once per broadcast, whatever the number of clients). Run:
//
//	go test ./server/nodewire -run '^$' -bench AppendPost
func BenchmarkAppendPost(b *testing.B) {
	at := "2026-01-02T03:04:05.006Z"
	data := []any{"posts", map[string]any{"action": "create",
		"post": post{"5f1", "A title", "Some content", "images/a.png", creator{"u1", "Ann"}, at, at, 0, "", ""}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendValue(nil, data); err != nil {
			b.Fatal(err)
		}
	}
}
