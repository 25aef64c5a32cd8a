package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCheckTargetRefusesNonLoopback(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{
		"http://10.0.0.1:8080", "http://192.168.1.10", "http://172.16.0.1", "http://8.8.8.8",
		"http://[::ffff:10.0.0.1]:80", "http://[2001:db8::1]", "http://0.0.0.0:8080",
		"ftp://127.0.0.1", "127.0.0.1:8080", "http://",
	} {
		if _, err := checkTarget(ctx, u); err == nil {
			t.Errorf("checkTarget(%q) accepted it", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://127.3.2.1", "http://[::1]:8080/", "http://localhost:8080"} {
		if _, err := checkTarget(ctx, u); err != nil {
			t.Errorf("checkTarget(%q): %v", u, err)
		}
	}
}

func TestLoopbackDialerRefusesBeforeConnecting(t *testing.T) {
	// Control runs before connect(2), so nothing leaves the machine.
	_, err := loopbackDialer(time.Second).Dial("tcp", "10.255.255.1:9")
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("dial 10.255.255.1: %v, want errNotLoopback", err)
	}
}

// TestPollClientDialsLoopbackOnly: the long-polling client's requests go
// through the same check, whatever address a URL names.
func TestPollClientDialsLoopbackOnly(t *testing.T) {
	u, _ := url.Parse("http://10.255.255.1:9")
	_, _, err := newPollClient(u, 1).Get(nil, "http://10.255.255.1:9/socket.io/")
	if !errors.Is(err, errNotLoopback) {
		t.Fatalf("GET 10.255.255.1: %v, want errNotLoopback", err)
	}
}

func TestCLIRefusesNonLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := cli(context.Background(), []string{"-url", "http://192.168.0.1:8080", "-clients", "1"}, &out, &errOut); code != 2 {
		t.Fatalf("exit %d, want 2; stderr %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "not a loopback address") {
		t.Errorf("stderr %q", errOut.String())
	}
}

func TestOnEvent(t *testing.T) {
	s := &eventSink{base: time.Now(), marker: []byte("foabcdn"), posts: 3}
	c := &client{got: make([]time.Duration, 3)}
	post := func(seq int) string {
		return fmt.Sprintf(`{"action":"create","post":{"_id":"0123456789abcdef01234567","title":"foabcdn%d fan-out benchmark post","content":"hello","imageUrl":"images/x.png","creator":{"_id":"0123456789abcdef01234567","name":"A"},"createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-01T00:00:00.000Z"}}`, seq)
	}
	if err := s.onSocketIO(c, []byte(`2["posts",`+post(2)+`]`), 5); err != nil {
		t.Fatal(err)
	}
	if err := s.onSocketIO(c, []byte(`2["posts",`+post(0)+`,"offset-1"]`), 7); err != nil { // with a CSR offset
		t.Fatal(err)
	}
	_ = s.onSocketIO(c, []byte(`2["posts",`+post(0)+`]`), 9)                              // duplicate
	_ = s.onSocketIO(c, []byte(`2["other",{}]`), 9)                                       // foreign
	_ = s.onSocketIO(c, []byte(`2["posts",{"action":"create","post":{"title":"x"}}]`), 9) // another run's
	if c.got[2] != 5 || c.got[0] != 7 || c.got[1] != 0 {
		t.Errorf("got %v", c.got)
	}
	if s.received.Load() != 2 || s.duplicates.Load() != 1 || s.foreign.Load() != 2 || s.bad.Load() != 0 {
		t.Errorf("received %d duplicates %d foreign %d bad %d (%s)", s.received.Load(), s.duplicates.Load(), s.foreign.Load(), s.bad.Load(), s.badSample)
	}
	if err := s.onSocketIO(c, []byte(`1`), 10); err == nil {
		t.Error("DISCONNECT not reported")
	}
	if err := verifyEvent([]byte(`["posts",{"action":"update","post":{}}]`), "foabcdn"); err == nil {
		t.Error("verifyEvent accepted an update without fields")
	}
	if err := verifyEvent([]byte(`["posts",`+post(1)+`,7]`), "foabcdn"); err == nil {
		t.Error("verifyEvent accepted a non-string offset")
	}
}

func TestPollingSpread(t *testing.T) {
	for _, tc := range []struct {
		n     int
		share float64
		want  int
	}{{200, 0.05, 10}, {1000, 0.05, 50}, {10, 0, 0}, {10, 1, 10}, {3, 0.5, 2}} {
		got := 0
		for i := range tc.n {
			if isPolling(i, tc.n, tc.share) {
				got++
			}
		}
		if got != tc.want {
			t.Errorf("n=%d share=%v: %d polling, want %d", tc.n, tc.share, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if p := percentile(d, 50); p != 5 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(d, 99); p != 10 {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(nil, 50); p != 0 {
		t.Errorf("p50 of nothing = %v", p)
	}
}

func TestProcReaders(t *testing.T) {
	if _, err := rssKiB(os.Getpid()); err != nil {
		t.Error(err)
	}
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Error(err)
	}
}
