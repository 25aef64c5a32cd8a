package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"feedrt/store"
	"feedrt/store/boltstore"
)

func TestAuthAPI(t *testing.T) {
	const invalid = "Validation failed."
	cases := []apiCase{
		// PUT /auth/signup
		{
			name: "signup", method: "PUT", url: "/auth/signup",
			body:       j(`{"email":"New.User+Tag@GoogleMail.com","password":"  hunter2  ","name":"  Carol "}`),
			wantStatus: 201, want: "golden:signup",
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				u, err := e.store.UserByEmail(t.Context(), "newuser@gmail.com")
				if err != nil {
					t.Fatalf("user not stored under the normalised address: %v", err)
				}
				if u.Name != "Carol" || u.Status != store.DefaultStatus || !strings.Contains(w.Body.String(), u.ID.Hex()) {
					t.Errorf("stored %+v, answered %s", u, w.Body)
				}
				if bcrypt.CompareHashAndPassword([]byte(u.Password), []byte("hunter2")) != nil {
					t.Error("password not stored as the bcrypt hash of the trimmed password")
				}
			},
		},
		{
			name: "signup invalid email", method: "PUT", url: "/auth/signup",
			body: j(`{"email":"not-an-email","password":"secret1","name":"Carol"}`), wantStatus: 422,
			want: `{"message":"Validation failed.","data":[{"type":"field","path":"email","msg":"Please enter a valid email.","value":"not-an-email","location":"body"}]}`,
		},
		{
			name: "signup every field bad", method: "PUT", url: "/auth/signup",
			body: j(`{"email":42,"password":"  abc  ","name":"   "}`), wantStatus: 422,
			want: `{"message":"` + invalid + `","data":[
				{"type":"field","path":"email","msg":"Please enter a valid email.","value":42,"location":"body"},
				{"type":"field","path":"password","msg":"Invalid value","value":"abc","location":"body"},
				{"type":"field","path":"name","msg":"Invalid value","value":"","location":"body"}]}`,
		},
		{
			name: "signup empty object", method: "PUT", url: "/auth/signup", body: j(`{}`), wantStatus: 422,
			want: `{"message":"` + invalid + `","data":[
				{"type":"field","path":"email","msg":"Please enter a valid email.","value":null,"location":"body"},
				{"type":"field","path":"password","msg":"Invalid value","value":"","location":"body"},
				{"type":"field","path":"name","msg":"Invalid value","value":"","location":"body"}]}`,
		},
		{
			name: "signup no body", method: "PUT", url: "/auth/signup", wantStatus: 422,
		},
		{
			name: "signup object as name", method: "PUT", url: "/auth/signup",
			body: j(`{"email":"carol@example.com","password":"secret1","name":{"$gt":""}}`), wantStatus: 422,
			want: `{"message":"` + invalid + `","data":[{"type":"field","path":"name","msg":"Invalid value","value":"","location":"body"}]}`,
		},
		{
			name: "signup taken email in other case", method: "PUT", url: "/auth/signup",
			body: j(`{"email":"ALICE@Example.COM","password":"secret1","name":"Alice 2"}`), wantStatus: 422,
			want: `{"message":"` + invalid + `","data":[{"type":"field","path":"email","msg":"E-Mail address already exists!","value":"ALICE@Example.COM","location":"body"}]}`,
		},
		{
			name: "signup taken gmail variant", method: "PUT", url: "/auth/signup",
			body: j(`{"email":"bob.smith+other@gmail.com","password":"secret1","name":"Bob 2"}`), wantStatus: 422,
			want: `{"message":"` + invalid + `","data":[{"type":"field","path":"email","msg":"E-Mail address already exists!","value":"bob.smith+other@gmail.com","location":"body"}]}`,
		},
		{
			name: "signup malformed JSON", method: "PUT", url: "/auth/signup", body: j(`{"email":`),
			wantStatus: 400, want: `{"message":"Invalid JSON body.","data":[]}`,
		},
		{
			name: "signup JSON array", method: "PUT", url: "/auth/signup", body: j(`[1,2]`),
			wantStatus: 400, want: `{"message":"Invalid JSON body.","data":[]}`,
		},
		{
			name: "signup trailing data", method: "PUT", url: "/auth/signup", body: j(`{} {}`),
			wantStatus: 400, want: `{"message":"Invalid JSON body.","data":[]}`,
		},
		{
			name: "signup body too large", method: "PUT", url: "/auth/signup",
			body:       j(`{"name":"` + strings.Repeat("x", MaxJSONBytes) + `"}`),
			wantStatus: 413, want: `{"message":"Request body too large.","data":[]}`,
		},

		// POST /auth/login
		{
			name: "login", method: "POST", url: "/auth/login",
			body: j(`{"email":"alice@example.com","password":"secret1"}`), wantStatus: 200, want: "golden:login",
			check: checkLoginToken("alice"),
		},
		{
			name: "login mixed case", method: "POST", url: "/auth/login",
			body: j(`{"email":"  Alice@EXAMPLE.com","password":"secret1"}`), wantStatus: 200,
			want: `{"token":"<token>","userId":"<alice>"}`, check: checkLoginToken("alice"),
		},
		{
			name: "login as stored by the Node app", method: "POST", url: "/auth/login",
			body: j(`{"email":"Bob.Smith+news@GoogleMail.com","password":"secret1"}`), wantStatus: 200,
			want: `{"token":"<token>","userId":"<bob>"}`, check: checkLoginToken("bob"),
		},
		{
			name: "login unknown email", method: "POST", url: "/auth/login",
			body: j(`{"email":"nobody@example.com","password":"secret1"}`), wantStatus: 401,
			want: `{"message":"A user with this email could not be found.","data":[]}`,
		},
		{
			name: "login empty body", method: "POST", url: "/auth/login", wantStatus: 401,
			want: `{"message":"A user with this email could not be found.","data":[]}`,
		},
		{
			name: "login wrong password", method: "POST", url: "/auth/login",
			body: j(`{"email":"alice@example.com","password":"secret2"}`), wantStatus: 401,
			want: `{"message":"Wrong password!","data":[]}`,
		},
		{
			name: "login malformed JSON", method: "POST", url: "/auth/login", body: j(`{"email"`), wantStatus: 400,
			want: `{"message":"Invalid JSON body.","data":[]}`,
		},

		// GET and PATCH /auth/status
		{
			name: "get status", method: "GET", url: "/auth/status", caller: "alice",
			wantStatus: 200, want: "golden:status_get",
		},
		{
			name: "get status of a deleted user", method: "GET", url: "/auth/status", caller: "ghost",
			wantStatus: 404, want: `{"message":"User not found.","data":[]}`,
		},
		{
			name: "update status", method: "PATCH", url: "/auth/status", caller: "alice",
			body: j(`{"status":"  Busy coding  "}`), wantStatus: 200, want: "golden:status_update",
			check: func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
				w := e.do("GET", "/auth/status", "alice", body{})
				e.checkJSON(w.Body.Bytes(), `{"status":"Busy coding"}`)
			},
		},
		{
			name: "update status blank", method: "PATCH", url: "/auth/status", caller: "alice",
			body: j(`{"status":"   "}`), wantStatus: 422,
			want: `{"message":"` + invalid + `","data":[{"type":"field","path":"status","msg":"Invalid value","value":"","location":"body"}]}`,
			check: func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
				if u, _ := e.store.UserByID(t.Context(), e.users["alice"].ID); u.Status != store.DefaultStatus {
					t.Errorf("status changed to %q", u.Status)
				}
			},
		},
		{
			name: "update status at the cap", method: "PATCH", url: "/auth/status", caller: "alice",
			body: j(`{"status":" ` + strings.Repeat("s", testMaxStatus) + ` "}`), wantStatus: 200, want: "golden:status_update",
		},
		{
			name: "update status past the cap", method: "PATCH", url: "/auth/status", caller: "alice",
			body: j(`{"status":"` + strings.Repeat("s", testMaxStatus+1) + `"}`), wantStatus: 422,
			want: `{"message":"` + invalid + `","data":[{"type":"field","path":"status","msg":"Invalid value","value":"` +
				strings.Repeat("s", testMaxStatus+1) + `","location":"body"}]}`,
			check: func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
				if u, _ := e.store.UserByID(t.Context(), e.users["alice"].ID); u.Status == strings.Repeat("s", testMaxStatus+1) {
					t.Error("status stored past the cap")
				}
			},
		},
		{
			name: "update status missing", method: "PATCH", url: "/auth/status", caller: "alice", body: j(`{}`),
			wantStatus: 422,
			want:       `{"message":"` + invalid + `","data":[{"type":"field","path":"status","msg":"Invalid value","value":"","location":"body"}]}`,
		},
		{
			name: "update status of a deleted user", method: "PATCH", url: "/auth/status", caller: "ghost",
			body: j(`{"status":"Hi"}`), wantStatus: 404, want: `{"message":"User not found.","data":[]}`,
		},
	}
	cases = append(cases, unauthorized("GET", "/auth/status", nil)...)
	cases = append(cases, unauthorized("PATCH", "/auth/status", j(`{"status":"Hi"}`))...)
	runCases(t, cases)
}

