// Package server wires the feed back end together: configuration, the
// store chosen by it, the Gin engine with the REST handlers, the
// real-time engine (server/realtime: Socket.IO, the fan-out, the
// broadcaster), CORS (server/cors), and one http.Server that serves all
// of them.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"feedrt/handlers"
	"feedrt/server/adminui"
	"feedrt/server/cors"
	"feedrt/server/engineio"
	"feedrt/server/metrics"
	"feedrt/server/realtime"
	"feedrt/store"
	"feedrt/store/boltstore"
	"feedrt/store/mongostore"
)

// writeTimeout bounds a response (the other HTTP deadlines are settings,
// cfg.HTTP; none limits WebSockets: net/http clears the read deadline of
// a hijacked connection and the engine sets its own write deadline, a
// test holds both to it). A long-polling GET is held open for up
// to pingInterval and its client may take pingTimeout to come back, so it
// follows them, with room to write the answer.
func writeTimeout(cfg Config) time.Duration {
	return cfg.SocketIO.PingInterval + cfg.SocketIO.PingTimeout + 15*time.Second
}

// Server is the running back end.
type Server struct {
	cfg   Config
	tune  tuning
	log   *slog.Logger
	store store.Store
	io    *socket.Server
	eio   http.Handler // the Engine.IO server, behind the CORS policy
	bc    *realtime.Broadcaster
	http  *http.Server

	cluster clusterAdapter // nil: single process (no REDIS_URL)
	admin   *adminui.Admin // nil: no Admin UI (no ADMIN_USERNAME)
	sweeper *imageSweeper  // removes image files no post references

	metrics *metrics.Metrics // nil: metrics off (no METRICS_ADDR)
	// metricsLn serves them; nil when off. It lives and dies with the
	// Server: bound in New, served once New has succeeded, closed last
	// in Shutdown (scrapes during the graceful stop still get an answer).
	metricsLn *metrics.Listener

	ioClosed chan struct{} // closed once Socket.IO has shut down

	eng   *engineio.Server // under io: its connections count too
	conns connCounter      // net/http's connections

	// decoding bounds the memory of the uploads decoded at once: that
	// of the largest image allowed (MAX_IMAGE_PIXELS at 8 bytes a pixel).
	decoding *handlers.DecodeLimit
}

// New opens the store the config selects and builds the whole server.
// It does not listen yet; call Serve. It builds in steps; each step that
// makes something to release pushes its release on undo, and a failing
// step releases, last first, exactly what the steps before it made.
func New(ctx context.Context, cfg Config, log *slog.Logger, opts ...Option) (_ *Server, err error) {
	o := newTuning(cfg, opts)
	var undo undoStack
	defer func() {
		if err != nil {
			undo.run()
		}
	}()
	var m *metrics.Metrics // nil (every report a no-op) without METRICS_ADDR
	if cfg.Ops.MetricsAddr != "" {
		m = metrics.New(handlers.EventPosts)
	}
	mln, err := m.Listen(cfg.Ops.MetricsAddr, metrics.ListenOptions{ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout, IdleTimeout: cfg.HTTP.IdleTimeout, Log: log})
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	undo.push(func() { _ = mln.Close(context.Background()) })

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	undo.push(func() { _ = st.Close() })
	st = m.Store(st)

	rt := RealtimeOptions(cfg, log, m)
	rt.Now = o.now
	cluster, err := openCluster(cfg, rt, m, log)
	if err != nil {
		return nil, err
	}
	if cluster != nil {
		undo.push(func() { _ = cluster.Close() })
		rt.Adapter = cluster
	}

	sio, err := realtime.New(rt)
	if err != nil {
		return nil, err
	}
	io := sio.IO
	undo.push(func() { io.Close(nil) })
	s := &Server{
		cfg:      cfg,
		tune:     o,
		log:      log,
		store:    st,
		io:       io,
		eio:      sio.Handler,
		eng:      sio.Engine,
		bc:       realtime.NewBroadcaster(func(name string, payload any) { _ = io.Emit(name, payload) }, log, cfg.SocketIO.BroadcastQueue),
		cluster:  cluster,
		ioClosed: make(chan struct{}),
		decoding: handlers.NewDecodeLimit(cfg.Images.MaxPixels * 8),
	}
	undo.push(s.bc.Close)
	s.metrics, s.metricsLn = m, mln
	s.io.On("connection", func(args ...any) {
		if c, ok := args[0].(*socket.Socket); ok {
			log.Debug("socket connected", "id", c.Id(), "recovered", c.Recovered())
		}
	})

	h, err := s.routes(cors.New(cfg.CORS))
	if err != nil {
		return nil, err
	}
	if s.admin, err = startAdminUI(cfg, io, log, o.now); err != nil {
		return nil, err
	}
	undo.push(s.closeAdminUI)

	s.http = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ConnState:         s.conns.track,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Polling clients' connections move to the engine's poller, where it
	// serves their polling requests with net/http's deadlines; every other
	// request on them comes back to s.http.
	s.eng.ServeKeepAlive(engineio.KeepAlive{Server: s.http, Path: cfg.SocketIOPath()})
	m.WatchConnections(s.openConns, int64(cfg.HTTP.MaxConnections))
	m.WatchQueued(s.eng.QueuedBytes)
	// Shutdown closes the listeners first and then runs this; ending the
	// Socket.IO sessions is what lets Shutdown's wait for active
	// long-polling requests finish, and it closes the hijacked WebSockets,
	// which Shutdown does not track.
	s.http.RegisterOnShutdown(func() {
		s.bc.Close()
		s.closeAdminUI()
		s.io.Close(nil)
		close(s.ioClosed)
	})
	s.sweeper = startImageSweeper(handlers.ImageSweep{
		Images: s.images(), Store: st, Age: cfg.Images.SweepAge, Now: o.now,
	}, cfg.Images.SweepInterval, log)
	mln.Serve()
	return s, nil
}

