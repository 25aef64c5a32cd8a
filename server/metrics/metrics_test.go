package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"feedrt/store"
)

// TestNewRegistry: runtime, process and build info are there, and the
// handler serves the text format.
func TestNewRegistry(t *testing.T) {
	m := New()
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "feedrt_build_info"} {
		family(t, m, name)
	}
	if v := sample(t, m, "feedrt_build_info"); v != 1 {
		t.Errorf("feedrt_build_info = %v, want 1", v)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "feedrt_build_info{") {
		t.Errorf("handler: %d %.300s", rec.Code, rec.Body.String())
	}
	// Prometheus's naming rules (units, _total, no camel case...).
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "feedrt_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
	// Two servers in one process each have their own registry.
	if New().Registry() == m.Registry() {
		t.Error("registries shared")
	}
}

// TestBuildInfoOf picks the main version, Go's, and the two modules'
// (a replacement's version when replaced).
func TestBuildInfoOf(t *testing.T) {
	got := buildInfoOf(&debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "feedrt", Version: "v1.2.3"},
		Deps: []*debug.Module{
			{Path: ginModule, Version: "v1.12.0"},
			{Path: socketIOModule, Version: "v3.0.6", Replace: &debug.Module{Path: "../fork", Version: "v3.0.7"}},
			{Path: "example.com/other", Version: "v9.9.9"},
		},
	})
	want := buildInfo{version: "v1.2.3", goVersion: "go1.26.8", socketIO: "v3.0.7", gin: "v1.12.0"}
	if got != want {
		t.Errorf("buildInfoOf = %+v, want %+v", got, want)
	}
	if got := buildInfoOf(&debug.BuildInfo{}); got.version != "unknown" || got.gin != "unknown" || got.socketIO != "unknown" {
		t.Errorf("empty build info: %+v", got)
	}
}

// TestHTTPMiddleware: the route template, not the path; one label for
// unmatched paths; unusual methods folded. (Socket.IO's requests never
// reach Gin: the server's e2e test holds that.)
func TestHTTPMiddleware(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	m := New()
	r := gin.New()
	r.Use(m.HTTPMiddleware())
	r.GET("/feed/post/:postId", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.Handle("PROPFIND", "/dav", func(c *gin.Context) { c.Status(http.StatusInternalServerError) })
	for _, req := range []struct{ method, path string }{
		{"GET", "/feed/post/1"}, {"GET", "/feed/post/2"}, {"GET", "/nope/1"}, {"GET", "/nope/2"},
		{"PROPFIND", "/dav"},
	} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.path, nil))
	}
	for _, c := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"route", "/feed/post/:postId", "method", "GET", "status", "2xx"}, 2},
		{[]string{"route", "unmatched", "method", "GET", "status", "4xx"}, 2},
		{[]string{"route", "/dav", "method", "other", "status", "5xx"}, 1},
		{nil, 5},
	} {
		if got := sample(t, m, "feedrt_http_requests_total", c.labels...); got != c.want {
			t.Errorf("requests %v = %v, want %v", c.labels, got, c.want)
		}
		if got := sample(t, m, "feedrt_http_request_duration_seconds", c.labels...); got != c.want {
			t.Errorf("duration count %v = %v, want %v", c.labels, got, c.want)
		}
	}
}

// fakeStore answers every call with err.
type fakeStore struct {
	store.Store // nil: methods not overridden would panic
	err         error
}

func (f fakeStore) PostByID(context.Context, store.ID) (store.Post, error) {
	return store.Post{}, f.err
}
func (f fakeStore) Ping(context.Context) error { return f.err }
func (f fakeStore) Close() error               { return nil }

// TestStoreOutcomes: each sentinel (wrapped, as stores return them) is
// its outcome, anything else "error"; results pass through.
func TestStoreOutcomes(t *testing.T) {
	m := New()
	ctx := context.Background()
	for _, c := range []struct {
		err     error
		outcome string
	}{
		{nil, "ok"},
		{fmt.Errorf("post 7: %w", store.ErrNotFound), "not_found"},
		{fmt.Errorf("email: %w", store.ErrConflict), "conflict"},
		{fmt.Errorf("mongo: %w", store.ErrUnavailable), "unavailable"},
		{io.ErrUnexpectedEOF, "error"},
	} {
		st := m.Store(fakeStore{err: c.err})
		if _, err := st.PostByID(ctx, store.ID{}); err != c.err {
			t.Errorf("PostByID returned %v, want %v", err, c.err)
		}
		if got := sample(t, m, "feedrt_store_operations_total", "operation", "PostByID", "outcome", c.outcome); got != 1 {
			t.Errorf("PostByID %s = %v, want 1", c.outcome, got)
		}
	}
	if got := sample(t, m, "feedrt_store_operation_duration_seconds", "operation", "PostByID"); got != 5 {
		t.Errorf("PostByID timed %v times, want 5", got)
	}
	if got := sample(t, m, "feedrt_store_operations_total", "operation", "Ping"); got != 0 {
		t.Errorf("Ping counted %v times before any ping", got)
	}
	var none *Metrics
	if st := (fakeStore{}); none.Store(st) != store.Store(st) {
		t.Error("nil Metrics wraps the store")
	}
}

// TestImagesAndRedis: the observers' counters and gauges, and the Redis
// up gauge following its ping.
func TestImagesAndRedis(t *testing.T) {
	m := New()
	m.Images().ImageStored(100)
	m.Images().ImageStored(50)
	m.Images().ImageRemoved(100)
	r := m.Redis()
	r.Published(3)
	r.PublishFailed(2)
	r.PublishQueueFull()
	r.Received()
	r.RequestDone(2, 3, true)
	r.RequestDone(1, 1, false)
	var pingErr error
	r.WatchUp(func(context.Context) error { return pingErr })
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"feedrt_images_stored_total", nil, 2},
		{"feedrt_images_stored_bytes_total", nil, 150},
		{"feedrt_images_removed_total", nil, 1},
		{"feedrt_images_removed_bytes_total", nil, 100},
		{"feedrt_redis_messages_published_total", nil, 3},
		{"feedrt_redis_publish_errors_total", []string{"reason", "redis_error"}, 2},
		{"feedrt_redis_publish_errors_total", []string{"reason", "queue_full"}, 1},
		{"feedrt_redis_messages_received_total", nil, 1},
		{"feedrt_redis_request_timeouts_total", nil, 1},
		{"feedrt_redis_last_request_answered_servers", nil, 1},
		{"feedrt_redis_last_request_expected_servers", nil, 1},
		{"feedrt_redis_up", nil, 1},
	} {
		if got := sample(t, m, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	pingErr = io.EOF
	if got := sample(t, m, "feedrt_redis_up"); got != 0 {
		t.Errorf("feedrt_redis_up with a failing ping = %v", got)
	}
	if n := testutil.CollectAndCount(m.Registry(), "feedrt_redis_up"); n != 1 {
		t.Errorf("%d feedrt_redis_up series", n)
	}
}
