// Package adminui is the server side of the official Socket.IO Admin UI
// (@socket.io/admin-ui 0.5.x, https://admin.socket.io or its ui/dist
// folder): what the Node plugin's instrument(io, options) adds to a
// socket.io server, written for this library's server.
//
// It adds the admin namespace (/admin) behind the UI's basic
// authentication, sends the UI its config, the server's stats every few
// seconds, and (in development mode) every socket, room change and event,
// and carries out the UI's actions: emit, join, leave, disconnect. Every
// event goes to the admin namespace through its adapter, so in a Redis
// cluster a UI connected to any process sees the sockets and the stats of
// all of them, each process reporting under its own server id, as with
// the Node plugin.
package adminui

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"golang.org/x/crypto/bcrypt"
)

// The UI's feature names (the plugin's typed-events Feature enum): what the
// server supports, which the UI enables its buttons by.
const (
	featureEmit        = "EMIT"
	featureJoin        = "JOIN"
	featureLeave       = "LEAVE"
	featureDisconnect  = "DISCONNECT"
	featureMJoin       = "MJOIN"
	featureMLeave      = "MLEAVE"
	featureMDisconnect = "MDISCONNECT"
	featureAggregated  = "AGGREGATED_EVENTS"
	featureAllEvents   = "ALL_EVENTS"
)

// Options configure the admin namespace. Every field is required unless
// marked otherwise; the feed server fills them from its Config.
type Options struct {
	// Namespace is the admin namespace's name ("/admin" for the UI's
	// default).
	Namespace string
	// Username and PasswordHash are the UI's basic authentication: the
	// PasswordHash is a bcrypt hash ($2a$, $2b$ or $2y$), as the plugin's
	// auth.password.
	Username     string
	PasswordHash string
	// Readonly refuses the UI's actions (emit, join, leave, disconnect).
	Readonly bool
	// Development sends the UI every socket, room change and event (the
	// plugin's "development" mode); without it only the stats go out
	// ("production" mode).
	Development bool
	// ServerID names this process in the UI's server list; processes of
	// one cluster need distinct ids.
	ServerID string
	// StatsInterval is how often server_stats goes out (the plugin: 2 s;
	// the UI marks a server unhealthy after 10 s of silence).
	StatsInterval time.Duration
	// SessionTTL is how long a session id the UI got after a login is
	// accepted in place of the password, and MaxSessions how many are
	// kept at once (the oldest go first).
	SessionTTL  time.Duration
	MaxSessions int
	// MaxCompares bounds the bcrypt comparisons running at once, so a
	// flood of admin logins cannot take every core.
	MaxCompares int
	// Now is the clock (stats timestamps, uptime, session expiry).
	Now func() time.Time
	Log *slog.Logger
}

// Admin is the instrumentation of one Socket.IO server. Close stops it.
type Admin struct {
	io       *socket.Server
	nsp      socket.Namespace
	opts     Options
	features []string
	sessions *sessions
	compares chan struct{} // a token per bcrypt comparison running
	started  time.Time
	hostname string
	pid      int

	mu     sync.Mutex
	nsps   []socket.Namespace // tracked, in creation order
	conns  map[string]int     // Engine.IO connection id → its connected sockets
	buffer eventBuffer        // aggregated events since the last stats

	stop chan struct{}
	done chan struct{} // closed when the stats goroutine has returned
	wg   sync.WaitGroup
}

// Instrument adds the admin namespace to io and starts sending stats.
// Call it before the server serves (namespaces created later are tracked
// too, through the library's new_namespace event).
func Instrument(io *socket.Server, o Options) (*Admin, error) {
	switch {
	case o.Namespace == "" || o.Namespace[0] != '/':
		return nil, fmt.Errorf("adminui: namespace %q must start with /", o.Namespace)
	case o.Username == "":
		return nil, errors.New("adminui: a username is required")
	case o.StatsInterval <= 0 || o.SessionTTL <= 0 || o.MaxSessions <= 0 || o.MaxCompares <= 0:
		return nil, errors.New("adminui: StatsInterval, SessionTTL, MaxSessions and MaxCompares must be positive")
	case o.ServerID == "" || o.Now == nil || o.Log == nil:
		return nil, errors.New("adminui: ServerID, Now and Log are required")
	}
	if _, err := bcrypt.Cost([]byte(o.PasswordHash)); err != nil {
		return nil, fmt.Errorf("adminui: the password must be a valid bcrypt hash: %w", err)
	}
	hostname, _ := os.Hostname()
	a := &Admin{
		io:       io,
		opts:     o,
		sessions: newSessions(o.SessionTTL, o.MaxSessions, o.Now),
		compares: make(chan struct{}, o.MaxCompares),
		started:  o.Now(),
		hostname: hostname,
		pid:      os.Getpid(),
		conns:    map[string]int{},
		buffer:   eventBuffer{counts: map[eventKey]int{}},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if !o.Readonly {
		// This library's server has socketsJoin, socketsLeave and
		// disconnectSockets, so the multi-socket features are there too.
		a.features = []string{featureEmit, featureJoin, featureLeave, featureDisconnect, featureMJoin, featureMLeave, featureMDisconnect}
	}
	a.features = append(a.features, featureAggregated)
	if o.Development {
		a.features = append(a.features, featureAllEvents)
	}

	a.nsp = io.Of(o.Namespace, nil)
	a.nsp.Use(a.authenticate)
	_ = a.nsp.On("connection", a.onAdminConnection)
	a.track(io.Sockets())
	a.track(a.nsp)
	_ = io.Sockets().On("new_namespace", func(args ...any) {
		if n, ok := first[socket.Namespace](args); ok {
			a.track(n)
		}
	})
	go a.runStats()
	return a, nil
}

// Close stops the stats and waits for the admin goroutines to return.
// Close the Socket.IO server after it. Later calls do nothing.
func (a *Admin) Close() {
	a.mu.Lock()
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	a.mu.Unlock()
	<-a.done
	a.wg.Wait()
}

// onAdminConnection greets a UI that passed authenticate: a session id
// when it logged in with the password, its config, then (in development
// mode) every socket.
func (a *Admin) onAdminConnection(args ...any) {
	s, ok := first[*socket.Socket](args)
	if !ok {
		return
	}
	a.registerActions(s)
	// The plugin emits "session" from its middleware, before the CONNECT
	// packet, where the UI (which listens from its connect handler on)
	// misses it; sent now, the UI keeps the id and later reconnects with
	// it instead of the password.
	if id, _ := s.Handshake().Auth["sessionId"].(string); id == "" || !a.sessions.valid(id) {
		_ = s.Emit("session", a.sessions.create())
	}
	_ = s.Emit("config", map[string]any{"supportedFeatures": a.features})
	if a.opts.Development {
		// fetchSockets waits for the other servers of a cluster.
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			_ = s.Emit("all_sockets", a.allSockets())
		}()
	}
}

// first is args[0] as a T.
func first[T any](args []any) (T, bool) {
	var zero T
	if len(args) == 0 {
		return zero, false
	}
	v, ok := args[0].(T)
	return v, ok
}

// timestamp is a time as JavaScript's Date writes itself in JSON.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