// undoStack is what New has made so far and must release if a later
// step fails, last made first.
type undoStack []func()

func (u *undoStack) push(release func()) { *u = append(*u, release) }

func (u undoStack) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// images is where uploads are stored and served from: under the data dir,
// whichever store holds the posts.
func (s *Server) images() handlers.Images {
	im := handlers.Images{Dir: filepath.Join(s.cfg.Store.DataDir, "images"), MaxBytes: s.cfg.Images.MaxBytes,
		MaxPixels: s.cfg.Images.MaxPixels, Decoding: s.decoding, Log: s.log}
	if s.metrics != nil {
		im.Observer = s.metrics.Images()
	}
	return im
}

// openStore picks the store implementation from the config: MongoDB when
// a URI is set (start-up fails after the driver's bounded server
// selection wait if it cannot be reached), the embedded bbolt file
// otherwise. Uploaded images live under the data dir either way.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (store.Store, error) {
	if err := os.MkdirAll(cfg.Store.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if cfg.Store.MongoURI != "" {
		st, err := mongostore.Open(ctx, cfg.Store.MongoURI, cfg.Store.MongoDB, mongostore.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open MongoDB store at %s: %w", maskURI(cfg.Store.MongoURI), err)
		}
		log.Info("using MongoDB store", "uri", maskURI(cfg.Store.MongoURI))
		return st, nil
	}
	path := filepath.Join(cfg.Store.DataDir, "feed.db")
	st, err := boltstore.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open embedded store %s: %w", path, err)
	}
	log.Info("using embedded store", "path", path)
	return st, nil
}

// routes builds the Gin engine: recovery, request log, CORS, the REST
// handlers and the images, with Socket.IO mounted ahead of it at its path
// (mount).
func (s *Server) routes(policy cors.Policy) (http.Handler, error) {
	tokens, err := handlers.NewTokens([]byte(s.cfg.Auth.JWTSecret), s.cfg.Auth.JWTTTL)
	if err != nil {
		return nil, err
	}
	passwords, err := handlers.NewPasswords(s.cfg.Auth.BcryptCost, s.cfg.Auth.BcryptConcurrency)
	if err != nil {
		return nil, err
	}
	limiter, err := handlers.NewLoginLimiter(handlers.LoginLimits{
		PerEmail:   handlers.FailureLimit{Burst: s.cfg.Auth.LoginEmailBurst, Every: s.cfg.Auth.LoginEmailInterval},
		PerAddress: handlers.FailureLimit{Burst: s.cfg.Auth.LoginAddressBurst, Every: s.cfg.Auth.LoginAddressInterval},
		MaxKeys:    s.cfg.Auth.LoginLimitKeys,
	}, s.tune.now)
	if err != nil {
		return nil, err
	}
	images := s.images()

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = false // Express answers 404 for a wrong method too
	// Gin trusts every proxy unless told: any client could then choose
	// the address it is logged and rate limited as by sending
	// X-Forwarded-For. nil trusts none.
	if err := r.SetTrustedProxies(s.cfg.HTTP.TrustedProxies); err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	if s.metrics != nil {
		r.Use(s.metrics.HTTPMiddleware()) // first: it reads the final status
	}
	r.Use(s.recovery, s.requestLog)

	r.Use(policy.Gin())

	handlers.Health{Store: s.readiness(), Log: s.log}.Register(r)
	handlers.Auth{Store: s.store, Tokens: tokens, Passwords: passwords, Limiter: limiter, MaxStatusLength: s.cfg.Auth.MaxStatusLength, Log: s.log}.Register(r)
	handlers.Posts{
		Store: s.store, Broadcaster: s.bc, Images: images, Tokens: tokens, PerPage: s.cfg.Posts.PerPage,
		MaxTitleLength: s.cfg.Posts.MaxTitleLength, MaxContentLength: s.cfg.Posts.MaxContentLength, Log: s.log,
	}.Register(r)
	images.Register(r)
	r.NoRoute(func(c *gin.Context) {
		handlers.Respond(c, s.log, handlers.NewError(http.StatusNotFound, "Not found."))
	})
	prefix := s.cfg.SocketIOPath()
	for _, route := range r.Routes() {
		if strings.HasPrefix(route.Path, prefix) {
			return nil, fmt.Errorf("SOCKETIO_PATH: %q (SOCKETIO_ADD_TRAILING_SLASH=%v) would take the REST route %s %s",
				s.cfg.SocketIO.Path, s.cfg.SocketIO.AddTrailingSlash, route.Method, route.Path)
		}
	}
	client := loadClientBundle(s.cfg.SocketIO, s.log)
	return mount{prefix: prefix, socketIO: s.eio, rest: r, client: client, clientFiles: policy.EngineIO(client)}, nil
}

