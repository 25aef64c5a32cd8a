package server

import (
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"feedrt/server/realtime"
)

// loadEnv loads the config from an environment holding only vars.
func loadEnv(vars map[string]string) (Config, error) {
	return LoadConfig(func(k string) string { return vars[k] })
}

// configLog is the config as the start-up log shows it.
func configLog(c Config) string {
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "config", c)
	return buf.String()
}

func TestLoadConfigDefaultsAndEnv(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.PostsPerPage != 2 || c.BcryptCost != 12 || c.JWTTTL != time.Hour || !c.GeneratedSecret || len(c.JWTSecret) < 32 {
		t.Errorf("defaults: %+v", c)
	}
	vars := map[string]string{
		"PORT": "9000", "CORS_ORIGINS": " https://a.example , http://b.example:8081 ", "CORS_METHODS": "get,post",
		"MONGODB_URI": "mongodb://user:hunter2hunter2@db:27017/feed", "JWT_SECRET": strings.Repeat("k", 32),
		"POSTS_PER_PAGE": "10", "LOG_LEVEL": "debug",
	}
	c, err = loadEnv(vars)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9000 || c.PostsPerPage != 10 || c.GeneratedSecret || c.LogLevel != slog.LevelDebug ||
		strings.Join(c.AllowedOrigins, " ") != "https://a.example http://b.example:8081" ||
		strings.Join(c.AllowedMethods, " ") != "GET POST" {
		t.Errorf("from env: %+v", c)
	}
	logged := configLog(c)
	if strings.Contains(logged, "hunter2") || strings.Contains(logged, strings.Repeat("k", 32)) {
		t.Errorf("secret in log: %s", logged)
	}
}

// TestLoadConfigImagePixels: the pixel cap has its default, reads
// MAX_IMAGE_PIXELS, refuses a value that is not a positive integer, and
// shows in the start-up log.
func TestLoadConfigImagePixels(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil || c.MaxImagePixels != 40_000_000 {
		t.Errorf("default MaxImagePixels = %d, %v; want 40000000", c.MaxImagePixels, err)
	}
	c, err = loadEnv(map[string]string{"MAX_IMAGE_PIXELS": "1000000"})
	if err != nil || c.MaxImagePixels != 1_000_000 {
		t.Errorf("MAX_IMAGE_PIXELS=1000000: MaxImagePixels = %d, %v", c.MaxImagePixels, err)
	}
	logged := configLog(c)
	if !strings.Contains(logged, "config.max_image_pixels=1000000") {
		t.Errorf("pixel cap not in the log: %s", logged)
	}
	for _, v := range []string{"0", "-5", "4e7", "lots"} {
		if _, err := loadEnv(map[string]string{"MAX_IMAGE_PIXELS": v}); err == nil ||
			!strings.Contains(err.Error(), "MAX_IMAGE_PIXELS") {
			t.Errorf("MAX_IMAGE_PIXELS=%s: error %v, want one naming the variable", v, err)
		}
	}
}

// TestLoadConfigImageSweep: the sweep's age and interval have their
// defaults, read their variables, refuse what is not a positive duration,
// and show in the start-up log.
func TestLoadConfigImageSweep(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil || c.ImageSweepAge != time.Hour || c.ImageSweepInterval != time.Hour {
		t.Errorf("defaults: age %v, interval %v, %v; want 1h, 1h", c.ImageSweepAge, c.ImageSweepInterval, err)
	}
	vars := map[string]string{"IMAGE_SWEEP_AGE": "30m", "IMAGE_SWEEP_INTERVAL": "5m"}
	c, err = loadEnv(vars)
	if err != nil || c.ImageSweepAge != 30*time.Minute || c.ImageSweepInterval != 5*time.Minute {
		t.Errorf("from env: age %v, interval %v, %v", c.ImageSweepAge, c.ImageSweepInterval, err)
	}
	logged := configLog(c)
	if !strings.Contains(logged, "config.image_sweep_age=30m0s") || !strings.Contains(logged, "config.image_sweep_interval=5m0s") {
		t.Errorf("sweep settings not in the log: %s", logged)
	}
	for _, name := range []string{"IMAGE_SWEEP_AGE", "IMAGE_SWEEP_INTERVAL"} {
		for _, v := range []string{"0s", "-1h", "3600"} {
			if _, err := loadEnv(map[string]string{name: v}); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: error %v, want one naming the variable", name, v, err)
			}
		}
	}
}

