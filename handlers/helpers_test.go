package handlers

import (
	"flag"
	"github.com/golang-jwt/jwt/v5"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"feedrt/store"
	"feedrt/store/boltstore"
	"feedrt/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenDir holds the expected success bodies and event payloads.
const goldenDir = "../testdata/golden"

// Length caps of the test server, small so a test can cross them.
const (
	testMaxTitle   = 40
	testMaxContent = 300
	testMaxStatus  = 30
)

// testTokenTTL is how long the test server's tokens live (the Node app's
// hour, the server's default).
const testTokenTTL = time.Hour

// testSecret signs the tokens of the tests; otherSecret forges them.
var (
	testSecret  = []byte("test-secret-test-secret-test-secret!")
	otherSecret = []byte("another-secret-another-secret-another")
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	flag.Parse()
	os.Exit(m.Run())
}

// testLog discards unless the tests run with -v.
func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// recorded is one Broadcast call.
type recorded struct {
	event   string
	payload any
}

// recorder is a Broadcaster that remembers what it was asked to send.
type recorder struct {
	mu     sync.Mutex
	events []recorded
}

func (r *recorder) Broadcast(event string, payload any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, recorded{event, payload})
}

// take returns and forgets the recorded events.
func (r *recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

// env is one isolated server: its own bolt file, images directory and
// recorder, so tests can run in parallel and in any order.
type env struct {
	t      *testing.T
	engine *gin.Engine
	store  *boltstore.Store
	tokens *Tokens
	bc     *recorder
	images Images
	// imageCount is images's Observer.
	imageCount *imageCounter
	users      map[string]store.User // by name: alice, bob
	posts      map[string]store.Post // by name: alice1, bob1, alice2
	labels     map[string]string     // hex id -> placeholder in normalised JSON

	// passwords is the bcrypt cap of the auth routes, two at a time.
	passwords *Passwords
	// limiter limits failed logins, on clock.
	limiter *LoginLimiter
	clock   *storetest.Clock
}

// testLimits are the login limits of newEnv, loose enough for the tables.
var testLimits = LoginLimits{
	PerAddress: FailureLimit{Burst: 50, Every: 2 * time.Second},
	PerEmail:   FailureLimit{Burst: 10, Every: 10 * time.Second},
	MaxKeys:    1000,
}

// newEnv builds the engine with the real store; wrap, if not nil, lets a
// test put a failing layer between the handlers and the store.
func newEnv(t *testing.T, wrap func(*boltstore.Store) interface {
	UserStore
	PostStore
}) *env {
	t.Helper()
	return newEnvLimits(t, wrap, testLimits)
}

// newEnvLimits is newEnv with the given login limits.
func newEnvLimits(t *testing.T, wrap func(*boltstore.Store) interface {
	UserStore
	PostStore
}, limits LoginLimits) *env {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "feed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	tokens, err := NewTokens(testSecret, testTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	passwords, err := NewPasswords(bcrypt.MinCost, 2)
	if err != nil {
		t.Fatal(err)
	}
	clock := storetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	limiter, err := NewLoginLimiter(limits, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	count := &imageCounter{}
	e := &env{
		t: t, store: st, tokens: tokens, passwords: passwords, limiter: limiter, clock: clock, bc: &recorder{},
		images: Images{Dir: filepath.Join(t.TempDir(), "images"), MaxBytes: 64 << 10, MaxPixels: testMaxPixels,
			Decoding: NewDecodeLimit(testMaxPixels * 8), Log: testLog(), Observer: count},
		imageCount: count,
		users:      map[string]store.User{}, posts: map[string]store.Post{}, labels: map[string]string{},
	}
	var s interface {
		UserStore
		PostStore
	} = st
	if wrap != nil {
		s = wrap(st)
	}
	r := gin.New()
	Auth{Store: s, Tokens: tokens, Passwords: e.passwords, Limiter: limiter, MaxStatusLength: testMaxStatus, Log: testLog()}.Register(r)
	Posts{
		Store: s, Broadcaster: e.bc, Images: e.images, Tokens: tokens, PerPage: 2,
		MaxTitleLength: testMaxTitle, MaxContentLength: testMaxContent, Log: testLog(),
	}.Register(r)
	e.images.Register(r)
	r.NoRoute(func(c *gin.Context) { Respond(c, testLog(), NewError(http.StatusNotFound, "Not found.")) })
	e.engine = r
	return e
}

// seed stores alice and bob (bob signed up in the Node app as
// "Bob.Smith+news@googlemail.com", so he is stored normalised) and three
// posts, created through the API so their image files exist: alice1,
// bob1, alice2, oldest first.
func (e *env) seed() *env {
	e.t.Helper()
	for _, u := range []struct{ key, email, name string }{
		{"alice", "alice@example.com", "Alice"},
		{"bob", "bobsmith@gmail.com", "Bob"},
	} {
		hash, err := bcrypt.GenerateFromPassword([]byte("secret1"), bcrypt.MinCost)
		if err != nil {
			e.t.Fatal(err)
		}
		user := store.User{Email: u.email, Password: string(hash), Name: u.name}
		if err := e.store.CreateUser(e.t.Context(), &user); err != nil {
			e.t.Fatal(err)
		}
		e.users[u.key] = user
		e.labels[user.ID.Hex()] = "<" + u.key + ">"
	}
	for _, p := range []struct{ key, user string }{{"alice1", "alice"}, {"bob1", "bob"}, {"alice2", "alice"}} {
		body := form(map[string]string{"title": "Title of " + p.key, "content": "Content of " + p.key},
			file("image", "photo.png", "image/png", pngBytes(2, 2)))
		w := e.do("POST", "/feed/post", p.user, body)
		if w.Code != http.StatusCreated {
			e.t.Fatalf("seed %s: %d %s", p.key, w.Code, w.Body)
		}
		var resp struct{ Post PostView }
		mustUnmarshal(e.t, w.Body.Bytes(), &resp)
		id, _ := store.ParseID(resp.Post.ID)
		post, err := e.store.PostByID(e.t.Context(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		e.posts[p.key] = post
		e.labels[post.ID.Hex()] = "<" + p.key + ">"
	}
	e.bc.take()
	return e
}

// token returns the Authorization header value for a kind of caller.
func (e *env) token(kind string) string {
	e.t.Helper()
	sign := func(method jwtMethod, key any, claims Claims) string {
		s, err := newJWT(method, claims).SignedString(key)
		if err != nil {
			e.t.Fatal(err)
		}
		return "Bearer " + s
	}
	now := time.Now()
	claimsFor := func(id store.ID, exp time.Time) Claims {
		return Claims{Email: "x@example.com", UserID: id.Hex(), RegisteredClaims: registered(now, exp)}
	}
	switch kind {
	case "":
		return ""
	case "ghost": // well signed, but no such user
		return sign(hs256, testSecret, claimsFor(store.NewID(), now.Add(time.Hour)))
	case "expired":
		return sign(hs256, testSecret, claimsFor(e.users["alice"].ID, now.Add(-time.Minute)))
	case "forged":
		return sign(hs256, otherSecret, claimsFor(e.users["alice"].ID, now.Add(time.Hour)))
	case "none":
		return sign(algNone, noneKey, claimsFor(e.users["alice"].ID, now.Add(time.Hour)))
	case "hs512":
		return sign(hs512, testSecret, claimsFor(e.users["alice"].ID, now.Add(time.Hour)))
	case "noexp":
		return sign(hs256, testSecret, Claims{UserID: e.users["alice"].ID.Hex()})
	case "stringexp", "stringnbf", "stringiat", "nullexp": // time claims that are not numbers
		claims := jwt.MapClaims{"email": "x@example.com", "userId": e.users["alice"].ID.Hex(), "exp": now.Add(time.Hour).Unix()}
		switch kind {
		case "stringexp":
			claims["exp"] = "9999999999"
		case "stringnbf":
			claims["nbf"] = "1"
		case "stringiat":
			claims["iat"] = strconv.FormatInt(now.Unix(), 10)
		case "nullexp":
			claims["exp"] = nil
		}
		s, err := jwt.NewWithClaims(hs256, claims).SignedString(testSecret)
		if err != nil {
			e.t.Fatal(err)
		}
		return "Bearer " + s
	case "garbage":
		return "Bearer not.a.jwt"
	case "basic":
		return "Basic YWxpY2U6c2VjcmV0MQ=="
	case "empty-bearer":
		return "Bearer "
	}
	u, ok := e.users[kind]
	if !ok {
		e.t.Fatalf("unknown token kind %q", kind)
	}
	s, err := e.tokens.Issue(u.Email, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return "Bearer " + s
}