// checkLoginToken checks that the answered token authenticates as user.
func checkLoginToken(user string) func(*testing.T, *env, *httptest.ResponseRecorder) {
	return func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
		var resp loginResponse
		mustUnmarshal(t, w.Body.Bytes(), &resp)
		claims, err := e.tokens.Parse(resp.Token)
		if err != nil {
			t.Fatal(err)
		}
		u := e.users[user]
		if claims.UserID != u.ID.Hex() || claims.Email != u.Email || resp.UserID != u.ID.Hex() {
			t.Errorf("claims %+v, response %+v, want user %+v", claims, resp, u)
		}
		if ttl := claims.ExpiresAt.Sub(claims.IssuedAt.Time); ttl != testTokenTTL {
			t.Errorf("token lives %s, want %s", ttl, testTokenTTL)
		}
	}
}

// hideUsers hides existing users from UserByEmail, as if another sign-up
// with the same address committed between the look-up and the insert.
type hideUsers struct{ *boltstore.Store }

func (hideUsers) UserByEmail(context.Context, string) (store.User, error) {
	return store.User{}, store.ErrNotFound
}

// TestSignupConflictFromStore: the store's unique e-mail, not the look-up
// before it, decides, and its ErrConflict is the same 422 field error.
func TestSignupConflictFromStore(t *testing.T) {
	e := newEnv(t, func(s *boltstore.Store) interface {
		UserStore
		PostStore
	} {
		return hideUsers{s}
	}).seed()
	w := e.do("PUT", "/auth/signup", "", jsonBody(`{"email":"Alice@example.com","password":"secret1","name":"A"}`))
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	e.checkJSON(w.Body.Bytes(), `{"message":"Validation failed.","data":[{"type":"field","path":"email","msg":"E-Mail address already exists!","value":"Alice@example.com","location":"body"}]}`)
}

// TestConcurrentSignups: of many simultaneous sign-ups with one address,
// exactly one succeeds and the others get the 422 field error.
func TestConcurrentSignups(t *testing.T) {
	e := newEnv(t, nil)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := e.do("PUT", "/auth/signup", "", jsonBody(`{"email":"same@example.com","password":"secret1","name":"Same"}`))
			codes[i] = w.Code
			if w.Code != http.StatusCreated && !strings.Contains(w.Body.String(), "E-Mail address already exists!") {
				t.Errorf("status %d: %s", w.Code, w.Body)
			}
		})
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		if c == http.StatusCreated {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d sign-ups succeeded, want 1 (codes %v)", created, codes)
	}
}
