// Package cors is the server's one cross-origin policy: the settings of
// Node's cors package (which Express's cors() middleware and socket.io's
// cors option both use), answered the same way by the REST routes (Gin)
// and the Engine.IO handler. It is a package of its own, not part of
// server/, because the conformance command serves Engine.IO behind a
// policy too ("*") without the rest of the server.
package cors

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Options are the operator's CORS settings. The tags are read by the
// config layer (github.com/caarlos0/env); this package only declares
// them, so the defaults and the variable names live next to the fields.
type Options struct {
	Origins        []string      `env:"CORS_ORIGINS" envDefault:"http://localhost:3000,http://localhost:5173" desc:"page origins (scheme://host[:port]) allowed to call the API and open Socket.IO connections; * allows any"`
	Methods        []string      `env:"CORS_METHODS" envDefault:"GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS" desc:"methods a preflight allows"`
	Headers        []string      `env:"CORS_HEADERS" desc:"request headers a preflight allows; empty allows the ones the browser asks for"`
	ExposedHeaders []string      `env:"CORS_EXPOSED_HEADERS" desc:"response headers a page's script may read besides the safelisted ones"`
	Credentials    bool          `env:"CORS_CREDENTIALS" envDefault:"true" desc:"let pages send cookies and credentials (socket.io-client 2.x polls with them)"`
	MaxAge         time.Duration `env:"CORS_MAX_AGE" desc:"how long a browser may reuse a preflight's answer; 0 leaves it to the browser"`
}

// Check reports every setting that could never work, each error
// starting with its variable's name so the operator knows what to fix.
func (o Options) Check() error {
	var errs []error
	for _, s := range o.Origins {
		if err := checkOrigin(s); err != nil {
			errs = append(errs, fmt.Errorf("CORS_ORIGINS: %w", err))
		}
	}
	for _, m := range o.Methods {
		if !isToken(m) {
			errs = append(errs, fmt.Errorf("CORS_METHODS: %q is not a method like GET", m))
		}
	}
	for _, l := range []struct {
		name  string
		names []string
	}{{"CORS_HEADERS", o.Headers}, {"CORS_EXPOSED_HEADERS", o.ExposedHeaders}} {
		for _, h := range l.names {
			if !isToken(h) {
				errs = append(errs, fmt.Errorf("%s: %q is not a header name like Content-Type", l.name, h))
			}
		}
	}
	if o.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("CORS_MAX_AGE: %s is negative", o.MaxAge))
	}
	return errors.Join(errs...)
}

// checkOrigin accepts "*" or a bare scheme://host[:port], the form a
// browser sends in the Origin header; anything else could never match.
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin like https://app.example.com", o)
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110 5.6.2), the
// syntax of both method and header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// Policy is the one cross-origin policy that both the REST routes and
// the Socket.IO handshake obey. Its header values are joined once, in
// New, since every polling request reads them.
type Policy struct {
	anyOrigin   bool
	origins     []string
	methods     string
	headers     string // "": reflect the preflight's Access-Control-Request-Headers
	exposed     string
	credentials bool
	maxAge      string // "": no Access-Control-Max-Age
}

// New is the policy of o. It trusts o (see Check): a bad origin merely
// never matches.
func New(o Options) Policy {
	p := Policy{
		anyOrigin:   slices.Contains(o.Origins, "*"),
		headers:     strings.Join(o.Headers, ","),
		exposed:     strings.Join(o.ExposedHeaders, ","),
		credentials: o.Credentials,
	}
	for _, s := range o.Origins {
		p.origins = append(p.origins, strings.TrimSuffix(s, "/"))
	}
	methods := make([]string, len(o.Methods))
	for i, m := range o.Methods {
		methods[i] = strings.ToUpper(m)
	}
	p.methods = strings.Join(methods, ",")
	if o.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64(o.MaxAge/time.Second), 10)
	}
	return p
}