// TestConfigLoginProtection: the bcrypt cap and the failed-login limits
// have their defaults, are read from the environment, and bad values
// stop the start naming the variable.
func TestConfigLoginProtection(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.BcryptConcurrency != runtime.GOMAXPROCS(0) || c.LoginEmailBurst != 10 || c.LoginEmailInterval != 10*time.Second ||
		c.LoginAddressBurst != 50 || c.LoginAddressInterval != 2*time.Second || c.LoginLimitKeys != 100_000 {
		t.Errorf("defaults: %+v", c)
	}
	vars := map[string]string{
		"BCRYPT_CONCURRENCY": "3", "LOGIN_EMAIL_BURST": "5", "LOGIN_EMAIL_INTERVAL": "1m",
		"LOGIN_ADDRESS_BURST": "20", "LOGIN_ADDRESS_INTERVAL": "500ms", "LOGIN_LIMIT_KEYS": "1000",
	}
	c, err = loadEnv(vars)
	if err != nil {
		t.Fatal(err)
	}
	if c.BcryptConcurrency != 3 || c.LoginEmailBurst != 5 || c.LoginEmailInterval != time.Minute ||
		c.LoginAddressBurst != 20 || c.LoginAddressInterval != 500*time.Millisecond || c.LoginLimitKeys != 1000 {
		t.Errorf("from env: %+v", c)
	}
	for name, bad := range map[string]string{
		"BCRYPT_CONCURRENCY": "0", "LOGIN_EMAIL_BURST": "0", "LOGIN_EMAIL_INTERVAL": "10",
		"LOGIN_ADDRESS_BURST": "many", "LOGIN_ADDRESS_INTERVAL": "-1s", "LOGIN_LIMIT_KEYS": "0",
	} {
		_, err := loadEnv(map[string]string{name: bad})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v, want one naming it", name, bad, err)
		}
	}
	logged := configLog(c)
	for _, key := range []string{"bcrypt_concurrency=3", "login_email_burst=5", "login_email_interval=1m0s",
		"login_address_burst=20", "login_address_interval=500ms", "login_limit_keys=1000"} {
		if !strings.Contains(logged, key) {
			t.Errorf("start-up log lacks %s: %s", key, logged)
		}
	}
}

// TestConfigTrustedProxies: TRUSTED_PROXIES is a list of IPs and CIDRs,
// none by default; anything else stops the start.
func TestConfigTrustedProxies(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil || c.TrustedProxies != nil {
		t.Errorf("default: %q, %v; want none", c.TrustedProxies, err)
	}
	c, err = loadEnv(map[string]string{"TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,::1 "})
	if err != nil || strings.Join(c.TrustedProxies, " ") != "127.0.0.1 10.0.0.0/8 ::1" {
		t.Errorf("from env: %q, %v", c.TrustedProxies, err)
	}
	for _, bad := range []string{"localhost", "10.0.0.300", "10.0.0.0/33", "127.0.0.1:80"} {
		_, err := loadEnv(map[string]string{"TRUSTED_PROXIES": bad})
		if err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") {
			t.Errorf("TRUSTED_PROXIES=%q: error %v, want one naming it", bad, err)
		}
	}
}

