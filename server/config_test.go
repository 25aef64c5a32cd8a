package server

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
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

const adminHash = "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS" // the plugin README's "changeit"

// TestLoadConfig: each setting read from its variable (and shown so in
// the start-up log), the defaults that depend on the machine, and the
// derived ones.
func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		ok   func(Config) bool
		logs []string // in the start-up log
	}{
		{"defaults", nil, func(c Config) bool {
			return c.HTTP.Port == 8080 && c.Posts.PerPage == 2 && c.Auth.BcryptCost == 12 && c.Auth.JWTTTL == time.Hour &&
				c.GeneratedSecret && len(c.Auth.JWTSecret) >= 32 && c.Images.MaxPixels == 40_000_000 &&
				c.Auth.BcryptConcurrency == runtime.GOMAXPROCS(0) && c.HTTP.MaxConnections == maxConnectionsFor(descriptorLimit()) &&
				c.Redis.SessionRefresh == time.Minute && c.Ops.GCPercent() == 50 && c.HTTP.TrustedProxies == nil &&
				c.Admin.Development() && strings.Contains(c.Admin.ServerID, "#") && c.SocketIOPath() == "/socket.io/" &&
				slices.Equal(c.SocketIO.Transports, []string{"polling", "websocket"}) && c.Recovery.Enabled
		}, []string{"config.port=8080", "config.metrics_addr=(unset)", "config.jwt_secret=set", "config.log_level=info",
			"config.socketio_ping_interval=25s", "config.redis_session_refresh=1m0s", "config.cors_origins=http://localhost:3000,http://localhost:5173"}},
		{"listener and CORS", map[string]string{"PORT": "9000", "CORS_ORIGINS": " https://a.example , http://b.example:8081 ", "CORS_METHODS": "get,post", "LOG_LEVEL": "debug"},
			func(c Config) bool {
				return c.HTTP.Port == 9000 && c.Ops.LogLevel == slog.LevelDebug && strings.Join(c.CORS.Origins, " ") == "https://a.example http://b.example:8081"
			}, []string{"config.cors_origins=https://a.example,http://b.example:8081", "config.log_level=debug"}},
		{"secrets masked", map[string]string{"MONGODB_URI": "mongodb://user:hunter2hunter2@db:27017/feed", "JWT_SECRET": strings.Repeat("k", 32)},
			func(c Config) bool { return !c.GeneratedSecret && c.Auth.JWTSecret == strings.Repeat("k", 32) },
			[]string{"config.mongodb_uri=mongodb://user:xxxxx@db:27017/feed", "config.jwt_secret=set"}},
		{"images", map[string]string{"MAX_IMAGE_PIXELS": "1000000", "IMAGE_SWEEP_AGE": "30m", "IMAGE_SWEEP_INTERVAL": "5m"},
			func(c Config) bool {
				return c.Images.MaxPixels == 1_000_000 && c.Images.SweepAge == 30*time.Minute && c.Images.SweepInterval == 5*time.Minute
			}, []string{"config.max_image_pixels=1000000", "config.image_sweep_age=30m0s", "config.image_sweep_interval=5m0s"}},
		{"login protection", map[string]string{"BCRYPT_CONCURRENCY": "3", "LOGIN_EMAIL_BURST": "5", "LOGIN_EMAIL_INTERVAL": "1m",
			"LOGIN_ADDRESS_BURST": "20", "LOGIN_ADDRESS_INTERVAL": "500ms", "LOGIN_LIMIT_KEYS": "1000"},
			func(c Config) bool {
				a := c.Auth
				return a.BcryptConcurrency == 3 && a.LoginEmailBurst == 5 && a.LoginEmailInterval == time.Minute &&
					a.LoginAddressBurst == 20 && a.LoginAddressInterval == 500*time.Millisecond && a.LoginLimitKeys == 1000
			}, []string{"config.bcrypt_concurrency=3", "config.login_address_interval=500ms", "config.login_limit_keys=1000"}},
		{"trusted proxies", map[string]string{"TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,::1 "},
			func(c Config) bool { return strings.Join(c.HTTP.TrustedProxies, " ") == "127.0.0.1 10.0.0.0/8 ::1" }, nil},
		{"admin UI", map[string]string{"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD_BCRYPT": adminHash, "ADMIN_READONLY": "true", "ADMIN_MODE": "production", "ADMIN_SERVER_ID": "eu-1"},
			func(c Config) bool {
				a := c.Admin
				return a.Username == "admin" && a.PasswordBcrypt == adminHash && a.Readonly && !a.Development() && a.ServerID == "eu-1"
			}, []string{"config.admin_username=admin", "config.admin_password_bcrypt=set"}},
		{"listeners", map[string]string{"METRICS_ADDR": "127.0.0.1:9464", "PPROF_ADDR": "127.0.0.1:6060"},
			func(c Config) bool {
				return c.Ops.MetricsAddr == "127.0.0.1:9464" && c.Ops.PprofAddr == "127.0.0.1:6060"
			},
			[]string{"config.metrics_addr=127.0.0.1:9464", "config.pprof_addr=127.0.0.1:6060"}},
		{"GOGC set: the runtime's", map[string]string{"GOGC": "200"}, func(c Config) bool { return c.Ops.GCPercent() == 0 }, nil},
		{"streams adapter", map[string]string{"REDIS_ADAPTER": "streams", "REDIS_STREAM_NAME": "feed-events", "REDIS_SESSION_KEY_PREFIX": "feed:session:",
			"REDIS_STREAM_MAXLEN": "500", "REDIS_SESSION_REFRESH": "20s", "REDIS_URL": "redis://:pw@localhost:6379/0"},
			func(c Config) bool {
				r := c.Redis
				return r.Adapter == RedisStreams && r.StreamName == "feed-events" && r.SessionKeyPrefix == "feed:session:" &&
					r.StreamMaxLen == 500 && r.SessionRefresh == 20*time.Second
			}, []string{"config.redis_adapter=streams", "config.redis_stream_maxlen=500", "config.redis_session_refresh=20s", "config.redis_url=redis://:xxxxx@localhost:6379/0"}},
		{"Redis Cluster", map[string]string{"REDIS_CLUSTER_URL": "redis://:pw@10.0.0.1:7000?addr=10.0.0.2:7000"},
			func(c Config) bool {
				return c.Redis.Addr().ClusterURL == "redis://:pw@10.0.0.1:7000?addr=10.0.0.2:7000" && c.Redis.Addr().URL == ""
			}, []string{`config.redis_cluster_url="redis://:xxxxx@10.0.0.1:7000?addr=10.0.0.2:7000"`}},
		{"Sentinel, both passwords masked", map[string]string{"REDIS_SENTINEL_URL": "redis://:spw@10.0.0.1:26379?master_name=feed&password=pw"},
			func(c Config) bool { return c.Redis.Addr().SentinelURL != "" },
			[]string{"config.redis_sentinel_url=\"redis://:xxxxx@10.0.0.1:26379?master_name=feed&password=xxxxx\""}},
		{"client bounds", map[string]string{"SOCKETIO_MAX_QUEUED_BYTES": "2097152", "SOCKETIO_MAX_QUEUED_TOTAL_BYTES": "1073741824", "MAX_CONNECTIONS": "5000"},
			func(c Config) bool {
				return c.SocketIO.MaxQueued == 2<<20 && c.SocketIO.MaxQueuedTotal == 1<<30 && c.HTTP.MaxConnections == 5000
			}, []string{"config.socketio_max_queued_bytes=2097152", "config.max_connections=5000"}},
		{"Node's durations in milliseconds", map[string]string{"SOCKETIO_PING_INTERVAL": "10000", "SOCKETIO_PING_TIMEOUT": "5s", "SOCKETIO_UPGRADE_TIMEOUT": "2500"},
			func(c Config) bool {
				s := c.SocketIO
				return s.PingInterval == 10*time.Second && s.PingTimeout == 5*time.Second && s.UpgradeTimeout == 2500*time.Millisecond
			}, []string{"config.socketio_ping_interval=10s", "config.socketio_upgrade_timeout=2.5s"}},
		{"path without the trailing slash", map[string]string{"SOCKETIO_PATH": "/api/socket.io/", "SOCKETIO_ADD_TRAILING_SLASH": "false"},
			func(c Config) bool { return c.SocketIOPath() == "/api/socket.io" }, nil},
		{"websocket only, recovery off", map[string]string{"SOCKETIO_TRANSPORTS": "websocket", "SOCKETIO_RECOVERY": "false"},
			func(c Config) bool {
				return slices.Equal(c.SocketIO.Transports, []string{"websocket"}) && !c.Recovery.Enabled
			}, nil},
		{"recovery window sets the session refresh", map[string]string{"SOCKETIO_RECOVERY_MAX_DISCONNECTION_DURATION": "10m"},
			func(c Config) bool { return c.Redis.SessionRefresh == 5*time.Minute }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadEnv(tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.ok(c) {
				t.Errorf("%+v", c)
			}
			logged := configLog(c)
			for _, want := range tc.logs {
				if !strings.Contains(logged, want) {
					t.Errorf("start-up log lacks %s: %s", want, logged)
				}
			}
			for _, secret := range []string{"hunter2", strings.Repeat("k", 32), "heqvAkYM", ":pw@"} {
				if strings.Contains(logged, secret) {
					t.Errorf("secret %q in the log: %s", secret, logged)
				}
			}
		})
	}
}

