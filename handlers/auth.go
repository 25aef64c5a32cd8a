package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"feedrt/store"
)

// Messages of the auth routes, as the Node app sent them.
const (
	msgValidationFailed = "Validation failed."
	msgInvalidValue     = "Invalid value"
	msgInvalidEmail     = "Please enter a valid email."
	msgEmailTaken       = "E-Mail address already exists!"
	msgUserNotFound     = "User not found."
	msgPasswordTooLong  = "Password must be at most 72 bytes."
	msgTooManyLogins    = "Too many failed login attempts, try again later."
)

// maxPasswordBytes is the longest password bcrypt reads; it ignores the
// rest, so a longer one is refused at signup rather than silently cut.
const maxPasswordBytes = 72

// UserStore is the part of store.Store the auth routes use.
// Its methods behave as documented on store.Store.
type UserStore interface {
	// CreateUser stores u; ErrConflict if the e-mail is taken.
	CreateUser(ctx context.Context, u *store.User) error
	// UserByEmail finds a user by normalised e-mail.
	UserByEmail(ctx context.Context, email string) (store.User, error)
	// UserByID finds a user by id.
	UserByID(ctx context.Context, id store.ID) (store.User, error)
	// UpdateUserStatus sets a user's status.
	UpdateUserStatus(ctx context.Context, id store.ID, status string) error
}

// Auth serves sign-up, login and the user's status.
type Auth struct {
	// Store keeps the users (required).
	Store UserStore
	// Tokens issues login tokens and guards the status routes (required).
	Tokens *Tokens
	// MaxStatusLength caps a status, in JavaScript characters after
	// trimming (required).
	MaxStatusLength int
	// Passwords hashes and checks passwords under the bcrypt cap (required).
	Passwords *Passwords
	// Limiter limits failed logins per client address and e-mail
	// (required). The address is gin's ClientIP, so the engine's trusted
	// proxies decide whether X-Forwarded-For counts.
	Limiter *LoginLimiter
	// Log receives the detail of 5xx answers (nil: discarded).
	Log *slog.Logger
}

// Register mounts PUT /auth/signup, POST /auth/login and GET/PATCH
// /auth/status (the last two behind the token middleware).
func (a Auth) Register(r gin.IRouter) {
	if a.Tokens == nil {
		panic("handlers: Auth.Tokens is nil")
	}
	if a.MaxStatusLength < 1 {
		panic("handlers: Auth.MaxStatusLength must be at least 1")
	}
	if a.Passwords == nil {
		panic("handlers: Auth.Passwords is nil")
	}
	if a.Limiter == nil {
		panic("handlers: Auth.Limiter is nil")
	}
	if a.Store == nil {
		panic("handlers: Auth.Store is nil")
	}
	g := r.Group("/auth")
	g.PUT("/signup", a.signup)
	g.POST("/login", a.login)
	status := g.Group("/status", a.Tokens.Middleware(a.Log), notFoundAs(msgUserNotFound))
	status.GET("", a.getStatus)
	status.PATCH("", a.updateStatus)
}

// signupResponse is the 201 body of PUT /auth/signup.
type signupResponse struct {
	Message string `json:"message"`
	UserID  string `json:"userId"`
}