// TestLoadConfigAdminUI: the Admin UI is off without credentials, needs
// both of them and a real bcrypt hash, reads its mode and read-only flag,
// and the start-up log never shows the hash.
func TestLoadConfigAdminUI(t *testing.T) {
	const hash = "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS" // the plugin README's "changeit"
	c, err := loadEnv(nil)
	if err != nil || c.AdminUsername != "" || !c.AdminDevelopment || c.AdminReadonly || !strings.Contains(c.AdminServerID, "#") {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	if !strings.Contains(configLog(c), "admin_ui=(off)") {
		t.Errorf("log without the admin UI: %s", configLog(c))
	}
	c, err = loadEnv(map[string]string{"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD_BCRYPT": hash,
		"ADMIN_READONLY": "true", "ADMIN_MODE": "production", "ADMIN_SERVER_ID": "eu-1"})
	if err != nil || c.AdminUsername != "admin" || c.AdminPasswordBcrypt != hash || !c.AdminReadonly || c.AdminDevelopment || c.AdminServerID != "eu-1" {
		t.Errorf("from env: %+v, %v", c, err)
	}
	if logged := configLog(c); strings.Contains(logged, "heqvAkYM") || !strings.Contains(logged, "admin_ui.username=admin") {
		t.Errorf("log: %s", logged)
	}
	for _, vars := range []map[string]string{
		{"ADMIN_USERNAME": "admin"},
		{"ADMIN_PASSWORD_BCRYPT": hash},
		{"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD_BCRYPT": "changeit"},
		{"ADMIN_READONLY": "maybe"},
		{"ADMIN_MODE": "staging"},
	} {
		if _, err := loadEnv(vars); err == nil || !strings.Contains(err.Error(), "ADMIN_") {
			t.Errorf("%v: err %v, want one naming the variable", vars, err)
		}
	}
}

// TestLoadConfigListenerAddrs: METRICS_ADDR and PPROF_ADDR, the addresses
// of the two listeners kept off the public port, are off by default, read
// as host:port, refused when malformed (METRICS_ADDR also on the public
// port), and shown in the start-up log.
func TestLoadConfigListenerAddrs(t *testing.T) {
	for _, tc := range []struct {
		env, logKey, addr string // addr: a valid value
		got               func(Config) string
		refused           []map[string]string
	}{
		{"METRICS_ADDR", "metrics_addr", "127.0.0.1:9464", func(c Config) string { return c.MetricsAddr }, []map[string]string{
			{"METRICS_ADDR": "9464"},
			{"METRICS_ADDR": ":8080"},                          // the default PORT
			{"METRICS_ADDR": "127.0.0.1:9000", "PORT": "9000"}, // the public port on one interface
		}},
		{"PPROF_ADDR", "pprof_addr", "127.0.0.1:6060", func(c Config) string { return c.PprofAddr }, []map[string]string{
			{"PPROF_ADDR": "6060"},
		}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			c, err := loadEnv(nil)
			if err != nil || tc.got(c) != "" {
				t.Errorf("default %s = %q, %v; want off", tc.env, tc.got(c), err)
			}
			if logged := configLog(c); !strings.Contains(logged, "config."+tc.logKey+"=(off)") {
				t.Errorf("%s off not in the log: %s", tc.env, logged)
			}
			c, err = loadEnv(map[string]string{tc.env: tc.addr})
			if err != nil || tc.got(c) != tc.addr {
				t.Errorf("%s=%s: got %q, %v", tc.env, tc.addr, tc.got(c), err)
			}
			if logged := configLog(c); !strings.Contains(logged, "config."+tc.logKey+"="+tc.addr) {
				t.Errorf("%s not in the log: %s", tc.env, logged)
			}
			for _, env := range tc.refused {
				if _, err := loadEnv(env); err == nil || !strings.Contains(err.Error(), tc.env) {
					t.Errorf("%v: error %v, want one naming %s", env, err, tc.env)
				}
			}
		})
	}
}

// TestLoadConfigGCPercent: the collector's target is 50 unless GOGC is
// set, which the Go runtime reads itself (GCPercent 0: leave it).
func TestLoadConfigGCPercent(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil || c.GCPercent != 50 {
		t.Errorf("default GCPercent = %d, %v; want 50", c.GCPercent, err)
	}
	if logged := configLog(c); !strings.Contains(logged, "config.gc_percent=50") {
		t.Errorf("GC percent not in the log: %s", logged)
	}
	c, err = loadEnv(map[string]string{"GOGC": "200"})
	if err != nil || c.GCPercent != 0 {
		t.Errorf("GOGC=200: GCPercent = %d, %v; want 0 (the runtime's)", c.GCPercent, err)
	}
}

