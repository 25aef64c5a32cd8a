package adminui

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// clock is a test clock moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSessions(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	ss := newSessions(time.Hour, 2, c.now)
	a := ss.create()
	if len(a) != 16 || !ss.valid(a) || ss.valid("0123456789abcdef") {
		t.Fatalf("session %q: valid %v", a, ss.valid(a))
	}
	c.t = c.t.Add(30 * time.Minute)
	b := ss.create()
	cc := ss.create() // past max: the oldest (a) goes
	if ss.valid(a) || !ss.valid(b) || !ss.valid(cc) {
		t.Errorf("after a third session: a %v, b %v, c %v; want a evicted", ss.valid(a), ss.valid(b), ss.valid(cc))
	}
	c.t = c.t.Add(time.Hour)
	if ss.valid(b) || ss.valid(cc) {
		t.Error("sessions valid past their TTL")
	}
	ss.create()
	if len(ss.expires) != 1 || len(ss.order) != 1 {
		t.Errorf("expired sessions kept: %v", ss.expires)
	}
}

func TestEventBuffer(t *testing.T) {
	b := eventBuffer{counts: map[eventKey]int{}}
	t0 := time.UnixMilli(1_700_000_000_250)
	b.push(t0, "rawConnection", "", 1)
	b.push(t0.Add(500*time.Millisecond), "rawConnection", "", 1) // same second
	b.push(t0.Add(time.Second), "rawDisconnection", "transport close", 1)
	got, _ := json.Marshal(b.drain())
	want := `[{"count":2,"timestamp":1700000000000,"type":"rawConnection"},{"count":1,"subType":"transport close","timestamp":1700000001000,"type":"rawDisconnection"}]`
	if string(got) != want {
		t.Errorf("drain:\n got %s\nwant %s", got, want)
	}
	if again := b.drain(); len(again) != 0 {
		t.Errorf("second drain %v, want empty", again)
	}
}

// ordered stands for a *nodewire.Object: data of another server's
// socket that is no Go map but marshals to a JSON object.
type ordered struct {
	Admin adminData `json:"_admin"`
	User  string    `json:"user"`
}

func TestSplitData(t *testing.T) {
	for _, tc := range []struct {
		name      string
		data      any
		wantRest  string
		wantAdmin adminData
	}{
		{"nil", nil, `{}`, adminData{}},
		{"map", map[string]any{"_admin": map[string]any{"clientId": "abc", "transport": "polling"}, "user": "ada"}, `{"user":"ada"}`, adminData{"abc", "polling"}},
		{"remote object", ordered{adminData{"def", "websocket"}, "bob"}, `{"user":"bob"}`, adminData{"def", "websocket"}},
		{"not an object", "plain", `"plain"`, adminData{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rest, admin := splitData(tc.data)
			if got, _ := json.Marshal(rest); string(got) != tc.wantRest || admin != tc.wantAdmin {
				t.Errorf("got %s %+v, want %s %+v", got, admin, tc.wantRest, tc.wantAdmin)
			}
		})
	}
}

func TestSplitAck(t *testing.T) {
	called := false
	args, ack := splitAck([]any{"/", "room", func([]any, error) { called = true }})
	if len(args) != 2 || ack == nil {
		t.Fatalf("args %v, ack %v", args, ack != nil)
	}
	answer(ack, nil)
	if !called {
		t.Error("ack not called")
	}
	if args, ack := splitAck([]any{"/", "room"}); len(args) != 2 || ack != nil {
		t.Errorf("without ack: %v %v", args, ack != nil)
	}
}

// TestInstrumentOptions: missing settings and a password that is no
// bcrypt hash are refused; Close stops the stats goroutine.
func TestInstrumentOptions(t *testing.T) {
	good := Options{
		Namespace: "/admin", Username: "admin",
		PasswordHash: "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS",
		ServerID:     "test", StatsInterval: time.Hour, SessionTTL: time.Hour, MaxSessions: 1, MaxCompares: 1,
		Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for name, edit := range map[string]func(*Options){
		"namespace": func(o *Options) { o.Namespace = "admin" },
		"username":  func(o *Options) { o.Username = "" },
		"hash":      func(o *Options) { o.PasswordHash = "changeit" },
		"interval":  func(o *Options) { o.StatsInterval = 0 },
		"server id": func(o *Options) { o.ServerID = "" },
	} {
		o := good
		edit(&o)
		if _, err := Instrument(socket.NewServer(nil, nil), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	a, err := Instrument(socket.NewServer(nil, nil), good)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	a.Close() // a second Close does nothing
	select {
	case <-a.done:
	default:
		t.Error("the stats goroutine still runs after Close")
	}
}