// signup validates like the Node app's express-validator chain (every
// failing field is reported, in body order email, password, name), then
// stores the user with the normalised address and a bcrypt hash.
func (a Auth) signup(c *gin.Context) {
	body, err := readJSON(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	var fields []FieldError
	rawEmail := body["email"]
	email, emailOK := jsString(rawEmail)
	norm, normOK := normalizeEmail(email)
	switch {
	case !emailOK || !isEmail(email) || !normOK:
		fields = append(fields, fieldError("email", msgInvalidEmail, rawEmail))
	default:
		// A courtesy check so the usual case reports all fields at once;
		// the store's unique index (ErrConflict below) is what decides.
		_, err := a.Store.UserByEmail(c.Request.Context(), norm)
		switch {
		case err == nil:
			fields = append(fields, fieldError("email", msgEmailTaken, rawEmail))
		case !errors.Is(err, store.ErrNotFound):
			a.fail(c, err)
			return
		}
	}
	password, ok := trimmedField(body, "password")
	switch {
	case !ok || jsLen(password) < 5:
		fields = append(fields, fieldError("password", msgInvalidValue, password))
	case len(password) > maxPasswordBytes:
		// Refused, not pre-hashed (e.g. SHA-256 then bcrypt): the Node app
		// shares the users collection during a migration and hashes the
		// plain password with bcryptjs, so a pre-hashed one would not
		// verify there.
		fields = append(fields, fieldError("password", msgPasswordTooLong, password))
	}
	name, ok := trimmedField(body, "name")
	if !ok || name == "" {
		fields = append(fields, fieldError("name", msgInvalidValue, name))
	}
	if len(fields) > 0 {
		a.fail(c, validationError(msgValidationFailed, fields))
		return
	}

	hash, err := a.Passwords.Hash(c.Request.Context(), password)
	if err != nil {
		a.fail(c, fmt.Errorf("hash password: %w", err))
		return
	}
	u := store.User{Email: norm, Password: string(hash), Name: name}
	if err := a.Store.CreateUser(c.Request.Context(), &u); err != nil {
		if errors.Is(err, store.ErrConflict) { // a concurrent sign-up won
			err = validationError(msgValidationFailed, []FieldError{fieldError("email", msgEmailTaken, rawEmail)})
		}
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, signupResponse{Message: "User created!", UserID: u.ID.Hex()})
}

// loginResponse is the 200 body of POST /auth/login.
type loginResponse struct {
	Token  string `json:"token"`
	UserID string `json:"userId"`
}

// login checks the password of the user with the normalised address. It
// normalises exactly as signup did (the Node app did not, so mixed-case
// logins failed there). It also trims address and password: signup
// accepted no address with blanks around it and hashed the trimmed
// password, so trimming can only turn a certain failure into a success.
//
// Failed logins (401) are limited per client address and per e-mail; past
// the limit it answers 429 with Retry-After, before any bcrypt work.
func (a Auth) login(c *gin.Context) {
	body, err := readJSON(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	email, ok := jsString(body["email"])
	email = jsTrim(email) // stored addresses never have blanks around them
	norm, normOK := normalizeEmail(email)
	if !ok || !normOK || email == "" {
		norm = "" // no account can have it
	}
	attempt, wait, ok := a.Limiter.begin(c.ClientIP(), norm)
	if !ok {
		c.Header("Retry-After", strconv.Itoa(int(max(1, math.Ceil(wait.Seconds())))))
		a.fail(c, NewError(http.StatusTooManyRequests, msgTooManyLogins))
		return
	}
	var failed bool // only a 401 is a failure; a 5xx or panic is not
	defer func() { attempt.end(failed) }()
	password, _ := trimmedField(body, "password")
	u, err := a.authenticate(c.Request.Context(), norm, password)
	var e *Error
	failed = errors.As(err, &e) && e.Status == http.StatusUnauthorized
	if err != nil {
		a.fail(c, err)
		return
	}
	token, err := a.Tokens.Issue(u.Email, u.ID)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, loginResponse{Token: token, UserID: u.ID.Hex()})
}

// authenticate returns the user with address norm if password is theirs,
// else a 401 Error. An address with no account costs a bcrypt comparison
// too, so the answer's timing does not tell whether the account exists;
// "" (an address no account can have) does not: it tells nothing the
// client did not know.
func (a Auth) authenticate(ctx context.Context, norm, password string) (store.User, error) {
	notFound := NewError(http.StatusUnauthorized, "A user with this email could not be found.")
	if norm == "" {
		return store.User{}, notFound
	}
	u, err := a.Store.UserByEmail(ctx, norm)
	if errors.Is(err, store.ErrNotFound) {
		if err := a.Passwords.CompareUnknown(ctx, password); err != nil {
			return store.User{}, err
		}
		return store.User{}, notFound
	}
	if err != nil {
		return store.User{}, err
	}
	err = a.Passwords.Compare(ctx, u.Password, password)
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return store.User{}, NewError(http.StatusUnauthorized, "Wrong password!")
	}
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// getStatus answers the authenticated user's status.
func (a Auth) getStatus(c *gin.Context) {
	id, err := requireUser(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	u, err := a.Store.UserByID(c.Request.Context(), id)
	if err != nil {
		a.fail(c, err) // ErrNotFound: "User not found." (notFoundAs)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": u.Status})
}

// updateStatus sets the authenticated user's status to the trimmed value;
// a blank one (the Node app stored "") or one past MaxStatusLength is a 422.
func (a Auth) updateStatus(c *gin.Context) {
	id, err := requireUser(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	body, err := readJSON(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	status, ok := trimmedField(body, "status")
	if !ok || status == "" || jsLen(status) > a.MaxStatusLength {
		a.fail(c, validationError(msgValidationFailed, []FieldError{fieldError("status", msgInvalidValue, status)}))
		return
	}
	if err := a.Store.UpdateUserStatus(c.Request.Context(), id, status); err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"message": "User updated."})
}

// fail answers err through Respond, the one error-to-status mapping.
func (a Auth) fail(c *gin.Context, err error) { Respond(c, a.Log, err) }