// TestLoadConfigRedisAdapter: the cluster's protocol is pub/sub unless
// REDIS_ADAPTER says streams; anything else is refused, naming the
// variable; the streams adapter's settings have Node's defaults, are read
// from their variables, and show in the start-up log.
func TestLoadConfigRedisAdapter(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.RedisAdapter != RedisPubSub || c.RedisStreamName != "socket.io" || c.RedisSessionKeyPrefix != "sio:session:" ||
		c.RedisStreamMaxLen != 10_000 || c.RedisStreamReadCount != 100 || c.RedisStreamBlockTime != 5*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	c, err = loadEnv(map[string]string{
		"REDIS_ADAPTER": "streams", "REDIS_STREAM_NAME": "feed-events",
		"REDIS_SESSION_KEY_PREFIX": "feed:session:", "REDIS_STREAM_MAXLEN": "500",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.RedisAdapter != RedisStreams || c.RedisStreamName != "feed-events" || c.RedisSessionKeyPrefix != "feed:session:" || c.RedisStreamMaxLen != 500 {
		t.Errorf("from env: %+v", c)
	}
	logged := configLog(c)
	for _, want := range []string{"redis_adapter=streams", "redis_stream_name=feed-events", "redis_session_key_prefix=feed:session:", "redis_stream_maxlen=500"} {
		if !strings.Contains(logged, want) {
			t.Errorf("start-up log lacks %s: %s", want, logged)
		}
	}
	for name, bad := range map[string]string{"REDIS_ADAPTER": "stream", "REDIS_STREAM_MAXLEN": "0"} {
		_, err := loadEnv(map[string]string{name: bad})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v, want one naming the variable", name, bad, err)
		}
	}
}

// REDIS_SESSION_REFRESH: half the recovery window by default, read from
// its variable, logged, and refused when not below the window (the
// connected sockets' sessions would expire between refreshes).
func TestLoadConfigSessionRefresh(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.RedisSessionRefresh != realtime.RecoveryWindow/2 {
		t.Errorf("default %v, want %v", c.RedisSessionRefresh, realtime.RecoveryWindow/2)
	}
	if c, err = loadEnv(map[string]string{"REDIS_SESSION_REFRESH": "20s"}); err != nil || c.RedisSessionRefresh != 20*time.Second {
		t.Errorf("REDIS_SESSION_REFRESH=20s: %v, %v", c.RedisSessionRefresh, err)
	}
	if logged := configLog(c); !strings.Contains(logged, "redis_session_refresh=20s") {
		t.Errorf("start-up log lacks redis_session_refresh=20s: %s", logged)
	}
	for _, bad := range []string{"0s", "soon", realtime.RecoveryWindow.String(), "1h"} {
		if _, err := loadEnv(map[string]string{"REDIS_SESSION_REFRESH": bad}); err == nil || !strings.Contains(err.Error(), "REDIS_SESSION_REFRESH") {
			t.Errorf("REDIS_SESSION_REFRESH=%s: error %v, want one naming the variable", bad, err)
		}
	}
}

// TestLoadConfigClientBounds: what the server holds for slow Socket.IO
// clients and the connection maximum have their defaults (the maximum
// from the descriptor limit), read their variables, refuse what is out
// of range, and show in the start-up log.
func TestLoadConfigClientBounds(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil || c.SocketMaxQueued != 1<<20 || c.SocketMaxQueuedTotal != 256<<20 || c.MaxConnections != maxConnectionsFor(descriptorLimit()) {
		t.Errorf("defaults: %d, %d, %d, %v", c.SocketMaxQueued, c.SocketMaxQueuedTotal, c.MaxConnections, err)
	}
	c, err = loadEnv(map[string]string{"SOCKETIO_MAX_QUEUED_BYTES": "2097152", "SOCKETIO_MAX_QUEUED_TOTAL_BYTES": "1073741824", "MAX_CONNECTIONS": "5000"})
	if err != nil || c.SocketMaxQueued != 2<<20 || c.SocketMaxQueuedTotal != 1<<30 || c.MaxConnections != 5000 {
		t.Errorf("from env: %d, %d, %d, %v", c.SocketMaxQueued, c.SocketMaxQueuedTotal, c.MaxConnections, err)
	}
	logged := configLog(c)
	for _, want := range []string{"config.socketio_max_queued_bytes=2097152", "config.socketio_max_queued_total_bytes=1073741824", "config.max_connections=5000"} {
		if !strings.Contains(logged, want) {
			t.Errorf("%s not in the log: %s", want, logged)
		}
	}
	for name, v := range map[string]string{"SOCKETIO_MAX_QUEUED_BYTES": "100", "SOCKETIO_MAX_QUEUED_TOTAL_BYTES": "1k", "MAX_CONNECTIONS": "0"} {
		if _, err := loadEnv(map[string]string{name: v}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v, want one naming the variable", name, v, err)
		}
	}
	for limit, want := range map[uint64]int{1024: 768, 20_000: 19_000, 300: 150, 1 << 20: 1<<20 - 1<<20/20} {
		if got := maxConnectionsFor(limit); got != want {
			t.Errorf("maxConnectionsFor(%d) = %d, want %d", limit, got, want)
		}
	}
}
