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
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"feedrt/handlers"
	"feedrt/server/realtime"
)

// Config is everything an operator can tell the server, read once at
// start: defaults first, then environment variables (see README).
// LoadConfig is the one place the defaults are written; the handlers it
// configures take explicit values and refuse a missing one. What is no operator's business (protocol-bound timeouts,
// the clock) is an Option of New instead.
type Config struct {
	Host string // HOST: listen address, empty = all interfaces
	Port int    // PORT: listen port (name fixed by Node deployments)

	AllowedOrigins []string // CORS_ORIGINS: comma-separated; "*" allows any
	AllowedMethods []string // CORS_METHODS: comma-separated

	DataDir    string // DATA_DIR: embedded database and images
	MongoURI   string // MONGODB_URI: empty selects the embedded store
	MongoDB    string // MONGODB_DATABASE: database name when the URI names none
	LogLevel   slog.Level
	JWTSecret  []byte        // JWT_SECRET; random per process when unset
	JWTTTL     time.Duration // JWT_TTL
	BcryptCost int           // BCRYPT_COST
	// BcryptConcurrency (BCRYPT_CONCURRENCY) caps the bcrypt hashes and
	// comparisons running at once, so a login flood leaves cores for the
	// other routes; default GOMAXPROCS.
	BcryptConcurrency int

	// Failed logins allowed per e-mail and per client address: a burst,
	// then one per interval (LOGIN_EMAIL_BURST, LOGIN_EMAIL_INTERVAL,
	// LOGIN_ADDRESS_BURST, LOGIN_ADDRESS_INTERVAL); LoginLimitKeys
	// (LOGIN_LIMIT_KEYS) bounds the e-mails and the addresses remembered.
	LoginEmailBurst      int
	LoginEmailInterval   time.Duration
	LoginAddressBurst    int
	LoginAddressInterval time.Duration
	LoginLimitKeys       int

	// TrustedProxies (TRUSTED_PROXIES, comma-separated IPs or CIDRs) are
	// the peers whose X-Forwarded-For names the client (logged and rate
	// limited). Empty: none, the peer's own address is the client's, so a
	// client cannot pick its address by sending the header.
	TrustedProxies []string

	// RedisURL (REDIS_URL) joins this process to a cluster of Socket.IO
	// servers, Go or Node, through that Redis; empty = single process.
	// RedisKeyPrefix (REDIS_KEY_PREFIX) prefixes the channels, as the
	// Node adapter's `key` option: servers sharing events need the same.
	RedisURL       string
	RedisKeyPrefix string
	// RedisAdapter (REDIS_ADAPTER) picks the cluster's protocol:
	// RedisPubSub (Node's @socket.io/redis-adapter, the default) or
	// RedisStreams (@socket.io/redis-streams-adapter: broadcasts kept in
	// a stream, so a session is recoverable on any server).
	RedisAdapter string
	// The streams adapter's settings, Node's defaults: the stream
	// (REDIS_STREAM_NAME), its approximate cap (REDIS_STREAM_MAXLEN), the
	// prefix of the session keys (REDIS_SESSION_KEY_PREFIX), the entries
	// one XREAD takes and how long it blocks. Its channels' prefix is
	// RedisKeyPrefix (Node's channelPrefix, default "socket.io" too).
	RedisStreamName       string
	RedisStreamMaxLen     int64
	RedisSessionKeyPrefix string
	RedisStreamReadCount  int64
	RedisStreamBlockTime  time.Duration
	// RedisSessionRefresh (REDIS_SESSION_REFRESH, streams only) is how
	// often a process rewrites the sessions of its connected sockets in
	// Redis (one pipelined SET per socket), each with the recovery window
	// as TTL, so they survive a process killed without a goodbye. The
	// default, half the window (1 min of 2), keeps both promises: a
	// session expires at most the window after its process died (TTL =
	// window), and at least window/2 after, which exceeds what a client
	// needs to notice a dead host (ping interval + timeout, 45 s) and
	// come back; a refresh can be late by window/2 before a connected
	// socket's key expires. Shorter costs more writes; it must stay below
	// the window.
	RedisSessionRefresh time.Duration
	// RedisRequestsTimeout bounds fetchSockets and serverSideEmit with
	// acknowledgement across the cluster (Node's 5 s); RedisCommandTimeout
	// every other Redis command; RedisQueueSize the commands waiting for
	// Redis before new ones are dropped.
	RedisRequestsTimeout time.Duration
	RedisCommandTimeout  time.Duration
	RedisQueueSize       int

	PostsPerPage  int   // POSTS_PER_PAGE
	MaxImageBytes int64 // MAX_IMAGE_BYTES

	// MaxImagePixels (MAX_IMAGE_PIXELS) caps width × height of an upload.
	// A browser decodes about 4 bytes per pixel, so 40 megapixels is
	// 160 MB in every tab that shows the post: room for photos of cameras
	// up to 40 MP (8000×5000, 7680×5120), while a 12 KB PNG declaring
	// 10000×10000 (400 MB decoded) is refused. It
	// caps the product, not each side, because memory follows the
	// product: a 20000×1000 panorama is cheaper than 8000×8000.
	MaxImagePixels int64

	// ImageSweepAge (IMAGE_SWEEP_AGE): an image file no post references is
	// removed once it is this old. It must exceed the longest a create can
	// take between writing its file and storing its post, in this process
	// or any other sharing the images folder; an hour is far beyond that.
	// ImageSweepInterval (IMAGE_SWEEP_INTERVAL): how often the sweep runs
	// after the one at start. Orphans only come from crashes, so hourly is
	// plenty; each sweep lists the folder and reads every post's imageUrl.
	ImageSweepAge      time.Duration
	ImageSweepInterval time.Duration
	// Length caps (JavaScript characters, after trimming) of a post's
	// title and content and of a user's status; longer values are a 422
	// field error. The Node app had none but multer's 1 MB per field, so
	// one post could hold megabytes in every socket's queue and in the
	// recovery log.
	MaxTitleLength   int // MAX_TITLE_LENGTH
	MaxContentLength int // MAX_CONTENT_LENGTH
	MaxStatusLength  int // MAX_STATUS_LENGTH

	// Connection state recovery keeps the broadcasts of the last
	// realtime.RecoveryWindow, at most RecoveryMaxPackets of them and
	// RecoveryMaxBytes of encoded packets (RECOVERY_MAX_PACKETS,
	// RECOVERY_MAX_BYTES), and at most RecoveryMaxSessions sessions of
	// disconnected sockets (RECOVERY_MAX_SESSIONS); past a bound, the
	// oldest go first and a client that missed them starts a new session.
	RecoveryMaxPackets  int
	RecoveryMaxBytes    int
	RecoveryMaxSessions int
	// BroadcastQueue (BROADCAST_QUEUE) is how many stored changes may wait
	// to be emitted; when it is full, the request that made the change
	// waits for room (back-pressure on writers, nothing dropped).
	BroadcastQueue int

	// What the server holds for Socket.IO clients that have not taken it
	// yet: per connection (SOCKETIO_MAX_QUEUED_BYTES; past it the client
	// is dropped at once) and in all (SOCKETIO_MAX_QUEUED_TOTAL_BYTES; past
	// it the clients holding the most are dropped). See the README.
	SocketMaxQueued      int64
	SocketMaxQueuedTotal int64

	// MaxConnections (MAX_CONNECTIONS) is the most client connections
	// open at once; past it new ones are refused at once. Default: the
	// process's descriptor limit less a reserve (maxConnectionsFor).
	MaxConnections int

	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT

	// The Socket.IO Admin UI (@socket.io/admin-ui, see README): with
	// AdminUsername (ADMIN_USERNAME) and AdminPasswordBcrypt
	// (ADMIN_PASSWORD_BCRYPT, a bcrypt hash as the Node plugin's
	// auth.password) both set, the /admin namespace serves the UI; both
	// unset, it does not exist. AdminReadonly (ADMIN_READONLY) refuses the
	// UI's actions. AdminDevelopment (ADMIN_MODE development, the
	// default, or production) sends the UI every socket, room and event,
	// not only the stats. AdminServerID (ADMIN_SERVER_ID) names this
	// process in the UI's server list; the default, hostname#pid, is
	// distinct for every process of a cluster.
	AdminUsername       string
	AdminPasswordBcrypt string
	AdminReadonly       bool
	AdminDevelopment    bool
	AdminServerID       string

	// GCPercent is the Go collector's target (what GOGC sets): by
	// default 50, so that the heap of a server holding many idle
	// connections stays within half again its live size (Go's own
	// default, 100, lets it double). A GOGC in the environment, which the
	// Go runtime reads itself, wins: GCPercent is then 0 (leave it).
	GCPercent int

	// PprofAddr (PPROF_ADDR) serves net/http/pprof on its own listener,
	// e.g. 127.0.0.1:6060 (never the public port); empty = off.
	PprofAddr string

	// MetricsAddr (METRICS_ADDR) serves Prometheus metrics at /metrics
	// on its own listener, e.g. 127.0.0.1:9464 (never the public port);
	// empty = off: no listener, and nothing is measured.
	MetricsAddr string

	// GeneratedSecret is true when JWTSecret was made up at start.
	GeneratedSecret bool
}

