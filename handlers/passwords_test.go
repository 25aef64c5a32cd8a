package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"feedrt/store/storetest"
)

// gatedCompare replaces the bcrypt comparison of p by one that counts the
// comparisons under way and blocks until release is closed.
type gatedCompare struct {
	mu           sync.Mutex
	active, most int
	hashes       []string
	release      chan struct{}
	realCompare  func(hash, password []byte) error
}

func gateCompare(p *Passwords) *gatedCompare {
	g := &gatedCompare{release: make(chan struct{}), realCompare: p.compare}
	p.compare = func(hash, password []byte) error {
		g.mu.Lock()
		g.active++
		g.most = max(g.most, g.active)
		g.hashes = append(g.hashes, string(hash))
		g.mu.Unlock()
		<-g.release
		g.mu.Lock()
		g.active--
		g.mu.Unlock()
		return g.realCompare(hash, password)
	}
	return g
}

// state is the number of comparisons under way and the most seen at once.
func (g *gatedCompare) state() (active, most int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.active, g.most
}

// TestBcryptCap: of many simultaneous logins, known and unknown e-mails
// alike, only as many compare at once as the Passwords has slots (2 in
// the tests); the others queue, and one whose client leaves while queued
// gets a 503 without comparing.
func TestBcryptCap(t *testing.T) {
	e := newEnv(t, nil).seed()
	g := gateCompare(e.passwords)
	bodies := []string{
		`{"email":"alice@example.com","password":"wrong1"}`,
		`{"email":"bobsmith@gmail.com","password":"wrong1"}`,
		`{"email":"nobody1@example.com","password":"secret1"}`,
		`{"email":"alice@example.com","password":"wrong2"}`,
		`{"email":"nobody2@example.com","password":"secret1"}`,
		`{"email":"nobody3@example.com","password":"secret1"}`,
	}
	codes := make([]int, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Go(func() { codes[i] = e.do("POST", "/auth/login", "", jsonBody(b)).Code })
	}
	storetest.WaitFor(t, "2 comparisons running and 4 queued", func() bool {
		return len(e.passwords.slots) == 2 && e.passwords.waiting.Load() == 4
	})
	if active, most := g.state(); active != 2 || most != 2 {
		t.Errorf("%d comparisons running (at most %d), want 2", active, most)
	}

	ctx, cancel := context.WithCancel(t.Context())
	left := make(chan *httptest.ResponseRecorder)
	go func() {
		left <- e.doFrom(ctx, "", "POST", "/auth/login", "", jsonBody(`{"email":"alice@example.com","password":"wrong3"}`))
	}()
	storetest.WaitFor(t, "a fifth login queued", func() bool { return e.passwords.waiting.Load() == 5 })
	cancel()
	if w := <-left; w.Code != http.StatusServiceUnavailable {
		t.Errorf("login abandoned while queued: %d %s, want 503", w.Code, w.Body)
	}
	if n := e.passwords.waiting.Load(); n != 4 {
		t.Errorf("%d queued after the abandoned login left, want 4", n)
	}

	close(g.release)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusUnauthorized {
			t.Errorf("login %d: status %d, want 401", i, c)
		}
	}
	if _, most := g.state(); most != 2 {
		t.Errorf("at most %d comparisons ran at once, want 2", most)
	}
	if len(g.hashes) != len(bodies) {
		t.Errorf("%d comparisons, want %d (the abandoned login must not compare)", len(g.hashes), len(bodies))
	}
}

// TestSignupWaitsForBcryptSlot: signup hashing takes a slot too; with all
// taken it waits, and completes once one frees.
func TestSignupWaitsForBcryptSlot(t *testing.T) {
	e := newEnv(t, nil)
	for range cap(e.passwords.slots) {
		e.passwords.slots <- struct{}{}
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		done <- e.do("PUT", "/auth/signup", "", jsonBody(`{"email":"carol@example.com","password":"secret1","name":"Carol"}`))
	}()
	storetest.WaitFor(t, "the signup to queue for a slot", func() bool { return e.passwords.waiting.Load() == 1 })
	<-e.passwords.slots
	if w := <-done; w.Code != http.StatusCreated {
		t.Errorf("signup: %d %s", w.Code, w.Body)
	}
}

// TestUnknownEmailCostsAComparison: a login for an e-mail with no account
// runs one bcrypt comparison, against a dummy hash of the configured cost,
// as a wrong or right password does, so timing does not reveal accounts.
func TestUnknownEmailCostsAComparison(t *testing.T) {
	cases := []struct {
		name, body string
		wantStatus int
		wantDummy  bool
	}{
		{"unknown e-mail", `{"email":"nobody@example.com","password":"secret1"}`, 401, true},
		{"wrong password", `{"email":"alice@example.com","password":"secret2"}`, 401, false},
		{"right password", `{"email":"alice@example.com","password":"secret1"}`, 200, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil).seed()
			g := gateCompare(e.passwords)
			close(g.release)
			if w := e.do("POST", "/auth/login", "", jsonBody(tc.body)); w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if len(g.hashes) != 1 {
				t.Fatalf("%d bcrypt comparisons, want 1", len(g.hashes))
			}
			if dummy := g.hashes[0] == string(e.passwords.dummy); dummy != tc.wantDummy {
				t.Errorf("compared against the dummy hash: %v, want %v", dummy, tc.wantDummy)
			}
			if cost, err := bcrypt.Cost([]byte(g.hashes[0])); err != nil || cost != bcrypt.MinCost {
				t.Errorf("compared against a hash of cost %d (%v), want the configured %d", cost, err, bcrypt.MinCost)
			}
		})
	}
}
