package handlers

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"feedrt/store"
)

// TestPasswordLength: bcrypt reads 72 bytes, so signup refuses longer
// passwords (a 422 field error, not a silent cut), while a user the Node
// app created with a longer one (bcryptjs hashed its first 72 bytes)
// still logs in with the whole password.
func TestPasswordLength(t *testing.T) {
	long := strings.Repeat("p", 80)
	euro72 := strings.Repeat("€", 24) // 3 bytes each: 72 bytes, 24 characters
	cases := []apiCase{
		{
			name: "signup 73 bytes", method: "PUT", url: "/auth/signup",
			body: j(`{"email":"carol@example.com","password":"` + strings.Repeat("p", 73) + `","name":"Carol"}`), wantStatus: 422,
			want: `{"message":"Validation failed.","data":[{"type":"field","path":"password","msg":"Password must be at most 72 bytes.","value":"` +
				strings.Repeat("p", 73) + `","location":"body"}]}`,
			check: checkNoUser("carol@example.com"),
		},
		{
			name: "signup 25 characters of 3 bytes", method: "PUT", url: "/auth/signup",
			body: j(`{"email":"carol@example.com","password":"` + euro72 + `€","name":"Carol"}`), wantStatus: 422,
			want: `{"message":"Validation failed.","data":[{"type":"field","path":"password","msg":"Password must be at most 72 bytes.","value":"` +
				euro72 + `€","location":"body"}]}`,
			check: checkNoUser("carol@example.com"),
		},
		{
			name: "signup 72 bytes", method: "PUT", url: "/auth/signup",
			body:       j(`{"email":"carol@example.com","password":"  ` + euro72 + `  ","name":"Carol"}`),
			wantStatus: 201,
			check: func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
				u, err := e.store.UserByEmail(t.Context(), "carol@example.com")
				if err != nil {
					t.Fatal(err)
				}
				if bcrypt.CompareHashAndPassword([]byte(u.Password), []byte(euro72)) != nil {
					t.Error("stored hash is not of the 72-byte password")
				}
			},
		},
		{
			name: "login with the long password of a Node user", method: "POST", url: "/auth/login",
			body: func(e *env) body {
				mustNodeUser(e, "dave@example.com", long)
				return jsonBody(`{"email":"dave@example.com","password":"` + long + `"}`)
			},
			wantStatus: 200, want: `{"token":"<token>","userId":"<dave>"}`,
		},
		{
			name: "login with the first 72 bytes of a Node user's long password", method: "POST", url: "/auth/login",
			body: func(e *env) body {
				mustNodeUser(e, "dave@example.com", long)
				return jsonBody(`{"email":"dave@example.com","password":"` + long[:72] + `"}`)
			},
			wantStatus: 200, want: `{"token":"<token>","userId":"<dave>"}`,
		},
		{
			name: "login with a wrong long password", method: "POST", url: "/auth/login",
			body: func(e *env) body {
				mustNodeUser(e, "dave@example.com", long)
				return jsonBody(`{"email":"dave@example.com","password":"` + strings.Repeat("q", 80) + `"}`)
			},
			wantStatus: 401, want: `{"message":"Wrong password!","data":[]}`,
		},
	}
	runCases(t, cases)
}

// mustNodeUser stores a user as the Node app did: bcryptjs hashed only the
// first 72 bytes of a longer password. The user's id is labelled <name>.
func mustNodeUser(e *env, email, password string) {
	e.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password)[:min(len(password), 72)], bcrypt.MinCost)
	if err != nil {
		e.t.Fatal(err)
	}
	u := store.User{Email: email, Password: string(hash), Name: "Node user"}
	if err := e.store.CreateUser(e.t.Context(), &u); err != nil {
		e.t.Fatal(err)
	}
	e.labels[u.ID.Hex()] = "<" + strings.Split(email, "@")[0] + ">"
}

// checkNoUser checks that no user was stored under email.
func checkNoUser(email string) func(*testing.T, *env, *httptest.ResponseRecorder) {
	return func(t *testing.T, e *env, _ *httptest.ResponseRecorder) {
		if _, err := e.store.UserByEmail(t.Context(), email); err == nil {
			t.Errorf("user %s stored", email)
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
}