// allows reports whether a browser page from origin may call the server.
// Origins compare case-insensitively, as browsers send them lower-case.
func (p Policy) allows(origin string) bool {
	if p.anyOrigin {
		return true
	}
	return slices.ContainsFunc(p.origins, func(o string) bool { return strings.EqualFold(o, origin) })
}

// sameHost: a page served by this very host is not a cross-origin
// caller, whatever the origin list says (as gin-contrib/cors has it).
func sameHost(r *http.Request, origin string) bool {
	return origin == "http://"+r.Host || origin == "https://"+r.Host
}

// AllowsRequest is the WebSocket upgrade's origin check: a request with
// no Origin (not from a browser) or from an allowed or same-host page.
func (p Policy) AllowsRequest(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || p.allows(origin) || sameHost(r, origin)
}

// answer sets the CORS headers of r's answer in h, in the order and
// with the rules of Node's cors, and reports whether r comes from a
// page of an origin that is refused. Every OPTIONS request counts as a
// preflight, as there.
//
// Where Node's cors would still send Access-Control-Allow-Credentials
// and -Methods to a refused origin, answer sends none: without
// Access-Control-Allow-Origin a browser ignores them anyway.
func (p Policy) answer(h http.Header, r *http.Request) (refused bool) {
	// The answer depends on Origin whatever it is, so a cache must key
	// on it, including for requests without one (as Node's cors does for
	// an origin list).
	vary(h, "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	if !p.allows(origin) {
		return !sameHost(r, origin)
	}
	// Echo the origin, never "*": a browser refuses "*" together with
	// credentials, and the answer is the same either way.
	h.Set("Access-Control-Allow-Origin", origin)
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions {
		setIf(h, "Access-Control-Allow-Methods", p.methods)
		headers := p.headers
		if headers == "" {
			headers = r.Header.Get("Access-Control-Request-Headers")
			vary(h, "Access-Control-Request-Headers")
		}
		setIf(h, "Access-Control-Allow-Headers", headers)
		setIf(h, "Access-Control-Max-Age", p.maxAge)
	}
	setIf(h, "Access-Control-Expose-Headers", p.exposed)
	return false
}

// setIf sets a header only when it has a value: Node's cors leaves an
// empty one out.
func setIf(h http.Header, key, value string) {
	if value != "" {
		h.Set(key, value)
	}
}

// vary adds field to Vary unless it (or "*") is there already, as Node's
// vary package does, so a handler's own Vary is kept.
func vary(h http.Header, field string) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, field) {
				return
			}
		}
	}
	h.Add("Vary", field)
}

// endPreflight ends an OPTIONS request with 204 and an explicit
// Content-Length: 0, as Node's cors does (Safari waits for a body
// otherwise). net/http leaves it out of a 204, as RFC 9110 wants; the
// Engine.IO poller, which writes the headers as given, sends it.
func endPreflight(w http.ResponseWriter) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

// refusal is the contract's error body for a refused origin, a struct
// (not a map) so its keys come in Express's order.
var refusal = struct {
	Message string `json:"message"`
	Data    []any  `json:"data"`
}{"Origin not allowed.", []any{}}

// Gin returns the CORS middleware for the REST routes and static files.
// A refused origin gets the contract's JSON error and no CORS headers;
// a preflight ends here.
func (p Policy) Gin() gin.HandlerFunc {
	return func(c *gin.Context) {
		if p.answer(c.Writer.Header(), c.Request) {
			c.AbortWithStatusJSON(http.StatusForbidden, refusal)
			return
		}
		if c.Request.Method == http.MethodOptions {
			endPreflight(c.Writer)
			c.Abort()
		}
	}
}

// EngineIO puts the Engine.IO server behind the same policy, as Node's
// engine.io does with its cors option: a refused origin gets no CORS
// headers (the browser then keeps the answer from the page, and a
// WebSocket upgrade is refused by AllowsRequest); preflights end here.
func (p Policy) EngineIO(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.answer(w.Header(), r)
		if r.Method == http.MethodOptions {
			endPreflight(w)
			return
		}
		h.ServeHTTP(w, r)
	})
}
