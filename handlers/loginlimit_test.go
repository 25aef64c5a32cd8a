package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"feedrt/store/storetest"
)

// loginStep is one or more logins of a rate limit scenario.
type loginStep struct {
	advance    time.Duration // the clock moves first
	times      int           // repeated (0 means once); %d in from and body is the repetition
	from       string        // client address, without port
	body       string
	wantStatus int
	wantRetry  string // Retry-After of a 429
}

const msgLimited = `{"message":"Too many failed login attempts, try again later.","data":[]}`

// TestLoginRateLimit: failed logins are limited per client address and
// per normalised e-mail (unknown e-mails included); past the limit a login
// is answered 429 in the error shape with Retry-After, even with the right
// password, until the allowance refills on the clock. Successes and
// malformed requests use up nothing, and others' failures on other
// e-mails from other addresses block nobody.
func TestLoginRateLimit(t *testing.T) {
	const (
		aliceOK    = `{"email":"alice@example.com","password":"secret1"}`
		aliceWrong = `{"email":"alice@example.com","password":"wrong%d"}`
		bobOK      = `{"email":"bobsmith@gmail.com","password":"secret1"}`
	)
	perEmail := LoginLimits{PerAddress: FailureLimit{100, time.Second}, PerEmail: FailureLimit{3, 10 * time.Second}, MaxKeys: 100}
	perAddr := LoginLimits{PerAddress: FailureLimit{3, 2 * time.Second}, PerEmail: FailureLimit{100, time.Second}, MaxKeys: 100}
	cases := []struct {
		name   string
		limits LoginLimits
		steps  []loginStep
	}{
		{"per e-mail, from any address", perEmail, []loginStep{
			{times: 3, from: "10.0.0.%d", body: aliceWrong, wantStatus: 401},
			{from: "10.0.1.1", body: aliceOK, wantStatus: 429, wantRetry: "10"},
			{from: "10.0.1.1", body: bobOK, wantStatus: 200},
			{advance: 4 * time.Second, from: "10.0.1.1", body: aliceOK, wantStatus: 429, wantRetry: "6"},
			{advance: 6 * time.Second, from: "10.0.1.1", body: aliceOK, wantStatus: 200},
			{from: "10.0.1.1", body: aliceOK, wantStatus: 200},
			{from: "10.0.1.1", body: aliceWrong, wantStatus: 401},
			{from: "10.0.1.1", body: aliceWrong, wantStatus: 429, wantRetry: "10"},
		}},
		{"per normalised e-mail", perEmail, []loginStep{
			{from: "10.0.0.1", body: `{"email":"ALICE@Example.com","password":"x"}`, wantStatus: 401},
			{from: "10.0.0.2", body: `{"email":"  alice@EXAMPLE.COM ","password":"x"}`, wantStatus: 401},
			{from: "10.0.0.3", body: `{"email":"Alice@example.com","password":"x"}`, wantStatus: 401},
			{from: "10.0.0.4", body: aliceOK, wantStatus: 429, wantRetry: "10"},
		}},
		{"unknown e-mails alike", perEmail, []loginStep{
			{times: 3, from: "10.0.0.%d", body: `{"email":"nobody@example.com","password":"x%d"}`, wantStatus: 401},
			{from: "10.0.0.9", body: `{"email":"Nobody@example.com","password":"x"}`, wantStatus: 429, wantRetry: "10"},
		}},
		{"per address, whatever the e-mail", perAddr, []loginStep{
			{times: 3, from: "10.0.0.1", body: `{"email":"nobody%d@example.com","password":"x"}`, wantStatus: 401},
			{from: "10.0.0.1", body: aliceOK, wantStatus: 429, wantRetry: "2"},
			{from: "10.0.0.2", body: aliceOK, wantStatus: 200},
			{advance: 2 * time.Second, from: "10.0.0.1", body: aliceOK, wantStatus: 200},
		}},
		{"per IPv6 /64", perAddr, []loginStep{
			{times: 3, from: "[2001:db8:1:2::%d]", body: `{"email":"nobody%d@example.com","password":"x"}`, wantStatus: 401},
			{from: "[2001:db8:1:2:ffff:ffff:ffff:ffff]", body: aliceOK, wantStatus: 429, wantRetry: "2"},
			{from: "[2001:db8:1:3::1]", body: aliceOK, wantStatus: 200},
		}},
		{"e-mails no account can have count per address", perAddr, []loginStep{
			{times: 3, from: "10.0.0.1", body: `{"email":"not-an-email-%d","password":"x"}`, wantStatus: 401},
			{from: "10.0.0.1", body: `{}`, wantStatus: 429, wantRetry: "2"},
		}},
		{"successes use up nothing", perEmail, []loginStep{
			{times: 10, from: "10.0.0.1", body: aliceOK, wantStatus: 200},
			{times: 3, from: "10.0.0.1", body: aliceWrong, wantStatus: 401},
			{from: "10.0.0.1", body: aliceOK, wantStatus: 429, wantRetry: "10"},
		}},
		{"malformed requests use up nothing", perAddr, []loginStep{
			{times: 5, from: "10.0.0.1", body: `{"email"`, wantStatus: 400},
			{from: "10.0.0.1", body: aliceOK, wantStatus: 200},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvLimits(t, nil, tc.limits).seed()
			for i, s := range tc.steps {
				e.clock.Advance(s.advance)
				for n := range max(1, s.times) {
					from, body := s.from, s.body
					if strings.Contains(from, "%d") {
						from = fmt.Sprintf(from, n)
					}
					if strings.Contains(body, "%d") {
						body = fmt.Sprintf(body, n)
					}
					w := e.doFrom(t.Context(), from+":4000", "POST", "/auth/login", "", jsonBody(body))
					if w.Code != s.wantStatus {
						t.Fatalf("step %d #%d (%s from %s): status %d, want %d: %s", i, n, body, from, w.Code, s.wantStatus, w.Body)
					}
					if got := w.Header().Get("Retry-After"); got != s.wantRetry {
						t.Errorf("step %d #%d: Retry-After %q, want %q", i, n, got, s.wantRetry)
					}
					if s.wantStatus == 429 {
						e.checkJSON(w.Body.Bytes(), msgLimited)
					}
				}
			}
		})
	}
}