// Engine.IO timings and limits, Node's defaults, so clients tuned for a
// Node server behave the same here. The feed server passes them to the
// real-time engine (feedRealtime); the HTTP WriteTimeout is derived from
// the first two.
const (
	PingInterval      = 25 * time.Second
	PingTimeout       = 20 * time.Second
	MaxHTTPBufferSize = 1_000_000
)

// The values of REDIS_ADAPTER.
const (
	RedisPubSub  = "pubsub"
	RedisStreams = "streams"
)

// LoadConfig builds a Config from defaults and getenv. Bad values are
// errors, not silent defaults, so a typo in a deployment fails at start.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Port:           8080,
		AllowedOrigins: []string{"http://localhost:3000", "http://localhost:5173"},
		AllowedMethods: []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
		DataDir:        "data",
		MongoDB:        "messages",
		RedisKeyPrefix: "socket.io",
		RedisAdapter:   RedisPubSub,
		// @socket.io/redis-streams-adapter 0.3.x's defaults.
		RedisStreamName:       "socket.io",
		RedisStreamMaxLen:     10_000,
		RedisSessionKeyPrefix: "sio:session:",
		RedisStreamReadCount:  100,
		RedisStreamBlockTime:  5 * time.Second,
		RedisSessionRefresh:   realtime.RecoveryWindow / 2,
		RedisRequestsTimeout:  5 * time.Second,
		RedisCommandTimeout:   time.Second,
		RedisQueueSize:        4096,
		LogLevel:              slog.LevelInfo,
		JWTTTL:                time.Hour,
		BcryptCost:            12,
		PostsPerPage:          2,
		MaxImageBytes:         5 << 20,
		MaxImagePixels:        40_000_000,
		ImageSweepAge:         time.Hour,
		ImageSweepInterval:    time.Hour,
		ShutdownTimeout:       10 * time.Second,
		MaxTitleLength:        200,
		MaxContentLength:      20_000,
		MaxStatusLength:       200,
		RecoveryMaxPackets:    10_000,
		RecoveryMaxBytes:      64 << 20,
		RecoveryMaxSessions:   100_000,
		BroadcastQueue:        1024,
		SocketMaxQueued:       1 << 20,
		SocketMaxQueuedTotal:  256 << 20,
		AdminDevelopment:      true,
		GCPercent:             50,
	}
	c.MaxConnections = maxConnectionsFor(descriptorLimit())
	hostname, _ := os.Hostname()
	c.AdminServerID = fmt.Sprintf("%s#%d", hostname, os.Getpid())
	// Defaults of the login protection.
	c.BcryptConcurrency = runtime.GOMAXPROCS(0)
	c.LoginEmailBurst, c.LoginEmailInterval = 10, 10*time.Second
	// More per address: an office or a mobile carrier shares one.
	c.LoginAddressBurst, c.LoginAddressInterval = 50, 2*time.Second
	c.LoginLimitKeys = 100_000
	var errs []error
	lookup := func(name string) string { return strings.TrimSpace(getenv(name)) }
	// set hands name's value, when set, to parse, which stores it if it
	// is valid; an invalid one is an error naming the variable.
	set := func(name, want string, parse func(string) bool) {
		if v := lookup(name); v != "" && !parse(v) {
			errs = append(errs, fmt.Errorf("%s: want %s, got %q", name, want, v))
		}
	}
	str := func(name string, dst *string) {
		if v := lookup(name); v != "" {
			*dst = v
		}
	}
	num := func(name string, dst *int, lo, hi int) {
		set(name, fmt.Sprintf("an integer in [%d, %d]", lo, hi), into(dst, intIn(lo, hi)))
	}
	num64 := func(name string, dst *int64, lo, hi int64) {
		set(name, fmt.Sprintf("an integer in [%d, %d]", lo, hi), into(dst, intIn(lo, hi)))
	}
	dur := func(name string, dst *time.Duration) {
		set(name, "a positive duration such as 30s", into(dst, positiveDuration))
	}
	list := func(name string, dst *[]string) {
		v := lookup(name)
		if v == "" {
			return
		}
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		*dst = out
	}

	str("HOST", &c.Host)
	num("PORT", &c.Port, 0, 65535)
	list("CORS_ORIGINS", &c.AllowedOrigins)
	list("CORS_METHODS", &c.AllowedMethods)
	str("DATA_DIR", &c.DataDir)
	str("MONGODB_URI", &c.MongoURI)
	str("MONGODB_DATABASE", &c.MongoDB)
	str("REDIS_URL", &c.RedisURL)
	str("REDIS_KEY_PREFIX", &c.RedisKeyPrefix)
	set("REDIS_ADAPTER", RedisPubSub+" or "+RedisStreams, func(v string) bool {
		ok := v == RedisPubSub || v == RedisStreams
		if ok {
			c.RedisAdapter = v
		}
		return ok
	})
	str("REDIS_STREAM_NAME", &c.RedisStreamName)
	str("REDIS_SESSION_KEY_PREFIX", &c.RedisSessionKeyPrefix)
	num64("REDIS_STREAM_MAXLEN", &c.RedisStreamMaxLen, 1, 1<<40)
	set("REDIS_SESSION_REFRESH", "a duration below the recovery window ("+realtime.RecoveryWindow.String()+") such as 1m", into(&c.RedisSessionRefresh, func(v string) (time.Duration, bool) {
		d, ok := positiveDuration(v)
		return d, ok && d < realtime.RecoveryWindow
	}))
	if u, err := url.Parse(c.RedisURL); c.RedisURL != "" && (err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix")) {
		errs = append(errs, fmt.Errorf("REDIS_URL: want redis://[user:password@]host:port[/db], rediss://... or unix://..., got %q", maskURI(c.RedisURL)))
	}
	dur("JWT_TTL", &c.JWTTTL)
	num("BCRYPT_COST", &c.BcryptCost, 4, 31)
	num("BCRYPT_CONCURRENCY", &c.BcryptConcurrency, 1, 1024)
	num("LOGIN_EMAIL_BURST", &c.LoginEmailBurst, 1, 1_000_000)
	dur("LOGIN_EMAIL_INTERVAL", &c.LoginEmailInterval)
	num("LOGIN_ADDRESS_BURST", &c.LoginAddressBurst, 1, 1_000_000)
	dur("LOGIN_ADDRESS_INTERVAL", &c.LoginAddressInterval)
	num("LOGIN_LIMIT_KEYS", &c.LoginLimitKeys, 1, 100_000_000)
	list("TRUSTED_PROXIES", &c.TrustedProxies)
	for _, p := range c.TrustedProxies {
		if err := checkProxy(p); err != nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %w", err))
		}
	}
	num("POSTS_PER_PAGE", &c.PostsPerPage, 1, 100)
	num64("MAX_IMAGE_BYTES", &c.MaxImageBytes, 1, 1<<30)
	num64("MAX_IMAGE_PIXELS", &c.MaxImagePixels, 1, 1_000_000_000)
	num("MAX_TITLE_LENGTH", &c.MaxTitleLength, 5, 1_000_000)
	num("MAX_CONTENT_LENGTH", &c.MaxContentLength, 5, 1_000_000)
	num("MAX_STATUS_LENGTH", &c.MaxStatusLength, 1, 1_000_000)
	num("RECOVERY_MAX_PACKETS", &c.RecoveryMaxPackets, 1, 10_000_000)
	num("RECOVERY_MAX_BYTES", &c.RecoveryMaxBytes, 1<<10, 1<<34)
	num("RECOVERY_MAX_SESSIONS", &c.RecoveryMaxSessions, 1, 100_000_000)
	num("BROADCAST_QUEUE", &c.BroadcastQueue, 1, 1_000_000)
	num64("SOCKETIO_MAX_QUEUED_BYTES", &c.SocketMaxQueued, 64<<10, 1<<34)
	num64("SOCKETIO_MAX_QUEUED_TOTAL_BYTES", &c.SocketMaxQueuedTotal, 1<<20, 1<<40)
	num("MAX_CONNECTIONS", &c.MaxConnections, 1, 100_000_000)
	dur("SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	if lookup("GOGC") != "" {
		c.GCPercent = 0
	}
	set("PPROF_ADDR", "host:port such as 127.0.0.1:6060", into(&c.PprofAddr, hostPort))
	set("METRICS_ADDR", "host:port such as 127.0.0.1:9464", into(&c.MetricsAddr, hostPort))
	if _, port, err := net.SplitHostPort(c.MetricsAddr); err == nil && c.Port != 0 && port == strconv.Itoa(c.Port) {
		errs = append(errs, fmt.Errorf("METRICS_ADDR: %q is the public port (PORT=%d); metrics need a listener of their own", c.MetricsAddr, c.Port))
	}
	dur("IMAGE_SWEEP_AGE", &c.ImageSweepAge)
	dur("IMAGE_SWEEP_INTERVAL", &c.ImageSweepInterval)

	set("LOG_LEVEL", "debug, info, warn or error", into(&c.LogLevel, logLevel))

	str("ADMIN_USERNAME", &c.AdminUsername)
	str("ADMIN_PASSWORD_BCRYPT", &c.AdminPasswordBcrypt)
	set("ADMIN_READONLY", "true or false", into(&c.AdminReadonly, boolean))
	set("ADMIN_MODE", "development or production", into(&c.AdminDevelopment, adminMode))
	str("ADMIN_SERVER_ID", &c.AdminServerID)
	switch {
	case (c.AdminUsername == "") != (c.AdminPasswordBcrypt == ""):
		errs = append(errs, errors.New("ADMIN_USERNAME and ADMIN_PASSWORD_BCRYPT: set both to serve the admin UI, or neither"))
	case c.AdminPasswordBcrypt != "":
		if _, err := bcrypt.Cost([]byte(c.AdminPasswordBcrypt)); err != nil {
			errs = append(errs, fmt.Errorf("ADMIN_PASSWORD_BCRYPT: want a bcrypt hash such as $2b$10$..., got one that is not (%v)", err))
		}
	}
	for _, o := range c.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("CORS_ORIGINS: %w", err))
		}
	}
	for i, m := range c.AllowedMethods {
		c.AllowedMethods[i] = strings.ToUpper(m)
	}

	if s := getenv("JWT_SECRET"); s != "" {
		if len(s) < handlers.MinSecretBytes { // the rule is the handlers' (see there)
			errs = append(errs, fmt.Errorf("JWT_SECRET: must be at least %d bytes, got %d", handlers.MinSecretBytes, len(s)))
		}
		c.JWTSecret = []byte(s)
	} else {
		c.JWTSecret = make([]byte, handlers.MinSecretBytes)
		_, _ = rand.Read(c.JWTSecret) // never fails on supported platforms
		c.GeneratedSecret = true
	}
	return c, errors.Join(errs...)
}