// TestLoadConfigRefuses: a bad value of each kind stops the start with an
// error naming every variable at fault, all at once.
func TestLoadConfigRefuses(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string // variables the error names
	}{
		{map[string]string{"PORT": "http", "BCRYPT_COST": "99", "JWT_TTL": "1 hour"}, []string{"PORT", "BCRYPT_COST", "JWT_TTL"}},
		{map[string]string{"MAX_IMAGE_PIXELS": "0"}, []string{"MAX_IMAGE_PIXELS"}},
		{map[string]string{"MAX_IMAGE_PIXELS": "4e7"}, []string{"MAX_IMAGE_PIXELS"}},
		{map[string]string{"IMAGE_SWEEP_AGE": "0s", "IMAGE_SWEEP_INTERVAL": "-1h"}, []string{"IMAGE_SWEEP_AGE", "IMAGE_SWEEP_INTERVAL"}},
		{map[string]string{"IMAGE_SWEEP_AGE": "3600"}, []string{"IMAGE_SWEEP_AGE"}}, // bare numbers are for Node's durations only
		{map[string]string{"LOGIN_EMAIL_BURST": "0", "LOGIN_ADDRESS_BURST": "many", "LOGIN_LIMIT_KEYS": "0", "BCRYPT_CONCURRENCY": "0"},
			[]string{"LOGIN_EMAIL_BURST", "LOGIN_ADDRESS_BURST", "LOGIN_LIMIT_KEYS", "BCRYPT_CONCURRENCY"}},
		{map[string]string{"TRUSTED_PROXIES": "localhost,10.0.0.300,10.0.0.0/33"}, []string{"TRUSTED_PROXIES"}},
		{map[string]string{"TRUSTED_PROXIES": "127.0.0.1:80"}, []string{"TRUSTED_PROXIES"}},
		{map[string]string{"ADMIN_USERNAME": "admin"}, []string{"ADMIN_USERNAME", "ADMIN_PASSWORD_BCRYPT"}},
		{map[string]string{"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD_BCRYPT": "changeit"}, []string{"ADMIN_PASSWORD_BCRYPT"}},
		{map[string]string{"ADMIN_READONLY": "maybe", "ADMIN_MODE": "staging"}, []string{"ADMIN_READONLY", "ADMIN_MODE"}},
		{map[string]string{"METRICS_ADDR": "9464", "PPROF_ADDR": "6060"}, []string{"METRICS_ADDR", "PPROF_ADDR"}},
		{map[string]string{"METRICS_ADDR": ":8080"}, []string{"METRICS_ADDR"}}, // the public port
		{map[string]string{"METRICS_ADDR": "127.0.0.1:9000", "PORT": "9000"}, []string{"METRICS_ADDR"}},
		{map[string]string{"REDIS_ADAPTER": "stream", "REDIS_STREAM_MAXLEN": "0", "REDIS_URL": "localhost:6379"}, []string{"REDIS_ADAPTER", "REDIS_STREAM_MAXLEN", "REDIS_URL"}},
		{map[string]string{"REDIS_URL": "redis://10.0.0.1:6379", "REDIS_CLUSTER_URL": "redis://10.0.0.1:7000"}, []string{"REDIS_URL, REDIS_CLUSTER_URL and REDIS_SENTINEL_URL"}},
		{map[string]string{"REDIS_SENTINEL_URL": "redis://10.0.0.1:26379"}, []string{"REDIS_SENTINEL_URL", "master_name"}},
		{map[string]string{"REDIS_CLUSTER_URL": "redis://10.0.0.1:7000?cluster=yes", "REDIS_SENTINEL_URL": "http://10.0.0.1:26379?master_name=m"}, []string{"REDIS_CLUSTER_URL", "REDIS_SENTINEL_URL"}},
		{map[string]string{"REDIS_ADAPTER": "shard", "REDIS_SUBSCRIPTION_MODE": "lazy"}, []string{"REDIS_ADAPTER", "REDIS_SUBSCRIPTION_MODE"}},
		{map[string]string{"REDIS_SESSION_REFRESH": "2m"}, []string{"REDIS_SESSION_REFRESH"}}, // not below the recovery window
		{map[string]string{"REDIS_SESSION_REFRESH": "soon"}, []string{"REDIS_SESSION_REFRESH"}},
		{map[string]string{"SOCKETIO_MAX_QUEUED_BYTES": "100", "SOCKETIO_MAX_QUEUED_TOTAL_BYTES": "1k", "MAX_CONNECTIONS": "0"},
			[]string{"SOCKETIO_MAX_QUEUED_BYTES", "SOCKETIO_MAX_QUEUED_TOTAL_BYTES", "MAX_CONNECTIONS"}},
		{map[string]string{"SOCKETIO_MAX_QUEUED_BYTES": "4194304", "SOCKETIO_MAX_QUEUED_TOTAL_BYTES": "2097152"},
			[]string{"SOCKETIO_MAX_QUEUED_BYTES", "SOCKETIO_MAX_QUEUED_TOTAL_BYTES"}},
		{map[string]string{"CORS_ORIGINS": "app.example.com"}, []string{"CORS_ORIGINS"}},
		{map[string]string{"JWT_SECRET": "short"}, []string{"JWT_SECRET"}},
		{map[string]string{"SOCKETIO_PATH": "socket.io", "SOCKETIO_TRANSPORTS": "polling,flash"}, []string{"SOCKETIO_PATH", "SOCKETIO_TRANSPORTS"}},
		{map[string]string{"SOCKETIO_TRANSPORTS": ","}, []string{"SOCKETIO_TRANSPORTS"}},
		{map[string]string{"SOCKETIO_PING_INTERVAL": "0", "SOCKETIO_PING_TIMEOUT": "-5s", "SOCKETIO_MAX_HTTP_BUFFER_SIZE": "1e7"},
			[]string{"SOCKETIO_PING_INTERVAL", "SOCKETIO_PING_TIMEOUT", "SOCKETIO_MAX_HTTP_BUFFER_SIZE"}},
		{map[string]string{"SOCKETIO_COOKIE": "io;x", "SOCKETIO_COOKIE_SAME_SITE": "sometimes"}, []string{"SOCKETIO_COOKIE", "SOCKETIO_COOKIE_SAME_SITE"}},
		{map[string]string{"SOCKETIO_COOKIE": "io", "SOCKETIO_COOKIE_SAME_SITE": "none"}, []string{"SOCKETIO_COOKIE_SAME_SITE", "SOCKETIO_COOKIE_SECURE"}},
		{map[string]string{"SOCKETIO_RECOVERY": "yes please"}, []string{"SOCKETIO_RECOVERY"}},
		{map[string]string{"LOG_LEVEL": "loud"}, []string{"LOG_LEVEL"}},
	} {
		_, err := loadEnv(tc.env)
		for _, name := range tc.want {
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%v: error %v, want one naming %s", tc.env, err, name)
			}
		}
	}
}

