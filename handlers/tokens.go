package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"feedrt/store"
)

// MinSecretBytes is the shortest HS256 secret Tokens accepts. RFC 7518
// asks for a key at least as long as the hash output (256 bits); shorter
// secrets can be brute-forced from one captured token. It is the one
// statement of the rule: the server's configuration checks JWT_SECRET
// against it too, so a short secret stops the start with the variable's
// name.
const MinSecretBytes = 32

// signingMethod is the only algorithm issued and accepted. Pinning it on
// parse is what stops "alg: none" and RS/HS key-confusion tokens.
var signingMethod = jwt.SigningMethodHS256

// Claims is the payload of an auth token, the same fields jsonwebtoken
// wrote in the Node app, so tokens issued by either back end with the same
// secret work on both.
type Claims struct {
	// Email is the user's (normalised) address.
	Email string `json:"email"`
	// UserID is the user's 24-hex id.
	UserID string `json:"userId"`
	// RegisteredClaims holds iat and exp.
	jwt.RegisteredClaims
}

// UnmarshalJSON reads the claims, refusing time claims (exp, nbf, iat)
// that are not JSON numbers: the JWT library would take "9999999999", a
// string, for a date, where Node's jsonwebtoken refuses the token.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, k := range []string{"exp", "nbf", "iat"} {
		if v, ok := raw[k]; ok && !isJSONNumber(v) {
			return fmt.Errorf("token claim %q is not a number", k)
		}
	}
	type plain Claims // without this method
	return json.Unmarshal(b, (*plain)(c))
}

// isJSONNumber reports whether v, a JSON value, is a number.
func isJSONNumber(v json.RawMessage) bool {
	v = bytes.TrimLeft(v, " \t\r\n")
	return len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9')
}

// Tokens issues and verifies the HS256 JWTs of the API.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewTokens returns a Tokens signing with secret (at least MinSecretBytes
// long; it is copied) and issuing tokens valid for ttl, which must be
// positive: a zero TTL would issue tokens that are expired at once.
func NewTokens(secret []byte, ttl time.Duration) (*Tokens, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("token secret has %d bytes, need at least %d", len(secret), MinSecretBytes)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("token TTL %s, want a positive duration", ttl)
	}
	return &Tokens{secret: append([]byte(nil), secret...), ttl: ttl, now: time.Now}, nil
}

// Issue returns a signed token for the user, expiring after the TTL.
func (t *Tokens) Issue(email string, userID store.ID) (string, error) {
	now := t.now()
	claims := Claims{
		Email:  email,
		UserID: userID.Hex(),
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		},
	}
	s, err := jwt.NewWithClaims(signingMethod, claims).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Parse verifies token (signature, HS256, expiry, which is required) and
// returns its claims. Any failure is an error; the caller answers 401.
func (t *Tokens) Parse(token string) (Claims, error) {
	var claims Claims
	_, err := jwt.ParseWithClaims(token, &claims,
		func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{signingMethod.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return Claims{}, err
	}
	if _, err := store.ParseID(claims.UserID); err != nil {
		return Claims{}, errors.New("token has no valid userId")
	}
	return claims, nil
}

// userIDKey is the gin context key of the authenticated user's id. An
// unexported type cannot collide with any other package's key.
type userIDKey struct{}

// UserID returns the id of the user the request's token belongs to; ok is
// false on routes without the auth middleware.
func UserID(c *gin.Context) (id store.ID, ok bool) {
	v, exists := c.Get(userIDKey{})
	if !exists {
		return store.ID{}, false
	}
	id, ok = v.(store.ID)
	return id, ok
}

// Middleware requires "Authorization: Bearer <token>" and puts the user id
// in the context (read it with UserID). Every failure is 401 "Not
// authenticated.": the Node app answered a bad token with 500, which the
// contract fixes, and the reason is not the client's business.
func (t *Tokens) Middleware(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw, ok := bearer(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", "Bearer")
			Respond(c, log, NewError(http.StatusUnauthorized, "Not authenticated."))
			return
		}
		claims, err := t.Parse(raw)
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer error="invalid_token"`)
			Respond(c, log, &Error{Status: http.StatusUnauthorized, Message: "Not authenticated.", Err: err})
			return
		}
		id, _ := store.ParseID(claims.UserID) // checked by Parse
		c.Set(userIDKey{}, id)
		c.Next()
	}
}

// bearer extracts the token of a Bearer Authorization header; the scheme
// name is case-insensitive (RFC 7235).
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requireUser returns the authenticated user's id. It can only fail if a
// route was registered without the auth middleware, which is a bug.
func requireUser(c *gin.Context) (store.ID, error) {
	id, ok := UserID(c)
	if !ok {
		return store.ID{}, errors.New("handler reached without authentication middleware")
	}
	return id, nil
}