// maxConnectionsFor is the default of MaxConnections with a limit of
// limit open descriptors: what is left once a reserve is set aside for
// the rest of the process (the store's file or its MongoDB pool, Redis,
// files being uploaded or served, logs, a connection moving to the
// poller for a moment): a twentieth of the limit, at least 256, at most
// half of it.
func maxConnectionsFor(limit uint64) int {
	reserve := min(max(limit/20, 256), limit/2)
	return int(min(limit-reserve, 100_000_000))
}

// into makes a parse function for LoadConfig's set: it stores in *dst
// what parse accepts.
func into[T any](dst *T, parse func(string) (T, bool)) func(string) bool {
	return func(v string) bool {
		x, ok := parse(v)
		if ok {
			*dst = x
		}
		return ok
	}
}

// intIn parses a decimal integer in [lo, hi].
func intIn[T int | int64](lo, hi T) func(string) (T, bool) {
	return func(v string) (T, bool) {
		n, err := strconv.ParseInt(v, 10, 64)
		return T(n), err == nil && n >= int64(lo) && n <= int64(hi)
	}
}

// boolean parses true or false (also 1, 0, t, f, TRUE, FALSE...).
func boolean(v string) (bool, bool) {
	b, err := strconv.ParseBool(v)
	return b, err == nil
}

