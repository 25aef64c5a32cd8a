package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// allowedHeaders are the request headers a browser may send cross-origin:
// JSON bodies and the bearer token.
var allowedHeaders = []string{"Content-Type", "Authorization"}

// corsPolicy is the one origin/method list that both the REST routes and
// the Socket.IO handshake obey.
type corsPolicy struct {
	anyOrigin bool
	origins   []string
	methods   []string
}

func newCORSPolicy(origins, methods []string) corsPolicy {
	return corsPolicy{
		anyOrigin: slices.Contains(origins, "*"),
		origins:   origins,
		methods:   methods,
	}
}

// allows reports whether a browser page from origin may call the server.
// Origins compare case-insensitively, as browsers send them lower-case.
func (p corsPolicy) allows(origin string) bool {
	if p.anyOrigin {
		return true
	}
	return slices.ContainsFunc(p.origins, func(o string) bool { return strings.EqualFold(strings.TrimSuffix(o, "/"), origin) })
}

// gin returns the CORS middleware for the REST routes and static files.
// A disallowed origin is refused with the contract's JSON error and no
// Access-Control-Allow-Origin; gin-contrib/cors would answer 403 with no
// body, so the refusal is written here first.
func (p corsPolicy) gin() gin.HandlerFunc {
	mw := cors.New(cors.Config{
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

// socketIO returns the same policy in the Socket.IO library's form. The
// library applies it to the polling handshake and to the WebSocket
// upgrade's origin check.
func (p corsPolicy) socketIO() *types.Cors {
	return &types.Cors{
		Origin:         p.allows,
		Methods:        p.methods,
		AllowedHeaders: allowedHeaders,
		// socket.io-client 2.x sends its polling requests with credentials
		// (withCredentials), which a browser only lets through with this
		// header. Safe: the allowed origin is echoed back, never "*".
		Credentials: true,
	}
}
