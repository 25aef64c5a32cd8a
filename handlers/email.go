package handlers

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// This file re-implements the three validator.js functions the Node app ran
// through express-validator (isEmail, normalizeEmail and trim, all with
// default options). Exactness matters for normalizeEmail above all: the
// Node app stored addresses in its output, and a user must find their
// account here under the same key. Lengths are counted in UTF-16 code
// units and character classes are BMP ranges, as JavaScript does.

// inBMPRanges reports whether r lies in one of the ranges validator.js
// allows for non-ASCII characters in a local part or TLD.
func inBMPRanges(r rune, lo rune) bool {
	return (r >= lo && r <= 0xd7ff) || (r >= 0xf900 && r <= 0xfdcf) || (r >= 0xfdf0 && r <= 0xffef)
}

func isASCIIAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// isEmail is validator.js isEmail() with its defaults: no display name,
// UTF-8 local part allowed, TLD required, no IP domain, length limits on.
func isEmail(s string) bool {
	if jsLen(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false // the local part would be empty
	}
	user, domain := s[:at], s[at+1:]
	if len(user) > 64 || len(domain) > 254 || !isFQDN(domain) {
		return false
	}
	if strings.HasPrefix(user, `"`) && strings.HasSuffix(user, `"`) {
		// A lone `"` counts as both quotes (JavaScript's slice(1, 0) is "").
		inner := ""
		if len(user) > 1 {
			inner = user[1 : len(user)-1]
		}
		return quotedLocalOK(inner)
	}
	for part := range strings.SplitSeq(user, ".") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if !isASCIIAlnum(r) && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r) && !inBMPRanges(r, 0xa1) {
				return false
			}
		}
	}
	return true
}

// quotedLocalOK checks the inside of a quoted local part: printable ASCII
// but '"' and '\', whitespace, or a backslash escape, plus UTF-8.
func quotedLocalOK(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\\':
			if i >= len(s) {
				return false
			}
			e, m := utf8.DecodeRuneInString(s[i:])
			i += m
			if !((e >= 0x01 && e <= 0x09) || e == 0x0b || e == 0x0c || (e >= 0x0d && e <= 0x7f) || inBMPRanges(e, 0xa0)) {
				return false
			}
		case jsSpace(r), r >= 0x01 && r <= 0x08, r == 0x0b, r == 0x0c, r >= 0x0e && r <= 0x1f, r == 0x7f, r == 0x21,
			r >= 0x23 && r <= 0x5b, r >= 0x5d && r <= 0x7e, inBMPRanges(r, 0xa0):
		default:
			return false
		}
	}
	return true
}

// isFQDN is validator.js isFQDN() as isEmail calls it: a TLD of two or
// more letters (or an xn-- label), labels of letters, digits, hyphens and
// non-ASCII, no underscores, no leading or trailing hyphen.
func isFQDN(domain string) bool {
	parts := strings.Split(domain, ".")
	if len(parts) < 2 {
		return false
	}
	tld := parts[len(parts)-1]
	if !tldOK(tld) || strings.ContainsFunc(tld, jsSpace) {
		return false
	}
	for _, p := range parts {
		if p == "" || jsLen(p) > 63 || strings.HasPrefix(p, "-") || strings.HasSuffix(p, "-") {
			return false
		}
		for _, r := range p {
			ok := isASCIIAlnum(r) || r == '-' || (r >= 0xa1 && !(r >= 0xff01 && r <= 0xff5e))
			if !ok {
				return false
			}
		}
	}
	return true
}

// tldOK is validator.js's TLD pattern.
func tldOK(tld string) bool {
	if lower := strings.ToLower(tld); strings.HasPrefix(lower, "xn") && len(lower) >= 4 {
		if !strings.ContainsFunc(lower[2:], func(r rune) bool { return !isASCIIAlnum(r) && r != '-' }) {
			return true
		}
	}
	if jsLen(tld) < 2 {
		return false
	}
	for _, r := range tld {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && !(r >= 0xa1 && r <= 0xa8) && !inBMPRanges(r, 0xaa) {
			return false
		}
	}
	return true
}

