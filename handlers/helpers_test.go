package handlers

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"feedrt/store"
	"feedrt/store/boltstore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenDir holds the expected success bodies and event payloads.
const goldenDir = "../testdata/golden"

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
	users  map[string]store.User // by name: alice, bob
	posts  map[string]store.Post // by name: alice1, bob1, alice2
	labels map[string]string     // hex id -> placeholder in normalised JSON
}

// newEnv builds the engine with the real store; wrap, if not nil, lets a
// test put a failing layer between the handlers and the store.
func newEnv(t *testing.T, wrap func(*boltstore.Store) interface {
	UserStore
	PostStore
}) *env {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "feed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	tokens, err := NewTokens(testSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		t: t, store: st, tokens: tokens, bc: &recorder{},
		images: Images{Dir: filepath.Join(t.TempDir(), "images"), MaxBytes: 64 << 10, Log: testLog()},
		users:  map[string]store.User{}, posts: map[string]store.Post{}, labels: map[string]string{},
	}
	var s interface {
		UserStore
		PostStore
	} = st
	if wrap != nil {
		s = wrap(st)
	}
	r := gin.New()
	Auth{Store: s, Tokens: tokens, BcryptCost: bcrypt.MinCost, Log: testLog()}.Register(r)
	Posts{Store: s, Broadcaster: e.bc, Images: e.images, Tokens: tokens, PerPage: 2, Log: testLog()}.Register(r)
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

// body is a request body with its Content-Type.
type body struct {
	contentType string
	data        []byte
}

// jsonBody is a JSON request body given as text.
func jsonBody(s string) body { return body{"application/json", []byte(s)} }

// upload is one file part of a multipart body.
type upload struct {
	field, filename, contentType string
	data                         []byte
}

func file(field, filename, contentType string, data []byte) *upload {
	return &upload{field, filename, contentType, data}
}

// form builds a multipart body from text fields and an optional file.
func form(fields map[string]string, f *upload) body {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		_ = w.WriteField(k, fields[k])
	}
	if f != nil {
		h := textproto.MIMEHeader{}
		// Written by hand: CreateFormFile would escape nothing either,
		// but this keeps the raw client file name in the test visible.
		h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+f.filename+`"`)
		h.Set("Content-Type", f.contentType)
		part, _ := w.CreatePart(h)
		_, _ = part.Write(f.data)
	}
	_ = w.Close()
	return body{w.FormDataContentType(), buf.Bytes()}
}

// do sends one request through the engine as the given caller.
func (e *env) do(method, url, caller string, b body) *httptest.ResponseRecorder {
	e.t.Helper()
	var r io.Reader = http.NoBody
	if b.data != nil {
		r = bytes.NewReader(b.data)
	}
	req := httptest.NewRequestWithContext(e.t.Context(), method, url, r)
	if b.contentType != "" {
		req.Header.Set("Content-Type", b.contentType)
	}
	if auth := e.token(caller); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	return w
}

// imageFiles lists the images directory.
func (e *env) imageFiles() []string {
	e.t.Helper()
	entries, err := os.ReadDir(e.images.Dir)
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	var names []string
	for _, de := range entries {
		names = append(names, de.Name())
	}
	return names
}

// fileOf is the image file name of a stored post.
func fileOf(p store.Post) string { return strings.TrimPrefix(p.ImageURL, imageURLPrefix) }

var (
	hexID       = regexp.MustCompile(`^[0-9a-f]{24}$`)
	isoTime     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	jwtText     = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)
	genImageURL = regexp.MustCompile(`^images/[0-9a-f]{32}(\.png|\.jpg|\.webp)$`)
)

// normalize replaces what differs between runs in a decoded JSON value:
// ids by their labels (or <id>), times, tokens and generated file names.
// It checks their format on the way, so a placeholder always stands for a
// well-formed value.
func (e *env) normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = e.normalize(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = e.normalize(x)
		}
		return out
	case string:
		switch {
		case hexID.MatchString(v):
			if l, ok := e.labels[v]; ok {
				return l
			}
			return "<id>"
		case isoTime.MatchString(v):
			return "<time>"
		case jwtText.MatchString(v):
			return "<token>"
		case genImageURL.MatchString(v):
			return "images/<generated>" + genImageURL.FindStringSubmatch(v)[1]
		}
	}
	return v
}

// normalized decodes JSON and normalises it, re-encoded with indentation.
func (e *env) normalized(data []byte) []byte {
	e.t.Helper()
	var v any
	mustUnmarshal(e.t, data, &v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep the <placeholders> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(e.normalize(v)); err != nil {
		e.t.Fatal(err)
	}
	return out.Bytes()
}

// checkGolden compares normalised JSON with testdata/golden/<name>.json,
// or rewrites the file with -update.
func (e *env) checkGolden(name string, data []byte) {
	e.t.Helper()
	got := e.normalized(data)
	path := filepath.Join(goldenDir, name+".json")
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			e.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatalf("golden %s: %v (run with -update to create it)", name, err)
	}
	if !bytes.Equal(got, want) {
		e.t.Errorf("%s differs from golden file %s\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// checkJSON compares a body with expected JSON text after normalisation.
func (e *env) checkJSON(got []byte, want string) {
	e.t.Helper()
	if g, w := e.normalized(got), e.normalized([]byte(want)); !bytes.Equal(g, w) {
		e.t.Errorf("body:\n%s\nwant:\n%s", g, w)
	}
}

func mustUnmarshal(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
}
