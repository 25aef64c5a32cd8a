package server

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"feedrt/server/metrics/metricstest"
	"feedrt/server/servertest"
	"feedrt/store/mongostore/ferretdbtest"
	"feedrt/store/storetest"
)

// withMetrics is a config edit that turns metrics on, on a free port.
func withMetrics(c *Config) { c.Ops.MetricsAddr = "127.0.0.1:0" }

// scrape reads env's metrics as Prometheus would.
func scrape(t *testing.T, env *testEnv) metricFamilies {
	t.Helper()
	addr := env.srv.MetricsAddr()
	if addr == "" {
		t.Fatal("metrics are off")
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("scrape: %s", res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return fams
}

// metricFamilies is one scrape, by metric name.
type metricFamilies map[string]*dto.MetricFamily

// value adds up the series of name whose labels include the pairs
// (name, value, ...): see metricstest.Sum. 0 when the scrape lacks name.
func (f metricFamilies) value(name string, pairs ...string) float64 {
	return metricstest.Sum(f[name], pairs...)
}

// waitMetric polls env's metrics until name with pairs reaches want.
func waitMetric(t *testing.T, env *testEnv, want float64, name string, pairs ...string) {
	t.Helper()
	var got float64
	storetest.WaitFor(t, fmt.Sprintf("%s%v = %v", name, pairs, want), func() bool {
		got = scrape(t, env).value(name, pairs...)
		return got == want
	})
}

// TestMetricsHTTPStoreImages: requests through the public port move the
// HTTP, store and image metrics on the metrics port; the public port
// has no /metrics; Socket.IO's requests are not counted; Shutdown closes
// the metrics listener.
func TestMetricsHTTPStoreImages(t *testing.T) {
	env := mustStart(t, withMetrics)
	first := scrape(t, env)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "feedrt_build_info"} {
		if first[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if status, _ := servertest.Do(t, "GET", env.url+"/metrics", ""); status != 404 {
		t.Errorf("GET /metrics on the public port: %d, want 404", status)
	}

	api, _ := mustUser(t, env.url, "mia@example.com", "Mia")
	img := pngBytes(t, 9)
	status, body := api.form("POST", "/feed/post", map[string]string{"title": "Measured", "content": "A post to count"}, img)
	if status != 201 {
		t.Fatalf("create: %d %v", status, body)
	}
	post, _ := body["post"].(map[string]any)
	// The middleware counts a request once its handler has returned,
	// just after the answer went out: poll.
	waitMetric(t, env, 1, "feedrt_http_requests_total", "route", "/feed/post", "method", "POST", "status", "2xx")
	handshake(t, env.url+"/socket.io/")
	if status, _ := servertest.Do(t, "GET", env.url+"/no/such/path", ""); status != 404 {
		t.Errorf("unknown path: %d", status)
	}
	// This one and the public port's /metrics.
	waitMetric(t, env, 2, "feedrt_http_requests_total", "route", "unmatched", "status", "4xx")

	m := scrape(t, env)
	for _, c := range []struct {
		name  string
		pairs []string
		want  float64
	}{
		{"feedrt_http_request_duration_seconds", []string{"route", "/feed/post", "method", "POST", "status", "2xx"}, 1},
		{"feedrt_http_requests_total", []string{"route", "/auth/signup", "method", "PUT", "status", "2xx"}, 1},
		{"feedrt_http_requests_total", []string{"route", "unmatched"}, 2}, // the two 404s: Socket.IO never reaches Gin
		{"feedrt_store_operations_total", []string{"operation", "CreatePost", "outcome", "ok"}, 1},
		{"feedrt_store_operations_total", []string{"operation", "UserByEmail", "outcome", "not_found"}, 1}, // signup's check
		{"feedrt_store_operation_duration_seconds", []string{"operation", "CreatePost"}, 1},
		{"feedrt_images_stored_total", nil, 1},
		{"feedrt_images_stored_bytes_total", nil, float64(len(img))},
		{"feedrt_images_removed_total", nil, 0},
	} {
		if got := m.value(c.name, c.pairs...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.pairs, got, c.want)
		}
	}
	if m["feedrt_redis_up"] != nil {
		t.Error("feedrt_redis_up without a cluster")
	}

	if status, body := api.call("DELETE", fmt.Sprintf("/feed/post/%v", post["_id"]), nil, ""); status != 200 {
		t.Fatalf("delete: %d %v", status, body)
	}
	waitMetric(t, env, 1, "feedrt_http_requests_total", "route", "/feed/post/:postId", "method", "DELETE", "status", "2xx")
	m = scrape(t, env)
	if got := m.value("feedrt_images_removed_bytes_total"); got != float64(len(img)) {
		t.Errorf("removed bytes %v, want %d", got, len(img))
	}

	addr := env.srv.MetricsAddr()
	closeIdleHTTP()
	env.stop(t)
	if res, err := http.Get("http://" + addr + "/metrics"); err == nil {
		res.Body.Close()
		t.Errorf("metrics still served after Shutdown: %s", res.Status)
	}
}

// TestMetricsOff: without METRICS_ADDR there is no metrics listener.
func TestMetricsOff(t *testing.T) {
	env := mustStart(t, nil)
	if addr := env.srv.MetricsAddr(); addr != "" || env.srv.metrics != nil {
		t.Errorf("metrics on without METRICS_ADDR: %q", addr)
	}
}

// TestMetricsStoreUnavailable: with the database stopped, the store's
// operations are counted as unavailable and the requests as 5xx.
func TestMetricsStoreUnavailable(t *testing.T) {
	db := ferretdbtest.StartServer(t) // its own, to stop it
	uri := ferretdbtest.WithDatabase(db.URI(), ferretdbtest.DBName(t))
	env := mustStart(t, func(c *Config) { withMetrics(c); c.Store.MongoURI = uri })
	api, _ := mustUser(t, env.url, "omar@example.com", "Omar")
	if status, body := api.call("GET", "/feed/posts", nil, ""); status != 200 {
		t.Fatalf("list: %d %v", status, body)
	}
	waitMetric(t, env, 1, "feedrt_store_operations_total", "operation", "ListPosts", "outcome", "ok")

	db.Stop()
	if status, body := api.call("GET", "/feed/posts", nil, ""); status != 503 {
		t.Errorf("list during the outage: %d %v", status, body)
	}
	waitMetric(t, env, 1, "feedrt_http_requests_total", "route", "/feed/posts", "method", "GET", "status", "5xx")
	if got := scrape(t, env).value("feedrt_store_operations_total", "operation", "ListPosts", "outcome", "unavailable"); got != 1 {
		t.Errorf("ListPosts unavailable = %v, want 1", got)
	}

	// Back, so the server closes its store cleanly.
	if err := db.Restart(); err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "/readyz 200 again", func() bool { status, _ := servertest.Do(t, "GET", env.url+"/readyz", ""); return status == 200 })
}

// TestMetricsRedis: the cluster's Redis up gauge follows Redis (its own
// redis-server, stopped and started again), and a post's broadcast is
// counted as published and, echoed by Redis, received.
func TestMetricsRedis(t *testing.T) {
	rp := startRedis(t, servertest.RedisConfig{})
	env := mustStart(t, func(c *Config) { withMetrics(c); clustered(rp.URL(), testPrefix(t))(c) })
	waitMetric(t, env, 1, "feedrt_redis_up")
	before := scrape(t, env)

	api, _ := mustUser(t, env.url, "noor@example.com", "Noor")
	api.mustCreatePost("Over Redis", "counted", 3)
	storetest.WaitFor(t, "the post's broadcast to be published and echoed", func() bool {
		m := scrape(t, env)
		return m.value("feedrt_redis_messages_published_total") > before.value("feedrt_redis_messages_published_total") &&
			m.value("feedrt_redis_messages_received_total") > before.value("feedrt_redis_messages_received_total")
	})

	rp.Stop()
	waitMetric(t, env, 0, "feedrt_redis_up")
	rp.Start()
	waitMetric(t, env, 1, "feedrt_redis_up")
}

// TestMetricsSockets: a socket connecting moves the connected gauge by
// one, its upgrade moves it between transports, a post's broadcast moves
// the broadcast counter and the fan-out histogram, a refused handshake
// and a client's close are counted with their cause and reason.
func TestMetricsSockets(t *testing.T) {
	env := mustStart(t, withMetrics)
	c := servertest.MustNodeClient(t, map[string]any{"url": env.url, "version": 4, "reconnection": false})
	c.MustConnect()
	waitMetric(t, env, 1, "feedrt_sockets_connected")
	waitMetric(t, env, 1, "feedrt_sockets_connected", "transport", "websocket", "protocol", "4") // upgraded
	waitMetric(t, env, 1, "feedrt_socket_connections_opened_total", "transport", "polling")

	api, _ := mustUser(t, env.url, "ada@example.com", "Ada")
	if status, body := api.form("POST", "/feed/post", map[string]string{"title": "Counted", "content": "A post to fan out"}, pngBytes(t, 9)); status != 201 {
		t.Fatalf("create: %d %v", status, body)
	}
	waitEvent(t, c, "posts")
	waitMetric(t, env, 1, "feedrt_socket_broadcasts_total", "event", "posts")
	waitMetric(t, env, 1, "feedrt_socket_fanout_duration_seconds")

	if status, _ := servertest.Do(t, "GET", env.url+"/socket.io/?EIO=4&transport=carrier-pigeon", ""); status != 400 {
		t.Errorf("bad transport: %d", status)
	}
	waitMetric(t, env, 1, "feedrt_socket_handshake_failures_total", "cause", "unknown_transport")

	c.Send(map[string]any{"op": "close"})
	waitMetric(t, env, 0, "feedrt_sockets_connected")
	waitMetric(t, env, 1, "feedrt_socket_connections_closed_total", "reason", "client")
}