// mount sends the requests under the Socket.IO path to the engine (behind
// the CORS policy, answered as Node's engine.io answers) and the rest to
// Gin. The path is a prefix, as in Node: with addTrailingSlash off,
// /socket.io matches /socket.io?EIO=4 and /socket.io/ alike. Gin never
// sees Socket.IO's requests, so its router cannot redirect them, and its
// request log and metrics hold the REST API's only (the engine reports its
// own). The path compared is the one the client sent, as Node compares
// req.url: /socket%2Eio/ is not /socket.io/ (the poller's KeepAlive.Path
// check does the same).
//
// Ahead of both, as socket.io does ahead of its engine, the client
// bundle's names (/socket.io/socket.io.js...) are plain files, behind the
// CORS policy as in Node: served when read at start, else the REST API's
// 404. With SOCKETIO_SERVE_CLIENT off (client nil) they are Engine.IO's.
type mount struct {
	prefix         string
	socketIO, rest http.Handler
	client         *clientBundle
	clientFiles    http.Handler // client behind the CORS policy
}

func (m mount) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if name, ok := m.client.file(path); ok {
		if m.client.loaded(name) {
			m.clientFiles.ServeHTTP(w, r)
		} else {
			m.rest.ServeHTTP(w, r)
		}
		return
	}
	if strings.HasPrefix(path, m.prefix) {
		m.socketIO.ServeHTTP(w, r)
		return
	}
	m.rest.ServeHTTP(w, r)
}

// recovery turns a handler panic into the contract's JSON 500 and a log
// line with the detail, and keeps the process alive.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			handlers.Respond(c, s.log, fmt.Errorf("panic: %v", p))
		}
	}()
	c.Next()
}

// requestLog logs each REST request (Socket.IO's do not reach Gin: see
// mount).
func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.log.Info("request",
		"method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"duration", time.Since(start), "client", c.ClientIP())
}

// SocketIO exposes the Socket.IO server so callers can add namespaces,
// middleware and event handlers.
func (s *Server) SocketIO() *socket.Server { return s.io }

// Serve serves on ln until Shutdown, refusing connections past
// MaxConnections. It returns nil after a Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	ln = &limitListener{Listener: ln, max: int64(s.cfg.HTTP.MaxConnections), open: s.openConns,
		refused: s.metrics.ConnectionRefused, log: s.log}
	if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openConns is the number of client connections open now.
func (s *Server) openConns() int64 { return s.conns.n.Load() + s.eng.PollerConns() }

// Shutdown stops accepting connections, closes every Socket.IO session
// (clients see a transport close and reconnect elsewhere), waits for
// in-flight requests until ctx ends, stops the image sweep, closes the
// store, and last stops the metrics listener.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.sweeper.stop()
	select {
	case <-s.ioClosed:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("socket.io close: %w", ctx.Err()))
	}
	if cerr := s.closeCluster(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close redis: %w", cerr))
	}
	if cerr := s.store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	if cerr := s.metricsLn.Close(ctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close metrics listener: %w", cerr))
	}
	return err
}

// MetricsAddr is the address the metrics listener is bound to (with
// METRICS_ADDR's port 0, the one the system chose); "" when metrics are
// off.
func (s *Server) MetricsAddr() string { return s.metricsLn.Addr() }
