package handlers

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// What JavaScript does with strings and dates, where the Node app's
// answers and validation depend on it: its whitespace, trim and length
// (UTF-16 code units), a JSON value as express hands it on, and Date's
// toISOString. The posts, the auth handlers and the e-mail rules use
// them.

// jsSpace reports whether r is matched by JavaScript's \s, which differs
// from unicode.IsSpace (it includes U+FEFF and excludes U+0085).
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// jsTrim is validator.js trim(): strips \s from both ends.
func jsTrim(s string) string { return strings.TrimFunc(s, jsSpace) }

// jsLen is String.prototype.length: UTF-16 code units.
func jsLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// jsString converts a decoded JSON value to the string express-validator's
// validators and sanitizers see: strings as they are, numbers and booleans
// in their text form, a missing field or null as "". Objects and arrays
// have no sensible string form; ok is false for them so they fail
// validation instead of becoming "[object Object]" as in JavaScript.
func jsString(v any) (s string, ok bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	default:
		return "", false
	}
}

// jsTime formats t as JavaScript's Date.prototype.toISOString does, which
// is how mongoose documents render their timestamps in JSON.
func jsTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
