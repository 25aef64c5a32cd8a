package engineio

import (
	"errors"
	"regexp"
	"strconv"
	"time"
)

// Cookie is Node's engine.io cookie option: the cookie a handshake's
// answer sets to the session id (for sticky sessions behind a load
// balancer). Every attribute is written only when set; Node's defaults
// for `cookie: true` (name "io", path "/", HttpOnly, SameSite lax) are
// the caller's to pass.
type Cookie struct {
	Name string // required: an RFC 7230 token
	// Path and Domain, when set, are written as Path= and Domain= (Node:
	// a falsy path, e.g. false, writes none).
	Path   string
	Domain string
	// MaxAge, when set, is written as Max-Age= in whole seconds (the
	// cookie package floors Node's maxAge, which is in seconds); 0 writes
	// none (a session cookie). Negative or under a second is refused: it
	// would make the client drop the cookie at once.
	MaxAge   time.Duration
	HTTPOnly bool
	Secure   bool
	// SameSite is "lax", "strict", "none" or "" (no attribute).
	SameSite string
}

// The cookie package's (0.7) checks of a name, a domain and a path.
var (
	cookieName   = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
	cookieDomain = regexp.MustCompile(`(?i)^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	cookiePath   = regexp.MustCompile(`^[\x20-\x3A\x3D-\x7E]*$`)
)

var sameSites = map[string]string{"": "", "lax": "Lax", "strict": "Strict", "none": "None"}

// Check refuses what the cookie package's serialize throws on, so a bad
// cookie fails the start (New calls it; so does the server's config,
// which names the variables) instead of every handshake.
func (k *Cookie) Check() error {
	switch {
	case !cookieName.MatchString(k.Name):
		return errors.New("engineio: Cookie.Name must be a token (RFC 7230)")
	case k.Domain != "" && !cookieDomain.MatchString(k.Domain):
		return errors.New("engineio: Cookie.Domain is not a domain name")
	case !cookiePath.MatchString(k.Path):
		return errors.New("engineio: Cookie.Path holds a control character or ';'")
	case k.MaxAge < 0 || (k.MaxAge > 0 && k.MaxAge < time.Second):
		return errors.New("engineio: Cookie.MaxAge must be 0 or at least a second")
	}
	if _, ok := sameSites[k.SameSite]; !ok {
		return errors.New(`engineio: Cookie.SameSite must be "lax", "strict", "none" or ""`)
	}
	return nil
}

// attributes is what follows "name=value" in the header, in the order
// the cookie package's serialize writes them (it is the same for every
// session, so it is made once).
func (k *Cookie) attributes() string {
	var b []byte
	if k.MaxAge > 0 {
		b = strconv.AppendInt(append(b, "; Max-Age="...), int64(k.MaxAge/time.Second), 10)
	}
	if k.Domain != "" {
		b = append(append(b, "; Domain="...), k.Domain...)
	}
	if k.Path != "" {
		b = append(append(b, "; Path="...), k.Path...)
	}
	if k.HTTPOnly {
		b = append(b, "; HttpOnly"...)
	}
	if k.Secure {
		b = append(b, "; Secure"...)
	}
	if s := sameSites[k.SameSite]; s != "" {
		b = append(append(b, "; SameSite="...), s...)
	}
	return string(b)
}
