package handlers

import (
	"strings"
	"testing"
	"time"

	"feedrt/store"
)

func TestNewTokens(t *testing.T) {
	if _, err := NewTokens([]byte("short"), time.Hour); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	if _, err := NewTokens(testSecret, -time.Second); err == nil {
		t.Error("a negative TTL was accepted")
	}
	if _, err := NewTokens(testSecret, 0); err == nil {
		t.Error("a zero TTL was accepted")
	}
	secret := append([]byte(nil), testSecret...)
	tok, err := NewTokens(secret, testTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	secret[0] ^= 0xff // the caller's slice must not be shared
	s, err := tok.Issue("a@example.com", store.NewID())
	if err != nil {
		t.Fatal(err)
	}
	c, err := tok.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ExpiresAt.Sub(c.IssuedAt.Time); got != testTokenTTL {
		t.Errorf("TTL %s, want %s", got, testTokenTTL)
	}
}

func TestTokensParse(t *testing.T) {
	e := newEnv(t, nil).seed()
	id := e.users["alice"].ID
	good, err := e.tokens.Issue("alice@example.com", id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.tokens.Parse(good)
	if err != nil || c.UserID != id.Hex() || c.Email != "alice@example.com" {
		t.Fatalf("Parse(good) = %+v, %v", c, err)
	}
	bad := map[string]string{
		"empty":     "",
		"garbage":   "a.b.c",
		"truncated": good[:len(good)-3],
		"tampered":  tamper(good),
		"bad user id": func() string {
			s, _ := newJWT(hs256, Claims{UserID: "nope", RegisteredClaims: registered(time.Now(), time.Now().Add(time.Hour))}).SignedString(testSecret)
			return s
		}(),
	}
	for _, kind := range []string{"expired", "forged", "none", "hs512", "noexp", "stringexp", "stringnbf", "stringiat", "nullexp"} {
		bad[kind] = strings.TrimPrefix(e.token(kind), "Bearer ")
	}
	for name, s := range bad {
		if _, err := e.tokens.Parse(s); err == nil {
			t.Errorf("%s token accepted", name)
		}
	}
	// A token from another instance with a TTL that has run out.
	short, _ := NewTokens(testSecret, time.Minute)
	short.now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
	old, _ := short.Issue("alice@example.com", id)
	if _, err := e.tokens.Parse(old); err == nil {
		t.Error("token past its TTL accepted")
	}
}

// tamper changes the payload of a token and keeps its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p := []byte(parts[1])
	if p[5] == 'A' {
		p[5] = 'B'
	} else {
		p[5] = 'A'
	}
	return parts[0] + "." + string(p) + "." + parts[2]
}

// TestBearer: the token of an Authorization header; want "" is a header
// bearer must refuse (ok false).
func TestBearer(t *testing.T) {
	for _, c := range []struct{ name, header, want string }{
		{"the token", "Bearer abc", "abc"},
		{"scheme in any case", "bearer abc", "abc"},
		{"extra spaces", "  Bearer  abc", "abc"},
		{"no token", "Bearer", ""},
		{"empty token", "Bearer ", ""},
		{"other scheme", "Basic abc", ""},
		{"no scheme", "abc", ""},
		{"no header", "", ""},
	} {
		got, ok := bearer(c.header)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: bearer(%q) = %q, %v; want %q", c.name, c.header, got, ok, c.want)
		}
	}
}
