// Package cors is the server's one cross-origin policy: the origin and
// method lists that the REST routes (Gin) and the Engine.IO handler both
// obey, answered the same way by both. It is a package of its own, not
// part of server/, because the conformance command serves Engine.IO
// behind a policy too ("*") without the rest of the server.
package cors

import (
	"net/http"
	"slices"
	"strings"

	gincors "github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// allowedHeaders are the request headers a browser may send cross-origin:
// JSON bodies and the bearer token.
var allowedHeaders = []string{"Content-Type", "Authorization"}

// Policy is the one origin/method list that both the REST routes and
// the Socket.IO handshake obey.
type Policy struct {
	anyOrigin bool
	origins   []string
	methods   []string
}

// New is the policy allowing pages from origins ("*": any) to use
// methods.
func New(origins, methods []string) Policy {
	return Policy{
		anyOrigin: slices.Contains(origins, "*"),
		origins:   origins,
		methods:   methods,
	}
}

// allows reports whether a browser page from origin may call the server.
// Origins compare case-insensitively, as browsers send them lower-case.
func (p Policy) allows(origin string) bool {
	if p.anyOrigin {
		return true
	}
	return slices.ContainsFunc(p.origins, func(o string) bool { return strings.EqualFold(strings.TrimSuffix(o, "/"), origin) })
}

// Gin returns the CORS middleware for the REST routes and static files.
// A disallowed origin is refused with the contract's JSON error and no
// Access-Control-Allow-Origin; gin-contrib/cors would answer 403 with no
// body, so the refusal is written here first.
func (p Policy) Gin() gin.HandlerFunc {
	mw := gincors.New(gincors.Config{
		// Reflect the allowed origin (never "*"), exactly as the Socket.IO
		// side does, so both answer a given page the same way.
		AllowOriginFunc: p.allows,
		AllowMethods:    p.methods,
		AllowHeaders:    allowedHeaders,
	})
	return func(c *gin.Context) {
		if origin := c.GetHeader("Origin"); origin != "" && !p.allows(origin) && !sameHost(c.Request, origin) {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"message": "Origin not allowed.", "data": []any{}})
			return
		}
		mw(c)
	}
}

// sameHost mirrors gin-contrib/cors: a page served by this very host is
// not a cross-origin caller.
func sameHost(r *http.Request, origin string) bool {
	return origin == "http://"+r.Host || origin == "https://"+r.Host
}

// AllowsRequest is the WebSocket upgrade's origin check: a request with
// no Origin (not from a browser) or from an allowed or same-host page.
func (p Policy) AllowsRequest(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || p.allows(origin) || sameHost(r, origin)
}

// EngineIO puts the Engine.IO server behind the same policy, answered as
// Node's engine.io answers with its cors option: an allowed origin is
// echoed with credentials (socket.io-client 2.x polls with
// withCredentials, which a browser only lets through with them; safe,
// since the origin is echoed, never "*"); a disallowed one gets no CORS
// headers, so the browser keeps the answer from the page; preflights
// end here with 204.
func (p Policy) EngineIO(h http.Handler) http.Handler {
	methods := strings.Join(p.methods, ",")
	headers := strings.Join(allowedHeaders, ",")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && p.allows(origin) {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Allow-Credentials", "true")
			hd.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				hd.Set("Access-Control-Allow-Methods", methods)
				hd.Set("Access-Control-Allow-Headers", headers)
			}
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}
