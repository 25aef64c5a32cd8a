package adminui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"golang.org/x/crypto/bcrypt"
)

// errInvalidCredentials is the plugin's refusal, word for word: the UI
// shows its login form again when a connect_error carries this message.
const errInvalidCredentials = "invalid credentials"

// authenticate is the admin namespace's middleware, the plugin's basic
// authentication: a session id the server handed out earlier, or the
// username and password (compared with the bcrypt hash).
//
// Unlike the plugin, a wrong username costs a bcrypt comparison too, so
// the time a refusal takes does not tell whether the username was right.
func (a *Admin) authenticate(s *socket.Socket, next func(*socket.ExtendedError)) {
	auth := s.Handshake().Auth
	if id, _ := auth["sessionId"].(string); id != "" && a.sessions.valid(id) {
		next(nil)
		return
	}
	username, _ := auth["username"].(string)
	password, _ := auth["password"].(string)
	userOK := subtle.ConstantTimeCompare([]byte(username), []byte(a.opts.Username)) == 1
	a.compares <- struct{}{}
	passOK := bcrypt.CompareHashAndPassword([]byte(a.opts.PasswordHash), []byte(password)) == nil
	<-a.compares
	if userOK && passOK {
		next(nil)
		return
	}
	a.opts.Log.Warn("admin UI login refused", "address", s.Handshake().Address)
	next(socket.NewExtendedError(errInvalidCredentials, nil))
}

// sessions are the session ids handed to logged-in UIs, so that a UI
// reconnecting (after a network drop, or a page reload) need not send the
// password again. They live in this process only, as with the plugin's
// InMemoryStore: a UI that reconnects to another process of a cluster
// logs in again.
type sessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	expires map[string]time.Time
	order   []string // ids in creation order, for evicting the oldest
}

func newSessions(ttl time.Duration, max int, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, max: max, now: now, expires: map[string]time.Time{}}
}

// create makes a new session id (8 random bytes in hex, as the plugin's).
func (ss *sessions) create() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms
	id := hex.EncodeToString(b[:])
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	// Drop the expired and, past max, the oldest.
	for len(ss.order) > 0 {
		oldest := ss.order[0]
		if exp, ok := ss.expires[oldest]; ok && now.Before(exp) && len(ss.expires) < ss.max {
			break
		}
		delete(ss.expires, oldest)
		ss.order = ss.order[1:]
	}
	ss.expires[id] = now.Add(ss.ttl)
	ss.order = append(ss.order, id)
	return id
}

// valid reports whether id was handed out and has not expired.
func (ss *sessions) valid(id string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	exp, ok := ss.expires[id]
	return ok && ss.now().Before(exp)
}