func TestMaxConnectionsFor(t *testing.T) {
	for limit, want := range map[uint64]int{1024: 768, 20_000: 19_000, 300: 150, 1 << 20: 1<<20 - 1<<20/20} {
		if got := maxConnectionsFor(limit); got != want {
			t.Errorf("maxConnectionsFor(%d) = %d, want %d", limit, got, want)
		}
	}
}

// TestREADMEConfiguration: the README's configuration table documents
// every declared setting, with its default where the declaration has a
// constant one, and nothing that is not declared.
func TestREADMEConfiguration(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)[strings.Index(string(readme), "## Configuration"):]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	rows := map[string]string{} // variable: default cell
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\| ([^|]*) \\|").FindAllStringSubmatch(section, -1) {
		if _, dup := rows[m[1]]; dup {
			t.Errorf("README documents %s twice", m[1])
		}
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	var c Config
	declared := map[string]bool{}
	for _, s := range settings(&c) {
		declared[s.key] = true
		if s.field.Tag.Get("desc") == "" {
			t.Errorf("%s has no desc", s.key)
		}
		cell, ok := rows[s.key]
		switch {
		case !ok:
			t.Errorf("README's configuration table lacks %s", s.key)
		case s.hasDef && cell != "`"+s.def+"`":
			t.Errorf("README gives %s the default %s, the declaration `%s`", s.key, cell, s.def)
		case !s.hasDef && strings.HasPrefix(cell, "`"):
			t.Errorf("README gives %s the default %s, the declaration none", s.key, cell)
		}
	}
	for name := range rows {
		if !declared[name] {
			t.Errorf("README documents %s, which is not a setting", name)
		}
	}
}

// TestSocketIOPathTakesNoRESTRoute: a Socket.IO path that would swallow
// a REST route stops the start, naming the variable.
func TestSocketIOPathTakesNoRESTRoute(t *testing.T) {
	for _, tc := range []struct {
		path  string
		slash bool
	}{{"/feed", true}, {"/", true}, {"/image", false}, {"/healthz", false}} {
		cfg, err := loadEnv(map[string]string{"DATA_DIR": t.TempDir(), "BCRYPT_COST": "4"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.SocketIO.Path, cfg.SocketIO.AddTrailingSlash = tc.path, tc.slash
		srv, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			_ = srv.Shutdown(context.Background())
		}
		if err == nil || !strings.Contains(err.Error(), "SOCKETIO_PATH") {
			t.Errorf("path %q, trailing slash %v: error %v, want one naming SOCKETIO_PATH", tc.path, tc.slash, err)
		}
	}
}
