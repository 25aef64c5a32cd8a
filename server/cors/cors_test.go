package cors

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestHeadersMatchGin: the headers Headers adds to an answer written
// without the middleware are the ones the Gin middleware gives the same
// request, for allowed, refused, same-host and absent origins.
func TestHeadersMatchGin(t *testing.T) {
	gin.SetMode(gin.TestMode)
	const host = "api.example.test:8080"
	for _, anyOrigin := range []bool{false, true} {
		origins := []string{"http://app.example.test:3000"}
		if anyOrigin {
			origins = []string{"*"}
		}
		p := New(origins, []string{"GET", "POST"})
		r := gin.New()
		r.Use(p.Gin())
		r.POST("/feed/post", func(c *gin.Context) { c.Status(http.StatusRequestEntityTooLarge) })
		for _, origin := range []string{"http://app.example.test:3000", "http://evil.example.test", "http://" + host, ""} {
			req := httptest.NewRequest("POST", "http://"+host+"/feed/post", nil)
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			got := http.Header{}
			p.Headers(got, origin, host)
			for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary"} {
				if g, w := got.Values(k), rec.Header().Values(k); len(g) != len(w) || len(g) > 0 && g[0] != w[0] {
					t.Errorf("origins %v, Origin %q: %s = %q, the middleware gives %q", origins, origin, k, g, w)
				}
			}
		}
	}
}
