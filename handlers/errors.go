package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"feedrt/store"
)

// FieldError is one failing field of a validation error, in the shape
// express-validator produces, so front ends that show it keep working.
type FieldError struct {
	Type     string `json:"type"`
	Path     string `json:"path"`
	Msg      string `json:"msg"`
	Value    any    `json:"value"`
	Location string `json:"location"`
}

// Error is an error with the HTTP status and message a client should see.
// Handlers return or attach it; Respond turns it into JSON.
type Error struct {
	Status  int
	Message string
	Data    []FieldError
	// Err is the cause, logged for 5xx answers only, never sent.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// NewError builds an Error with no field details.
func NewError(status int, message string) *Error {
	return &Error{Status: status, Message: message}
}

// errorBody is the one JSON shape of every error answer.
type errorBody struct {
	Message string       `json:"message"`
	Data    []FieldError `json:"data"`
}

const tooLargeMessage = "Request body too large."

// notFoundKey is the gin context key of the resource-specific 404 message.
type notFoundKey struct{}

// notFoundAs is a middleware that makes Respond answer store.ErrNotFound
// with message (the Node app says "Could not find post." on feed routes and
// "User not found." on status routes), so handlers just return the store's
// error and the mapping stays in Respond.
func notFoundAs(message string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(notFoundKey{}, message)
		c.Next()
	}
}

// notFoundMessage is the 404 message set by notFoundAs, or a generic one.
func notFoundMessage(c *gin.Context) string {
	if v, ok := c.Get(notFoundKey{}); ok {
		if m, ok := v.(string); ok {
			return m
		}
	}
	return "Not found."
}

// validationError is the contract's 422 with the failing fields.
func validationError(message string, fields []FieldError) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Message: message, Data: fields}
}

// fieldError is one express-validator-shaped entry for a body field.
func fieldError(path, msg string, value any) FieldError {
	return FieldError{Type: "field", Path: path, Msg: msg, Value: value, Location: "body"}
}

// orDiscard returns l, or a logger that drops everything if l is nil, so a
// zero-valued dependency struct cannot panic on its first 5xx.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Respond writes err as the contract's `{message, data}` JSON and aborts
// the request. It is the only place that maps errors to HTTP status:
// *Error carries its own, a body over its http.MaxBytesReader limit is
// 413, store sentinels map to fixed ones (ErrNotFound's message depends on
// the route group, see notFoundAs), anything else is a 500 whose detail
// goes to the log only (log may be nil: nothing is logged).
func Respond(c *gin.Context, log *slog.Logger, err error) {
	var e *Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &tooBig):
		e = &Error{Status: http.StatusRequestEntityTooLarge, Message: tooLargeMessage, Err: err}
	case errors.Is(err, store.ErrNotFound):
		e = &Error{Status: http.StatusNotFound, Message: notFoundMessage(c), Err: err}
	case errors.Is(err, store.ErrConflict):
		e = &Error{Status: http.StatusConflict, Message: "Conflict.", Err: err}
	case errors.Is(err, store.ErrUnavailable):
		e = &Error{Status: http.StatusServiceUnavailable, Message: "Service unavailable, try again later.", Err: err}
	default:
		e = &Error{Status: http.StatusInternalServerError, Message: "An internal error occurred.", Err: err}
	}
	if e.Status >= 500 {
		log = orDiscard(log)
		log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "status", e.Status, "err", e.Error())
	}
	data := e.Data
	if data == nil {
		data = []FieldError{}
	}
	c.AbortWithStatusJSON(e.Status, errorBody{Message: e.Message, Data: data})
}