// TestLoginRateLimitConcurrent: logins under way hold their unit of
// allowance, so simultaneous wrong passwords cannot overdraw it: with 3
// allowed, of 5 at once 2 are refused before any bcrypt work.
func TestLoginRateLimitConcurrent(t *testing.T) {
	limits := LoginLimits{PerAddress: FailureLimit{100, time.Second}, PerEmail: FailureLimit{3, 10 * time.Second}, MaxKeys: 100}
	e := newEnvLimits(t, nil, limits).seed()
	g := gateCompare(e.passwords)
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(g.release) }) }
	t.Cleanup(release) // lets held logins finish if the test fails early
	codes := make(chan int, 5)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"email":"alice@example.com","password":"wrong%d"}`, i)
			codes <- e.doFrom(t.Context(), fmt.Sprintf("10.0.0.%d:4000", i), "POST", "/auth/login", "", jsonBody(body)).Code
		})
	}
	timeout := time.After(10 * time.Second)
	for range 2 {
		select {
		case c := <-codes:
			if c != http.StatusTooManyRequests {
				t.Errorf("a login answered %d while the bcrypt comparisons were held, want 429", c)
			}
		case <-timeout:
			t.Fatal("timed out waiting for 2 logins to be refused: all 5 went to bcrypt")
		}
	}
	storetest.WaitFor(t, "3 logins at bcrypt", func() bool { return len(e.passwords.slots)+int(e.passwords.waiting.Load()) == 3 })
	release()
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusUnauthorized {
			t.Errorf("a held login answered %d, want 401", c)
		}
	}
}

// TestLoginLimiterMemory: the tables stay within MaxKeys however many
// addresses or e-mails fail, forget a key once its allowance has refilled,
// keep e-mail keys fixed-size, and survive an entry evicted mid-attempt.
func TestLoginLimiterMemory(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l, err := NewLoginLimiter(LoginLimits{
		PerAddress: FailureLimit{2, time.Second}, PerEmail: FailureLimit{2, time.Second}, MaxKeys: 3,
	}, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		a, _, ok := l.begin(fmt.Sprintf("10.0.0.%d", i), fmt.Sprintf("%s%d@example.com", strings.Repeat("x", 10_000), i))
		if !ok {
			t.Fatalf("attempt %d refused", i)
		}
		a.end(true)
		if n, m := l.byAddr.size(), l.byEmail.size(); n > 3 || m > 3 {
			t.Fatalf("after %d failures: %d addresses, %d e-mails held, want at most 3", i+1, n, m)
		}
	}
	for key := range l.byEmail.entries {
		if len(key) != 32 {
			t.Errorf("e-mail key of %d bytes, want 32", len(key))
		}
	}

	a, _, _ := l.begin("10.0.1.1", "")
	for i := range 3 { // evict 10.0.1.1 while its attempt runs
		b, _, _ := l.begin(fmt.Sprintf("10.0.2.%d", i), "")
		b.end(true)
	}
	a.end(true)
	if n := l.byAddr.size(); n != 3 {
		t.Errorf("%d addresses held, want 3", n)
	}

	clock.Advance(2 * time.Second) // every allowance refilled
	a, _, _ = l.begin("10.0.3.1", "")
	if n := l.byAddr.size(); n != 1 {
		t.Errorf("%d addresses held once the others refilled, want 1 (the attempt under way)", n)
	}
	a.end(false)
	if n := l.byAddr.size(); n != 0 {
		t.Errorf("%d addresses held after a success, want 0", n)
	}
}
