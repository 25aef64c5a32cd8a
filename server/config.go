package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"feedrt/handlers"
	"feedrt/server/cors"
)

// Config is everything an operator can tell the server, read once at
// start from environment variables. Each setting is declared once, as a
// field with its tags: `env` (the variable), `envDefault` (the default,
// when it is a constant), `desc` (one line for the log and the README),
// `secret` ("true": logged as set or unset; "url": logged with the
// password masked), and the checks `min`, `max` (numbers, durations),
// `oneof` (words, space-separated) and `ms` ("true": a bare number is
// milliseconds, as Node takes its durations). settings.go reads the tags:
// parsing, the start-up log and the README table's test all come from
// them. A default that is not a constant (it depends on the machine) is
// set by LoadConfig before parsing and documented in the README.
//
// Each part configures one subsystem; the packages take the values
// explicitly and refuse missing ones.
type Config struct {
	HTTP     HTTPConfig
	CORS     cors.Options
	SocketIO SocketIOConfig
	Recovery RecoveryConfig
	Store    StoreConfig
	Auth     AuthConfig
	Posts    PostsConfig
	Images   ImagesConfig
	Redis    RedisConfig
	Admin    AdminConfig
	Ops      OpsConfig

	// GeneratedSecret is true when Auth.JWTSecret was made up at start.
	GeneratedSecret bool `env:"-"`
}

