package handlers

import (
	"strings"
	"testing"
)

// Expected values are what validator.js 13 answers for the same input.
func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Alice@Example.COM":            "alice@example.com",
		"John.O.Tander+Foo@gmail.com":  "johnotander@gmail.com",
		"j.o.h.n@GoogleMail.com":       "john@gmail.com",
		"some..dots.here@gmail.com":    "some..dotshere@gmail.com",
		"a+b+c@gmail.com":              "a@gmail.com",
		"First.Last+tag@hotmail.com":   "first.last@hotmail.com",
		"x+y@Outlook.com":              "x@outlook.com",
		"x+y@live.co.uk":               "x@live.co.uk",
		"x+y@msn.com":                  "x@msn.com",
		"Me+spam@iCloud.com":           "me@icloud.com",
		"me+spam@me.com":               "me@me.com",
		"john-doe-spam@yahoo.com":      "john-doe@yahoo.com",
		"John+plus@yahoo.co.uk":        "john+plus@yahoo.co.uk",
		"nodash@ymail.com":             "nodash@ymail.com",
		"Ivan@Yandex.KZ":               "ivan@yandex.ru",
		"ivan+x@ya.ru":                 "ivan+x@yandex.ru",
		"Some.One+tag@example.com":     "some.one+tag@example.com",
		"\"Quoted@Local\"@Example.com": "\"quoted@local\"@example.com",
		"NoAt":                         "@noat",
		"user@hotmail.com.invalid":     "user@hotmail.com.invalid",
		"Straße@Example.com":           "straße@example.com",
	} {
		got, ok := normalizeEmail(in)
		if !ok || got != want {
			t.Errorf("normalizeEmail(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"+tag@gmail.com", ".@gmail.com", "+x@outlook.com", "-x@yahoo.com", "+x@icloud.com"} {
		if got, ok := normalizeEmail(in); ok {
			t.Errorf("normalizeEmail(%q) = %q, want false", in, got)
		}
	}
}

func TestIsEmail(t *testing.T) {
	valid := []string{
		"foo@bar.com", "x@x.au", "foo@bar.com.au", "foo+bar@bar.com", "hans.m端ller@test.com",
		"hans@m端ller.com", "test|123@m端ller.com", "test123+ext@gmail.com", "some.name.midd.leNa.me.and.locality+extension@GoogleMail.com",
		`"foobar"@example.com`, `"  foo  m端ller "@example.com`, `"foo\\@bar"@example.com`,
		strings.Repeat("a", 64) + "@" + strings.Repeat("a", 63) + ".com", "test@xn--80ak6aa92e.com",
		"a@b.co", "Some.One@Example.Org",
	}
	invalid := []string{
		"invalidemail@", "invalid.com", "@invalid.com", "foo@bar.com.", "foo@_bar.com", "somename@ｇｍａｉｌ.com",
		"foo@bar.co.uk.", "z@co.c", "ｇｍａｉｌｇｍａｉｌｇｍａｉｌｇｍａｉｌｇｍａｉｌ@gmail.com",
		strings.Repeat("a", 65) + "@" + strings.Repeat("a", 63) + ".com", "test1@invalid.co m", "test2@invalid.co m",
		"test3@invalid.co m", "test4@invalid.co m", "gmailgmailgmailgmailgmail@gmail.com ", " a@b.com",
		"multiple..dots@stillinvalid.com", "test123+invalid! sub_address@gmail.com", "foo@bar.123", "foo@-bar.com",
		"foo@bar-.com", "foo@localhost", "foo@[127.0.0.1]", "a@b", "", "@", "a@.com", "\"a\"b@example.com",
		"foo@bar.c\u2000m", "😀@example.com",
	}
	for _, s := range valid {
		if !isEmail(s) {
			t.Errorf("isEmail(%q) = false, want true", s)
		}
	}
	for _, s := range invalid {
		if isEmail(s) {
			t.Errorf("isEmail(%q) = true, want false", s)
		}
	}
}

func TestJSTrim(t *testing.T) {
	if got := jsTrim("\ufeff\u00a0 \t x y \u3000\n"); got != "x y" {
		t.Errorf("jsTrim = %q", got)
	}
	if got := jsTrim("\u0085x"); got != "\u0085x" { // NEL is not \s in JavaScript
		t.Errorf("jsTrim trimmed U+0085: %q", got)
	}
}
