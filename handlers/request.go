package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"feedrt/store"
)

// MaxJSONBytes caps a JSON request body (express.json() allows 100 kB; a
// little more room costs nothing and no valid body comes near either).
const MaxJSONBytes = 1 << 20

// readJSON decodes the request body as one JSON object, as express.json()
// in strict mode does, into raw field values. An empty body is an empty
// object (the validation then reports every field). Malformed JSON, a
// non-object or trailing data is a 400; a body over MaxJSONBytes comes
// back as the *http.MaxBytesError, which Respond turns into 413.
//
// Gin's ShouldBindJSON is not used: its validator cannot express
// validator.js's rules, and the 422 body must list fields in the
// express-validator shape with the value as the client sent it.
func readJSON(c *gin.Context) (map[string]any, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxJSONBytes)
	dec := json.NewDecoder(c.Request.Body)
	dec.UseNumber() // echo numbers back in error values exactly as sent
	var body map[string]any
	err := dec.Decode(&body)
	if errors.Is(err, io.EOF) {
		return map[string]any{}, nil
	}
	if err == nil && body == nil {
		err = errors.New("body is JSON null")
	}
	if err == nil {
		if extra := dec.Decode(new(json.RawMessage)); !errors.Is(extra, io.EOF) {
			err = errors.New("data after the JSON object")
			if extra != nil {
				err = extra
			}
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, err
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Message: "Invalid JSON body.", Err: err}
	}
	return body, nil
}

// jsString converts a decoded JSON value to the string express-validator's
// validators and sanitizers see: strings as they are, numbers and booleans
// in their text form, a missing field or null as "". Objects and arrays
// have no sensible string form; ok is false for them so they fail
// validation instead of becoming "[object Object]" as in JavaScript.
func jsString(v any) (s string, ok bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	default:
		return "", false
	}
}

// trimmedField returns the jsTrim'd string value of a body field and
// whether it is a scalar; the trimmed value is what express-validator
// reports after a trim() sanitizer.
func trimmedField(body map[string]any, name string) (string, bool) {
	s, ok := jsString(body[name])
	return jsTrim(s), ok
}

// jsTime formats t as JavaScript's Date.prototype.toISOString does, which
// is how mongoose documents render their timestamps in JSON.
func jsTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// parsePage reads the page query parameter: anything but a positive
// integer that fits an int is page 1.
func parsePage(raw string) int {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// pageSkip is (page-1)*perPage, saturating instead of overflowing: a page
// beyond any data is just empty. perPage is positive (Posts.Register).
func pageSkip(page, perPage int) int {
	if page <= 1 {
		return 0
	}
	if page-1 > math.MaxInt/perPage {
		return math.MaxInt
	}
	return (page - 1) * perPage
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
