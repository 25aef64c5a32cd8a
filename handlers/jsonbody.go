package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
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

// trimmedField returns the jsTrim'd string value of a body field and
// whether it is a scalar; the trimmed value is what express-validator
// reports after a trim() sanitizer.
func trimmedField(body map[string]any, name string) (string, bool) {
	s, ok := jsString(body[name])
	return jsTrim(s), ok
}