// HTTPConfig is the listener's.
type HTTPConfig struct {
	Host           string        `env:"HOST" desc:"listen address; empty: all interfaces"`
	Port           int           `env:"PORT" envDefault:"8080" min:"0" max:"65535" desc:"listen port"`
	TrustedProxies []string      `env:"TRUSTED_PROXIES" desc:"reverse proxies whose X-Forwarded-For names the client"`
	MaxConnections int           `env:"MAX_CONNECTIONS" min:"1" max:"100000000" desc:"client connections open at once"`
	ShutdownTime   time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s" min:"1ms" desc:"how long a graceful stop may take"`
	// net/http's deadlines, which the engine's poller keeps too.
	ReadHeaderTimeout time.Duration `env:"HTTP_READ_HEADER_TIMEOUT" envDefault:"10s" min:"1ms" desc:"time to read a request's header"`
	ReadTimeout       time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"60s" min:"1ms" desc:"time to read a whole request"`
	IdleTimeout       time.Duration `env:"HTTP_IDLE_TIMEOUT" envDefault:"120s" min:"1ms" desc:"how long an idle keep-alive connection is kept"`
}

// SocketIOConfig is the real-time engine's: Node's socket.io and
// engine.io options under the SOCKETIO_ prefix, and this server's bounds.
type SocketIOConfig struct {
	Path              string        `env:"SOCKETIO_PATH" envDefault:"/socket.io" desc:"Node's path"`
	AddTrailingSlash  bool          `env:"SOCKETIO_ADD_TRAILING_SLASH" envDefault:"true" desc:"Node's addTrailingSlash"`
	PingInterval      time.Duration `env:"SOCKETIO_PING_INTERVAL" envDefault:"25s" min:"1ms" ms:"true" desc:"Node's pingInterval"`
	PingTimeout       time.Duration `env:"SOCKETIO_PING_TIMEOUT" envDefault:"20s" min:"1ms" ms:"true" desc:"Node's pingTimeout"`
	UpgradeTimeout    time.Duration `env:"SOCKETIO_UPGRADE_TIMEOUT" envDefault:"10s" min:"1ms" ms:"true" desc:"Node's upgradeTimeout"`
	ConnectTimeout    time.Duration `env:"SOCKETIO_CONNECT_TIMEOUT" envDefault:"45s" min:"1ms" ms:"true" desc:"Node's connectTimeout"`
	MaxHTTPBufferSize int64         `env:"SOCKETIO_MAX_HTTP_BUFFER_SIZE" envDefault:"1000000" min:"1" max:"1073741824" desc:"Node's maxHttpBufferSize"`
	Transports        []string      `env:"SOCKETIO_TRANSPORTS" envDefault:"polling,websocket" oneof:"polling websocket" desc:"Node's transports"`
	AllowUpgrades     bool          `env:"SOCKETIO_ALLOW_UPGRADES" envDefault:"true" desc:"Node's allowUpgrades"`
	AllowEIO3         bool          `env:"SOCKETIO_ALLOW_EIO3" envDefault:"true" desc:"Node's allowEIO3 (socket.io-client 2.x)"`
	// Parser is Node's parser option: the default socket.io-parser, or
	// socket.io-msgpack-parser 3.x, which every client (and every
	// server of a cluster) must use too.
	Parser string `env:"SOCKETIO_PARSER" envDefault:"default" oneof:"default msgpack" desc:"Node's parser: default or msgpack (socket.io-msgpack-parser)"`

	ServeClient bool   `env:"SOCKETIO_SERVE_CLIENT" envDefault:"true" desc:"Node's serveClient: the client bundle at <path>/socket.io.js"`
	ClientDir   string `env:"SOCKETIO_CLIENT_DIR" envDefault:"node_modules/socket.io/client-dist" desc:"the folder the client bundle is served from"`

	HTTPCompression          bool  `env:"SOCKETIO_HTTP_COMPRESSION" envDefault:"true" desc:"Node's httpCompression: long-polling answers gzip or deflate"`
	HTTPCompressionThreshold int64 `env:"SOCKETIO_HTTP_COMPRESSION_THRESHOLD" envDefault:"1024" min:"0" max:"1073741824" desc:"Node's httpCompression.threshold: smallest answer compressed, bytes"`
	// Off by default as in Node: compressing costs CPU on both ends, and
	// most posts are short.
	PerMessageDeflate          bool  `env:"SOCKETIO_PER_MESSAGE_DEFLATE" envDefault:"false" desc:"Node's perMessageDeflate: WebSocket messages compressed"`
	PerMessageDeflateThreshold int64 `env:"SOCKETIO_PER_MESSAGE_DEFLATE_THRESHOLD" envDefault:"1024" min:"0" max:"1073741824" desc:"Node's perMessageDeflate.threshold: smallest message compressed, bytes"`

	Cookie         string        `env:"SOCKETIO_COOKIE" desc:"Node's cookie.name; empty: no cookie"`
	CookiePath     string        `env:"SOCKETIO_COOKIE_PATH" envDefault:"/" desc:"Node's cookie.path"`
	CookieHTTPOnly bool          `env:"SOCKETIO_COOKIE_HTTP_ONLY" envDefault:"true" desc:"Node's cookie.httpOnly"`
	CookieSameSite string        `env:"SOCKETIO_COOKIE_SAME_SITE" envDefault:"lax" oneof:"lax strict none off" desc:"Node's cookie.sameSite"`
	CookieSecure   bool          `env:"SOCKETIO_COOKIE_SECURE" envDefault:"false" desc:"Node's cookie.secure"`
	CookieMaxAge   time.Duration `env:"SOCKETIO_COOKIE_MAX_AGE" min:"1s" desc:"Node's cookie.maxAge; 0: a session cookie"`

	WriteTimeout   time.Duration `env:"SOCKETIO_WRITE_TIMEOUT" envDefault:"10s" min:"1ms" desc:"a client leaving bytes unwritten this long is dropped"`
	MaxQueued      int64         `env:"SOCKETIO_MAX_QUEUED_BYTES" envDefault:"1048576" min:"65536" max:"17179869184" desc:"bytes held for one client before it is dropped"`
	MaxQueuedTotal int64         `env:"SOCKETIO_MAX_QUEUED_TOTAL_BYTES" envDefault:"268435456" min:"1048576" max:"1099511627776" desc:"bytes held for all clients"`
	BroadcastQueue int           `env:"BROADCAST_QUEUE" envDefault:"1024" min:"1" max:"1000000" desc:"stored changes waiting to be emitted"`
}

// RecoveryConfig is connection state recovery's (Node's
// connectionStateRecovery) and the bounds of what it keeps.
type RecoveryConfig struct {
	Enabled                  bool          `env:"SOCKETIO_RECOVERY" envDefault:"true" desc:"connection state recovery on or off"`
	MaxDisconnectionDuration time.Duration `env:"SOCKETIO_RECOVERY_MAX_DISCONNECTION_DURATION" envDefault:"2m" min:"1s" ms:"true" desc:"Node's maxDisconnectionDuration"`
	SkipMiddlewares          bool          `env:"SOCKETIO_RECOVERY_SKIP_MIDDLEWARES" envDefault:"true" desc:"Node's skipMiddlewares"`
	MaxPackets               int           `env:"RECOVERY_MAX_PACKETS" envDefault:"10000" min:"1" max:"10000000" desc:"broadcasts kept for recovery"`
	MaxBytes                 int           `env:"RECOVERY_MAX_BYTES" envDefault:"67108864" min:"1024" max:"17179869184" desc:"bytes of broadcasts kept for recovery"`
	MaxSessions              int           `env:"RECOVERY_MAX_SESSIONS" envDefault:"100000" min:"1" max:"100000000" desc:"disconnected sessions kept"`
}

// StoreConfig picks and opens the store.
type StoreConfig struct {
	DataDir  string `env:"DATA_DIR" envDefault:"data" desc:"embedded database and images"`
	MongoURI string `env:"MONGODB_URI" secret:"url" desc:"MongoDB connection string; empty: the embedded store"`
	MongoDB  string `env:"MONGODB_DATABASE" envDefault:"messages" desc:"database name when the URI names none"`
}

// AuthConfig is the auth handlers': tokens, passwords, login limits.
type AuthConfig struct {
	JWTSecret            string        `env:"JWT_SECRET" secret:"true" desc:"HS256 signing secret"`
	JWTTTL               time.Duration `env:"JWT_TTL" envDefault:"1h" min:"1s" desc:"token lifetime"`
	BcryptCost           int           `env:"BCRYPT_COST" envDefault:"12" min:"4" max:"31" desc:"bcrypt cost"`
	BcryptConcurrency    int           `env:"BCRYPT_CONCURRENCY" min:"1" max:"1024" desc:"bcrypt runs at once"`
	LoginEmailBurst      int           `env:"LOGIN_EMAIL_BURST" envDefault:"10" min:"1" max:"1000000" desc:"failed logins per e-mail before 429"`
	LoginEmailInterval   time.Duration `env:"LOGIN_EMAIL_INTERVAL" envDefault:"10s" min:"1ms" desc:"then one per e-mail per interval"`
	LoginAddressBurst    int           `env:"LOGIN_ADDRESS_BURST" envDefault:"50" min:"1" max:"1000000" desc:"failed logins per address before 429"`
	LoginAddressInterval time.Duration `env:"LOGIN_ADDRESS_INTERVAL" envDefault:"2s" min:"1ms" desc:"then one per address per interval"`
	LoginLimitKeys       int           `env:"LOGIN_LIMIT_KEYS" envDefault:"100000" min:"1" max:"100000000" desc:"e-mails and addresses remembered"`
	MaxStatusLength      int           `env:"MAX_STATUS_LENGTH" envDefault:"200" min:"1" max:"1000000" desc:"longest user status"`
}

// PostsConfig is the posts handlers'.
type PostsConfig struct {
	PerPage          int `env:"POSTS_PER_PAGE" envDefault:"2" min:"1" max:"100" desc:"page size of GET /feed/posts"`
	MaxTitleLength   int `env:"MAX_TITLE_LENGTH" envDefault:"200" min:"5" max:"1000000" desc:"longest post title"`
	MaxContentLength int `env:"MAX_CONTENT_LENGTH" envDefault:"20000" min:"5" max:"1000000" desc:"longest post content"`
}

// ImagesConfig is the uploads' (see the README for the why of each).
type ImagesConfig struct {
	MaxBytes      int64         `env:"MAX_IMAGE_BYTES" envDefault:"5242880" min:"1" max:"1073741824" desc:"largest upload"`
	MaxPixels     int64         `env:"MAX_IMAGE_PIXELS" envDefault:"40000000" min:"1" max:"1000000000" desc:"largest width x height"`
	SweepAge      time.Duration `env:"IMAGE_SWEEP_AGE" envDefault:"1h" min:"1ms" desc:"age at which an unreferenced image is removed"`
	SweepInterval time.Duration `env:"IMAGE_SWEEP_INTERVAL" envDefault:"1h" min:"1ms" desc:"how often the image sweep runs"`
}

// RedisConfig joins a cluster of Socket.IO servers (see the README's
// Cluster section).
type RedisConfig struct {
	URL              string        `env:"REDIS_URL" secret:"url" desc:"the cluster's Redis; empty: single process"`
	ClusterURL       string        `env:"REDIS_CLUSTER_URL" secret:"url" desc:"instead of REDIS_URL: a Redis Cluster's seed nodes"`
	SentinelURL      string        `env:"REDIS_SENTINEL_URL" secret:"url" desc:"instead of REDIS_URL: Sentinels and the primary they watch"`
	KeyPrefix        string        `env:"REDIS_KEY_PREFIX" envDefault:"socket.io" desc:"channel prefix (Node's key / channelPrefix)"`
	Adapter          string        `env:"REDIS_ADAPTER" envDefault:"pubsub" oneof:"pubsub streams sharded" desc:"the cluster's protocol"`
	SubscriptionMode string        `env:"REDIS_SUBSCRIPTION_MODE" envDefault:"dynamic" oneof:"static dynamic dynamic-private" desc:"sharded: channels per room (Node's subscriptionMode)"`
	StreamName       string        `env:"REDIS_STREAM_NAME" envDefault:"socket.io" desc:"streams: the stream (Node's streamName)"`
	StreamMaxLen     int64         `env:"REDIS_STREAM_MAXLEN" envDefault:"10000" min:"1" max:"1099511627776" desc:"streams: its approximate cap (Node's maxLen)"`
	StreamReadCount  int64         `env:"REDIS_STREAM_READ_COUNT" envDefault:"100" min:"1" max:"1000000" desc:"streams: entries one XREAD takes (Node's readCount)"`
	StreamBlockTime  time.Duration `env:"REDIS_STREAM_BLOCK_TIME" envDefault:"5s" min:"1ms" ms:"true" desc:"streams: how long one XREAD blocks (Node's blockTimeInMs)"`
	SessionKeyPrefix string        `env:"REDIS_SESSION_KEY_PREFIX" envDefault:"sio:session:" desc:"streams: session keys' prefix (Node's sessionKeyPrefix)"`
	SessionRefresh   time.Duration `env:"REDIS_SESSION_REFRESH" min:"1ms" desc:"streams: how often connected sessions are rewritten"`
	RequestsTimeout  time.Duration `env:"REDIS_REQUESTS_TIMEOUT" envDefault:"5s" min:"1ms" ms:"true" desc:"cluster requests' timeout (Node's requestsTimeout)"`
	CommandTimeout   time.Duration `env:"REDIS_COMMAND_TIMEOUT" envDefault:"1s" min:"1ms" desc:"every other Redis command's timeout"`
	QueueSize        int           `env:"REDIS_QUEUE_SIZE" envDefault:"4096" min:"1" max:"10000000" desc:"messages waiting for Redis before new ones are dropped"`
}

// The values of REDIS_ADAPTER.
const (
	RedisPubSub  = "pubsub"
	RedisStreams = "streams"
	RedisSharded = "sharded"
)

// AdminConfig is the Socket.IO Admin UI's (see the README).
type AdminConfig struct {
	Username       string `env:"ADMIN_USERNAME" desc:"Admin UI username; empty: no Admin UI"`
	PasswordBcrypt string `env:"ADMIN_PASSWORD_BCRYPT" secret:"true" desc:"bcrypt hash of the Admin UI password"`
	Readonly       bool   `env:"ADMIN_READONLY" envDefault:"false" desc:"refuse the UI's actions"`
	Mode           string `env:"ADMIN_MODE" envDefault:"development" oneof:"development production" desc:"what the UI is sent"`
	ServerID       string `env:"ADMIN_SERVER_ID" desc:"this process's name in the UI"`
	Namespace      string `env:"ADMIN_NAMESPACE" envDefault:"/admin" desc:"the UI's namespace (Node's namespaceName)"`
}

// Development reports whether the UI is sent every socket, room and event.
func (a AdminConfig) Development() bool { return a.Mode == "development" }

// OpsConfig is the operator's view of the process: logs, metrics,
// profiling, the collector.
type OpsConfig struct {
	LogLevel    slog.Level `env:"LOG_LEVEL" envDefault:"info" desc:"debug, info, warn or error"`
	MetricsAddr string     `env:"METRICS_ADDR" desc:"Prometheus metrics listener; empty: off"`
	PprofAddr   string     `env:"PPROF_ADDR" desc:"net/http/pprof listener; empty: off"`
	// GOGC is read by the Go runtime itself; unset, the server sets the
	// collector's target to defaultGCPercent (GCPercent).
	GOGC string `env:"GOGC" desc:"the Go collector's target"`
}

// defaultGCPercent keeps the heap of a server holding many idle
// connections within 1.5 times its live size (Go's 100 lets it double).
const defaultGCPercent = 50

// GCPercent is the collector's target to set at start, 0 when GOGC is
// set (the runtime has read it).
func (o OpsConfig) GCPercent() int {
	if o.GOGC != "" {
		return 0
	}
	return defaultGCPercent
}

// LoadConfig builds a Config from getenv. Bad values are errors naming
// their variable, all of them at once, not silent defaults, so a typo in
// a deployment fails at start.
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	// Defaults that depend on the machine.
	c.HTTP.MaxConnections = maxConnectionsFor(descriptorLimit())
	c.Auth.BcryptConcurrency = runtime.GOMAXPROCS(0)
	hostname, _ := os.Hostname()
	c.Admin.ServerID = fmt.Sprintf("%s#%d", hostname, os.Getpid())
	parseErr := parseSettings(&c, getenv)
	if c.Redis.SessionRefresh == 0 {
		c.Redis.SessionRefresh = c.Recovery.MaxDisconnectionDuration / 2
	}
	err := errors.Join(parseErr, c.check())
	if c.Auth.JWTSecret == "" {
		secret := make([]byte, handlers.MinSecretBytes)
		_, _ = rand.Read(secret) // never fails on supported platforms
		c.Auth.JWTSecret, c.GeneratedSecret = string(secret), true
	}
	return c, err
}

// check refuses what each value alone allows but the server cannot run
// with: malformed addresses and origins, and contradictory combinations.
func (c *Config) check() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, p := range c.HTTP.TrustedProxies {
		if err := checkProxy(p); err != nil {
			add("TRUSTED_PROXIES: %w", err)
		}
	}
	if err := c.CORS.Check(); err != nil {
		errs = append(errs, err)
	}
	if u, err := url.Parse(c.Redis.URL); c.Redis.URL != "" && (err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix")) {
		add("REDIS_URL: want redis://[user:password@]host:port[/db], rediss://... or unix://..., got %q", maskURI(c.Redis.URL))
	}
	if u := c.Redis.ClusterURL; u != "" {
		if _, err := redis.ParseClusterURL(u); err != nil {
			add("REDIS_CLUSTER_URL: want redis://[user:password@]host:port[?addr=host2:port2&addr=...] (or rediss://), got %q: %v", maskURI(u), err)
		}
	}
	if u := c.Redis.SentinelURL; u != "" {
		if o, err := redis.ParseFailoverURL(u); err != nil || o.MasterName == "" {
			if err == nil {
				err = errors.New("master_name is missing")
			}
			add("REDIS_SENTINEL_URL: want redis://[user:password@]sentinel:port[/db]?master_name=NAME[&addr=sentinel2:port...][&password=...] (or rediss://), got %q: %v", maskURI(u), err)
		}
	}
	if n := len(slices.DeleteFunc([]string{c.Redis.URL, c.Redis.ClusterURL, c.Redis.SentinelURL}, func(s string) bool { return s == "" })); n > 1 {
		add("REDIS_URL, REDIS_CLUSTER_URL and REDIS_SENTINEL_URL: set one of them (or none), got %d", n)
	}
	if c.Redis.SessionRefresh >= c.Recovery.MaxDisconnectionDuration {
		add("REDIS_SESSION_REFRESH: %v must be below SOCKETIO_RECOVERY_MAX_DISCONNECTION_DURATION (%v), or sessions of connected sockets expire between refreshes",
			c.Redis.SessionRefresh, c.Recovery.MaxDisconnectionDuration)
	}
	if s := c.Auth.JWTSecret; s != "" && len(s) < handlers.MinSecretBytes { // the rule is the handlers' (see there)
		add("JWT_SECRET: must be at least %d bytes, got %d", handlers.MinSecretBytes, len(s))
	}
	for name, addr := range map[string]string{"METRICS_ADDR": c.Ops.MetricsAddr, "PPROF_ADDR": c.Ops.PprofAddr} {
		if _, _, err := net.SplitHostPort(addr); addr != "" && err != nil {
			add("%s: want host:port such as 127.0.0.1:9464, got %q", name, addr)
		}
	}
	if _, port, err := net.SplitHostPort(c.Ops.MetricsAddr); err == nil && c.HTTP.Port != 0 && port == strconv.Itoa(c.HTTP.Port) {
		add("METRICS_ADDR: %q is the public port (PORT=%d); metrics need a listener of their own", c.Ops.MetricsAddr, c.HTTP.Port)
	}
	switch a := c.Admin; {
	case (a.Username == "") != (a.PasswordBcrypt == ""):
		add("ADMIN_USERNAME and ADMIN_PASSWORD_BCRYPT: set both to serve the admin UI, or neither")
	case a.PasswordBcrypt != "":
		if _, err := bcrypt.Cost([]byte(a.PasswordBcrypt)); err != nil {
			add("ADMIN_PASSWORD_BCRYPT: want a bcrypt hash such as $2b$10$..., got one that is not (%v)", err)
		}
	}
	if !strings.HasPrefix(c.Admin.Namespace, "/") {
		add("ADMIN_NAMESPACE: want a namespace such as /admin, got %q", c.Admin.Namespace)
	}

	sio := c.SocketIO
	if p := sio.Path; !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#%; \t") {
		add("SOCKETIO_PATH: want a path such as /socket.io, got %q", p)
	}
	if len(sio.Transports) == 0 {
		add("SOCKETIO_TRANSPORTS: want polling, websocket or both")
	}
	if k := cookie(sio); k != nil {
		if err := k.Check(); err != nil {
			add("SOCKETIO_COOKIE, SOCKETIO_COOKIE_PATH, SOCKETIO_COOKIE_MAX_AGE: %v", err)
		}
		if sio.CookieSameSite == "none" && !sio.CookieSecure {
			add("SOCKETIO_COOKIE_SAME_SITE=none needs SOCKETIO_COOKIE_SECURE=true: browsers drop a SameSite=None cookie that is not Secure")
		}
	}
	if sio.MaxQueued > sio.MaxQueuedTotal {
		add("SOCKETIO_MAX_QUEUED_BYTES (%d) must not exceed SOCKETIO_MAX_QUEUED_TOTAL_BYTES (%d)", sio.MaxQueued, sio.MaxQueuedTotal)
	}
	return errors.Join(errs...)
}

// SocketIOPath is the path Engine.IO is served under, as Node's engine.io
// makes it from path and addTrailingSlash: with the slash, every URL
// starting with "<path>/"; without, every URL starting with "<path>"
// (Node matches a prefix either way).
func (c Config) SocketIOPath() string {
	p := strings.TrimRight(c.SocketIO.Path, "/")
	if c.SocketIO.AddTrailingSlash {
		p += "/"
	}
	return p
}

// maxConnectionsFor is the default of MAX_CONNECTIONS with a limit of
// limit open descriptors: what is left once a reserve is set aside for
// the rest of the process (the store's file or its MongoDB pool, Redis,
// files being uploaded or served, logs, a connection moving to the
// poller for a moment): a twentieth of the limit, at least 256, at most
// half of it.
func maxConnectionsFor(limit uint64) int {
	reserve := min(max(limit/20, 256), limit/2)
	return int(min(limit-reserve, 100_000_000))
}

// checkProxy accepts an IP address or a CIDR range, as Gin's
// SetTrustedProxies does, so a typo stops the start.
func checkProxy(p string) error {
	if _, _, err := net.ParseCIDR(p); err == nil || net.ParseIP(p) != nil {
		return nil
	}
	return fmt.Errorf("%q is neither an IP address nor a CIDR range like 10.0.0.0/8", p)
}

// Addr is the listen address.
func (c Config) Addr() string { return net.JoinHostPort(c.HTTP.Host, strconv.Itoa(c.HTTP.Port)) }

// maskURI hides the password of a connection string.
func maskURI(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	// go-redis's Sentinel URL carries the primary's password as a
	// parameter.
	if q := u.Query(); q.Has("password") || q.Has("sentinel_password") {
		for _, k := range []string{"password", "sentinel_password"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
