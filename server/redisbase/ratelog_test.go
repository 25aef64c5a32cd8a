package redisbase

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"feedrt/store/storetest"
)

// TestRateLog: a recurring problem is one line per interval, with the
// count of what was held back, and one line when it clears.
func TestRateLog(t *testing.T) {
	var buf bytes.Buffer
	r := NewRateLog(slog.New(slog.NewTextHandler(&buf, nil)), 50*time.Millisecond)
	clock := storetest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	r.now = clock.Now
	for range 100 {
		r.Warn("k", "down")
		clock.Advance(49 * time.Millisecond / 100) // all 100 within one interval
	}
	clock.Advance(10 * time.Millisecond) // 59 ms after the first line: the next interval
	r.Warn("k", "down")
	r.Recovered("k", "up")
	r.Recovered("k", "up")
	out := buf.String()
	if strings.Count(out, "msg=down") != 2 || !strings.Contains(out, "repeated=99") || strings.Count(out, "msg=up") != 1 {
		t.Errorf("log:\n%s", out)
	}
}
