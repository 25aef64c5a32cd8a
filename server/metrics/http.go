package metrics

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Route labels for requests that have no route template of their own.
const (
	// unmatchedRoute labels every request no route matched (Gin's
	// FullPath is empty), so scanners probing random paths add no series.
	unmatchedRoute = "unmatched"
)

// httpMetrics counts and times REST requests by route template, method
// and status class.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	labels := []string{"route", "method", "status"}
	h := &httpMetrics{
		requests: newCounterVec(reg, "http_requests_total",
			"HTTP requests answered, by route template (\"unmatched\" when no route matched), method and status class (2xx, 4xx, ...). Socket.IO's requests are not counted.",
			labels...),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "http_request_duration_seconds",
			Help:      "Time from a request's arrival at the router to the end of its handler, by route template, method and status class.",
			Buckets:   prometheus.DefBuckets,
		}, labels),
	}
	reg.MustRegister(h.duration)
	return h
}

// HTTPMiddleware counts and times every request it sees (the server
// routes Socket.IO's past Gin: a long-polling GET is held open for up to
// pingInterval, which would drown the REST API's latency, and the engine
// reports its own metrics). Put
// it first, so the status it reads is the final one (the recovery
// middleware's 500 included). The route label is Gin's template
// (/feed/post/:postId), never the path, and the method is one of the
// standard ones or "other", so a client cannot create series at will.
func (m *Metrics) HTTPMiddleware() gin.HandlerFunc {
	if m == nil {
		return func(c *gin.Context) { c.Next() }
	}
	h := m.http
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		method, status := methodLabel(c.Request.Method), statusClass(c.Writer.Status())
		h.requests.WithLabelValues(route, method, status).Inc()
		h.duration.WithLabelValues(route, method, status).Observe(time.Since(start).Seconds())
	}
}

// methodLabel is the method if it is a standard one, else "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// statusClasses are the labels of the status classes 1xx to 5xx.
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// statusClass is "2xx" for 200 to 299 and so on; "other" outside 100–599.
func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return statusClasses[code/100-1]
}