// Provider domain lists of validator.js normalizeEmail().
var (
	icloudDomains  = []string{"icloud.com", "me.com"}
	outlookDomains = []string{
		"hotmail.at", "hotmail.be", "hotmail.ca", "hotmail.cl", "hotmail.co.il", "hotmail.co.nz", "hotmail.co.th",
		"hotmail.co.uk", "hotmail.com", "hotmail.com.ar", "hotmail.com.au", "hotmail.com.br", "hotmail.com.gr",
		"hotmail.com.mx", "hotmail.com.pe", "hotmail.com.tr", "hotmail.com.vn", "hotmail.cz", "hotmail.de",
		"hotmail.dk", "hotmail.es", "hotmail.fr", "hotmail.hu", "hotmail.id", "hotmail.ie", "hotmail.in",
		"hotmail.it", "hotmail.jp", "hotmail.kr", "hotmail.lv", "hotmail.my", "hotmail.ph", "hotmail.pt",
		"hotmail.sa", "hotmail.sg", "hotmail.sk", "live.be", "live.co.uk", "live.com", "live.com.ar",
		"live.com.mx", "live.de", "live.es", "live.eu", "live.fr", "live.it", "live.nl", "msn.com",
		"outlook.at", "outlook.be", "outlook.cl", "outlook.co.il", "outlook.co.nz", "outlook.co.th",
		"outlook.com", "outlook.com.ar", "outlook.com.au", "outlook.com.br", "outlook.com.gr", "outlook.com.pe",
		"outlook.com.tr", "outlook.com.vn", "outlook.cz", "outlook.de", "outlook.dk", "outlook.es", "outlook.fr",
		"outlook.hu", "outlook.id", "outlook.ie", "outlook.in", "outlook.it", "outlook.jp", "outlook.kr",
		"outlook.lv", "outlook.my", "outlook.ph", "outlook.pt", "outlook.sa", "outlook.sg", "outlook.sk",
		"passport.com",
	}
	yahooDomains = []string{
		"rocketmail.com", "yahoo.ca", "yahoo.co.uk", "yahoo.com", "yahoo.de", "yahoo.fr", "yahoo.in", "yahoo.it", "ymail.com",
	}
	yandexDomains = []string{"yandex.ru", "yandex.ua", "yandex.kz", "yandex.com", "yandex.by", "ya.ru"}
)

// normalizeEmail is validator.js normalizeEmail() with default options.
// ok is false where validator.js returns false (the provider rules left an
// empty local part).
func normalizeEmail(email string) (norm string, ok bool) {
	user, domain := "", email
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		user, domain = email[:at], email[at+1:]
	}
	domain = strings.ToLower(domain)
	switch {
	case domain == "gmail.com" || domain == "googlemail.com":
		user, _, _ = strings.Cut(user, "+")
		user = removeSingleDots(user)
		domain = "gmail.com"
	case slices.Contains(icloudDomains, domain), slices.Contains(outlookDomains, domain):
		user, _, _ = strings.Cut(user, "+")
	case slices.Contains(yahooDomains, domain):
		if i := strings.LastIndexByte(user, '-'); i >= 0 {
			user = user[:i] // the last "-" and what follows is the subaddress
		}
	case slices.Contains(yandexDomains, domain):
		domain = "yandex.ru"
		return strings.ToLower(user) + "@" + domain, true
	default:
		return strings.ToLower(user) + "@" + domain, true
	}
	if user == "" {
		return "", false
	}
	return strings.ToLower(user) + "@" + domain, true
}

// removeSingleDots drops every lone '.', keeping runs of two or more, as
// validator.js does since Gmail treats "a..b" as a distinct address.
func removeSingleDots(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '.' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '.' {
			j++
		}
		if j-i > 1 {
			b.WriteString(s[i:j])
		}
		i = j
	}
	return b.String()
}