// adminMode parses the admin UI's mode: true for development.
func adminMode(v string) (bool, bool) {
	switch v {
	case "development":
		return true, true
	case "production":
		return false, true
	}
	return false, false
}

// positiveDuration parses a duration such as 30s that is above zero.
func positiveDuration(v string) (time.Duration, bool) {
	d, err := time.ParseDuration(v)
	return d, err == nil && d > 0
}

// hostPort accepts a listen address such as 127.0.0.1:6060 or :6060.
func hostPort(v string) (string, bool) {
	_, _, err := net.SplitHostPort(v)
	return v, err == nil
}

// logLevel parses debug, info, warn or error (slog's names).
func logLevel(v string) (slog.Level, bool) {
	var l slog.Level
	return l, l.UnmarshalText([]byte(v)) == nil
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

// checkProxy accepts an IP address or a CIDR range, as Gin's
// SetTrustedProxies does, so a typo stops the start.
func checkProxy(p string) error {
	if _, _, err := net.ParseCIDR(p); err == nil || net.ParseIP(p) != nil {
		return nil
	}
	return fmt.Errorf("%q is neither an IP address nor a CIDR range like 10.0.0.0/8", p)
}

// LogValue renders the config for the start-up log with secrets masked.
func (c Config) LogValue() slog.Value {
	secret := "set"
	if c.GeneratedSecret {
		secret = "generated"
	}
	mongo := "(embedded store)"
	if c.MongoURI != "" {
		mongo = maskURI(c.MongoURI)
	}
	redisURL := "(single process)"
	if c.RedisURL != "" {
		redisURL = maskURI(c.RedisURL)
	}
	gcPercent := "(GOGC)"
	if c.GCPercent > 0 {
		gcPercent = strconv.Itoa(c.GCPercent)
	}
	pprof := "(off)"
	if c.PprofAddr != "" {
		pprof = c.PprofAddr
	}
	metricsAddr := "(off)"
	if c.MetricsAddr != "" {
		metricsAddr = c.MetricsAddr
	}
	admin := slog.StringValue("(off)")
	if c.AdminUsername != "" {
		mode := "production"
		if c.AdminDevelopment {
			mode = "development"
		}
		admin = slog.GroupValue(
			slog.String("username", c.AdminUsername),
			slog.String("password_bcrypt", "set"),
			slog.Bool("readonly", c.AdminReadonly),
			slog.String("mode", mode),
			slog.String("server_id", c.AdminServerID),
		)
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr()),
		slog.Any("cors_origins", c.AllowedOrigins),
		slog.Any("cors_methods", c.AllowedMethods),
		slog.String("data_dir", c.DataDir),
		slog.String("mongodb_uri", mongo),
		slog.String("redis_url", redisURL),
		slog.String("redis_key_prefix", c.RedisKeyPrefix),
		slog.String("redis_adapter", c.RedisAdapter),
		slog.String("redis_stream_name", c.RedisStreamName),
		slog.Int64("redis_stream_maxlen", c.RedisStreamMaxLen),
		slog.String("redis_session_key_prefix", c.RedisSessionKeyPrefix),
		slog.Duration("redis_session_refresh", c.RedisSessionRefresh),
		slog.String("jwt_secret", secret),
		slog.Duration("jwt_ttl", c.JWTTTL),
		slog.Int("bcrypt_cost", c.BcryptCost),
		slog.Int("bcrypt_concurrency", c.BcryptConcurrency),
		slog.Int("login_email_burst", c.LoginEmailBurst),
		slog.Duration("login_email_interval", c.LoginEmailInterval),
		slog.Int("login_address_burst", c.LoginAddressBurst),
		slog.Duration("login_address_interval", c.LoginAddressInterval),
		slog.Int("login_limit_keys", c.LoginLimitKeys),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.Int("posts_per_page", c.PostsPerPage),
		slog.Int64("max_image_bytes", c.MaxImageBytes),
		slog.Int64("max_image_pixels", c.MaxImagePixels),
		slog.Duration("image_sweep_age", c.ImageSweepAge),
		slog.Duration("image_sweep_interval", c.ImageSweepInterval),
		slog.Int("max_title_length", c.MaxTitleLength),
		slog.Int("max_content_length", c.MaxContentLength),
		slog.Int("max_status_length", c.MaxStatusLength),
		slog.Int("recovery_max_packets", c.RecoveryMaxPackets),
		slog.Int("recovery_max_bytes", c.RecoveryMaxBytes),
		slog.Int("recovery_max_sessions", c.RecoveryMaxSessions),
		slog.Int("broadcast_queue", c.BroadcastQueue),
		slog.Int64("socketio_max_queued_bytes", c.SocketMaxQueued),
		slog.Int64("socketio_max_queued_total_bytes", c.SocketMaxQueuedTotal),
		slog.Int("max_connections", c.MaxConnections),
		slog.String("log_level", c.LogLevel.String()),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.String("gc_percent", gcPercent),
		slog.String("pprof_addr", pprof),
		slog.String("metrics_addr", metricsAddr),
		slog.Any("admin_ui", admin),
	)
}

// Addr is the listen address.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// maskURI hides the password of a connection string.
func maskURI(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
